/** Rprop, resilient backpropagation (torch.optim.Rprop). */
import type { Tensor } from '../tensor/tensor.js';
import { checkLr, pyNumber } from './check.js';
import { onDevice, rpropStepOnDevice } from './device-step.js';
import { readFloats, stateFull, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of Rprop (PyTorch's arguments in camelCase; see the defaults). */
export interface RpropOptions extends OptimizerOptions {
  /** Initial step size (default 1e-2). */
  lr: number;
  /** Multiplicative decrease and increase factors [etaminus, etaplus] (default [0.5, 1.2]). */
  etas: readonly [number, number];
  /** Minimal and maximal step sizes (default [1e-6, 50]). */
  stepSizes: readonly [number, number];
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for Rprop (`new optim.Rprop(params, { ...overrides })` fills in the rest). */
export const RPROP_DEFAULTS: RpropOptions = { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false };

/** Rprop's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface RpropState {
  step: number;
  /** The previous (masked) gradient. */
  prev: Tensor;
  /** The per-element step sizes. */
  stepSize: Tensor;
}

function checkRprop(o: RpropOptions): RpropOptions {
  checkLr(o.lr);
  const [minus, plus] = o.etas;
  if (!(minus > 0 && minus < 1 && plus > 1)) throw new RangeError(`Invalid eta values: ${pyNumber(minus)}, ${pyNumber(plus)}`);
  return o;
}

/**
 * One Rprop step over flat arrays, in place (`_single_tensor_rprop`):
 * ```
 * s = sign(g·prev);  η = s > 0 ? η+ : s < 0 ? η− : 1   (NaN stays NaN)
 * step = clamp(step·η, stepMin, stepMax)
 * g = η == η− ? 0 : g;   p = p − sign(g)·step;   prev = g
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * rpropUpdate(param, grad, new Float64Array(1), new Float64Array([0.01]), RPROP_DEFAULTS);
 */
export function rpropUpdate(param: FloatArray, grad: FloatArray, prev: FloatArray, stepSize: FloatArray, o: RpropOptions): void {
  const [etaminus, etaplus] = o.etas;
  const [stepMin, stepMax] = o.stepSizes;
  for (let i = 0; i < param.length; i++) {
    let g = o.maximize ? -grad[i]! : grad[i]!;
    const prod = g * prev[i]!;
    const eta = prod > 0 ? etaplus : prod < 0 ? etaminus : prod === 0 ? 1 : NaN;
    // clamp_(min, max): max wins when min > max, NaN propagates.
    const s = Math.min(Math.max(stepSize[i]! * eta, stepMin), stepMax);
    stepSize[i] = s;
    if (eta === etaminus) g = 0;
    param[i] = param[i]! + -1 * Math.sign(g) * s;
    prev[i] = g;
  }
}

/**
 * Rprop (Riedmiller & Braun, ICNN 1993); follows torch.optim.Rprop (after a sign change the
 * gradient is zeroed, so that element does not move and the next step counts as "no change").
 * @example
 * const opt = new optim.Rprop(model.parameters(), { lr: 0.01, etas: [0.5, 1.2] });
 */
export class Rprop extends Optimizer<RpropOptions, RpropState> {
  constructor(params: ParamsArg<RpropOptions>, options: Partial<RpropOptions> = {}) {
    super(params, { ...RPROP_DEFAULTS, ...options });
  }

  protected override checkOptions(o: RpropOptions): RpropOptions {
    return checkRprop(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: RpropState | undefined, o: ParamGroup<RpropOptions>): RpropState {
    if (onDevice(p, grad)) return rpropStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, prev: stateZeros(p), stepSize: stateFull(p, o.lr) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.prev, state.stepSize], (param, prev, step) => rpropUpdate(param, g, prev, step, o));
    return state;
  }
}
