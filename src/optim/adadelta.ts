/** Adadelta (torch.optim.Adadelta). */
import type { Tensor } from '../tensor/tensor.js';
import { checkEps, checkLr, checkNonNegative, pyNumber } from './check.js';
import { adadeltaStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of Adadelta (PyTorch's arguments in camelCase; see the defaults). */
export interface AdadeltaOptions extends OptimizerOptions {
  /** Scale applied to the delta (default 1.0). */
  lr: number;
  /** Running-average coefficient of the squared gradients and deltas (default 0.9). */
  rho: number;
  /** Added inside the square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for Adadelta (`new optim.Adadelta(params, { ...overrides })` fills in the rest). */
export const ADADELTA_DEFAULTS: AdadeltaOptions = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };

/** Adadelta's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface AdadeltaState {
  step: number;
  /** Running average of the squared gradient. */
  squareAvg: Tensor;
  /** Running average of the squared delta. */
  accDelta: Tensor;
}

function checkAdadelta(o: AdadeltaOptions): AdadeltaOptions {
  checkLr(o.lr);
  if (!(o.rho >= 0 && o.rho <= 1)) throw new RangeError(`Invalid rho value: ${pyNumber(o.rho)}`);
  checkEps(o.eps);
  checkNonNegative('weight_decay', o.weightDecay);
  return o;
}

/**
 * One Adadelta step over flat arrays, in place (`_single_tensor_adadelta`):
 * ```
 * g = ±grad + wd·p
 * sq = ρ·sq + (1 − ρ)·g²
 * delta = √(acc + eps) / √(sq + eps) · g
 * acc = ρ·acc + (1 − ρ)·delta²;   p = p − lr·delta
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * adadeltaUpdate(param, grad, new Float64Array(1), new Float64Array(1), ADADELTA_DEFAULTS);
 */
export function adadeltaUpdate(param: FloatArray, grad: FloatArray, squareAvg: FloatArray, accDelta: FloatArray, o: AdadeltaOptions): void {
  const { lr, rho, eps, weightDecay, maximize } = o;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    const sq = squareAvg[i]! * rho + (1 - rho) * g * g;
    squareAvg[i] = sq;
    const std = Math.sqrt(sq + eps);
    const delta = (Math.sqrt(accDelta[i]! + eps) / std) * g;
    accDelta[i] = accDelta[i]! * rho + (1 - rho) * delta * delta;
    param[i] = param[i]! + -lr * delta;
  }
}

/**
 * Adadelta (Zeiler, arXiv:1212.5701); follows torch.optim.Adadelta (lr scales the delta,
 * default 1.0).
 * @example
 * const opt = new optim.Adadelta(model.parameters(), { rho: 0.95 });
 */
export class Adadelta extends Optimizer<AdadeltaOptions, AdadeltaState> {
  constructor(params: ParamsArg<AdadeltaOptions>, options: Partial<AdadeltaOptions> = {}) {
    super(params, { ...ADADELTA_DEFAULTS, ...options });
  }

  protected override checkOptions(o: AdadeltaOptions): AdadeltaOptions {
    return checkAdadelta(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdadeltaState | undefined, o: ParamGroup<AdadeltaOptions>): AdadeltaState {
    if (onDevice(p, grad)) return adadeltaStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, squareAvg: stateZeros(p), accDelta: stateZeros(p) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.squareAvg, state.accDelta], (param, sq, acc) => adadeltaUpdate(param, g, sq, acc, o));
    return state;
  }
}
