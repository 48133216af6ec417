/** RMSprop, optionally centered and with momentum (torch.optim.RMSprop). */
import type { Tensor } from '../tensor/tensor.js';
import { checkEps, checkLr, checkNonNegative } from './check.js';
import { onDevice, rmspropStepOnDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of RMSprop (PyTorch's arguments in camelCase; see the defaults). */
export interface RMSpropOptions extends OptimizerOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for RMSprop (`new optim.RMSprop(params, { ...overrides })` fills in the rest). */
export const RMSPROP_DEFAULTS: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

/** RMSprop's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface RMSpropState {
  step: number;
  squareAvg: Tensor;
  /** With momentum > 0. */
  momentumBuffer?: Tensor;
  /** When centered: the running average of the gradient. */
  gradAvg?: Tensor;
}

function checkRMSprop(o: RMSpropOptions): RMSpropOptions {
  checkLr(o.lr);
  checkEps(o.eps);
  checkNonNegative('momentum', o.momentum);
  checkNonNegative('weight_decay', o.weightDecay);
  checkNonNegative('alpha', o.alpha);
  return o;
}

/**
 * One RMSprop step over flat arrays, in place (`_single_tensor_rmsprop`):
 * ```
 * g = ±grad + wd·p;   sq = α·sq + (1 − α)·g²
 * centered: ga = α·ga + (1 − α)·g;  avg = √(sq − ga²) + eps,  else avg = √sq + eps
 * momentum: buf = μ·buf + g/avg;  p = p − lr·buf,   else p = p − lr·g/avg
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * rmspropUpdate(param, grad, new Float64Array(1), null, null, RMSPROP_DEFAULTS);
 */
export function rmspropUpdate(
  param: FloatArray, grad: FloatArray, squareAvg: FloatArray, gradAvg: FloatArray | null, buf: FloatArray | null, o: RMSpropOptions,
): void {
  const { lr, alpha, eps, weightDecay, momentum, maximize } = o;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    const sq = squareAvg[i]! * alpha + (1 - alpha) * g * g;
    squareAvg[i] = sq;
    let avg: number;
    if (gradAvg) {
      const ga = gradAvg[i]! * alpha + (1 - alpha) * g;
      gradAvg[i] = ga;
      avg = Math.sqrt(sq + -1 * ga * ga) + eps;
    } else {
      avg = Math.sqrt(sq) + eps;
    }
    if (buf) {
      const b = buf[i]! * momentum + g / avg;
      buf[i] = b;
      param[i] = param[i]! + -lr * b;
    } else {
      param[i] = param[i]! + (-lr * g) / avg;
    }
  }
}

/**
 * RMSprop (Hinton, Coursera lecture 6e; centered as Graves, arXiv:1308.0850); follows
 * torch.optim.RMSprop.
 * @example
 * const opt = new optim.RMSprop(model.parameters(), { lr: 1e-2, alpha: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsArg<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, { ...RMSPROP_DEFAULTS, ...options });
  }

  protected override checkOptions(o: RMSpropOptions): RMSpropOptions {
    return checkRMSprop(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: RMSpropState | undefined, o: ParamGroup<RMSpropOptions>): RMSpropState {
    if (onDevice(p, grad)) return rmspropStepOnDevice(p, grad, s, o);
    const state: RMSpropState = s ?? {
      step: 0,
      squareAvg: stateZeros(p),
      ...(o.momentum > 0 && { momentumBuffer: stateZeros(p) }),
      ...(o.centered && { gradAvg: stateZeros(p) }),
    };
    state.step += 1;
    const g = readFloats(grad);
    const gradAvg = o.centered ? (state.gradAvg ??= stateZeros(p)) : null;
    const buffer = o.momentum > 0 ? (state.momentumBuffer ??= stateZeros(p)) : null;
    const tensors = [p, state.squareAvg, ...(gradAvg ? [gradAvg] : []), ...(buffer ? [buffer] : [])];
    writeFloats(tensors, (...arrays) => {
      const [param, sq] = arrays as [FloatArray, FloatArray];
      rmspropUpdate(param, g, sq, gradAvg ? arrays[2]! : null, buffer ? arrays[arrays.length - 1]! : null, o);
    });
    return state;
  }
}
