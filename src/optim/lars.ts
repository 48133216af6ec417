/** LARS: layer-wise adaptive rate scaling (You, Gitman & Ginsburg, 2017, arXiv:1708.03888). */
import type { Tensor } from '../tensor/tensor.js';
import { checkEps, checkLr, checkNonNegative } from './check.js';
import { deviceUpdate, onDeviceParam, whereBothPositive } from './device-ops.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of `LARS` (defaults in `LARS_DEFAULTS`). */
export interface LARSOptions extends OptimizerOptions {
  /** Global learning rate γ (default 1e-1). */
  lr: number;
  /** Momentum m (default 0.9). */
  momentum: number;
  /** Weight decay β, in the local rate's denominator and in the update (default 0). */
  weightDecay: number;
  /** Trust coefficient η (default 1e-3). */
  trustCoefficient: number;
  /** Added to the local rate's denominator (default 0, as the paper). */
  eps: number;
  /**
   * Scale this group's updates by the local rate (default true). Set false in the group of
   * biases and normalisation parameters to train them with plain momentum SGD, as is usual.
   */
  trustAdaptation: boolean;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** `LARS`'s default options. */
export const LARS_DEFAULTS: LARSOptions = {
  lr: 0.1, momentum: 0.9, weightDecay: 0, trustCoefficient: 1e-3, eps: 0, trustAdaptation: true, maximize: false,
};

/** Per-parameter state of `LARS`. */
export interface LARSState {
  /** The momentum buffer v (already scaled by the learning rates, as in the paper). */
  momentumBuffer: Tensor;
}

/**
 * One LARS step for one layer over flat arrays, in place (the paper's Algorithm 1); returns the
 * local rate λ:
 * ```
 * λ = η·‖w‖ / (‖g‖ + β·‖w‖ + eps)     (1 when a norm is 0, or without trustAdaptation)
 * v = m·v + γ·λ·(g + β·w)
 * w = w − v
 * ```
 * @example
 * const p = Float64Array.of(3, 4), buf = new Float64Array(2);
 * optim.larsUpdate(p, Float64Array.of(0.6, 0.8), buf, optim.LARS_DEFAULTS); // local rate 1e-3·5/1
 */
export function larsUpdate(param: FloatArray, grad: FloatArray, buf: FloatArray, o: LARSOptions): number {
  const sign = o.maximize ? -1 : 1;
  let wSq = 0;
  let gSq = 0;
  for (let i = 0; i < param.length; i++) {
    wSq += param[i]! * param[i]!;
    gSq += grad[i]! * grad[i]!;
  }
  const wNorm = Math.sqrt(wSq);
  const gNorm = Math.sqrt(gSq);
  const local = o.trustAdaptation && wNorm > 0 && gNorm > 0 ? (o.trustCoefficient * wNorm) / (gNorm + o.weightDecay * wNorm + o.eps) : 1;
  const rate = o.lr * local;
  for (let i = 0; i < param.length; i++) {
    const w = param[i]!;
    const v = o.momentum * buf[i]! + rate * (sign * grad[i]! + o.weightDecay * w);
    buf[i] = v;
    param[i] = w - v;
  }
  return local;
}

/**
 * `larsUpdate` with tensor ops, for a parameter off the CPU: the local rate is a 0-d tensor (a
 * `where` gives 1 when a norm is 0), and the momentum buffer and the parameter are updated in
 * place where they live (nothing is read back).
 */
function larsStepTensors(p: Tensor, grad: Tensor, buf: Tensor, o: LARSOptions): void {
  deviceUpdate(() => {
    let d = o.maximize ? grad.neg() : grad;
    if (o.weightDecay !== 0) d = d.add(p.mul(o.weightDecay));
    let rate: Tensor | number = o.lr;
    if (o.trustAdaptation) {
      const wNorm = p.norm();
      const gNorm = grad.norm();
      const local = wNorm.mul(o.trustCoefficient).div(gNorm.add(wNorm.mul(o.weightDecay)).add(o.eps));
      rate = whereBothPositive(wNorm, gNorm, local, 1).mul(o.lr);
    }
    buf.copy_(buf.mul(o.momentum).add(d.mul(rate)));
    p.sub_(buf);
  });
}

/**
 * LARS (You, Gitman & Ginsburg, "Large Batch Training of Convolutional Networks", 2017):
 * momentum SGD whose step for each layer (tensor) is scaled by a local rate proportional to
 * ‖w‖/‖∇w‖, which keeps very large batches (and learning rates) stable. A parameter off the CPU
 * is updated with tensor ops where it lives (the local rate a 0-d tensor), reading nothing back.
 * @example
 * const opt = new optim.LARS([
 *   { params: weights },
 *   { params: biasesAndNorms, trustAdaptation: false, weightDecay: 0 },
 * ], { lr: 1.0, momentum: 0.9, weightDecay: 5e-4 });
 */
export class LARS extends Optimizer<LARSOptions, LARSState> {
  constructor(params: ParamsArg<LARSOptions>, options: Partial<LARSOptions> = {}) {
    super(params, { ...LARS_DEFAULTS, ...options });
  }

  protected override checkOptions(o: LARSOptions): LARSOptions {
    checkLr(o.lr);
    checkNonNegative('momentum', o.momentum);
    checkNonNegative('weight_decay', o.weightDecay);
    checkNonNegative('trust_coefficient', o.trustCoefficient);
    checkEps(o.eps);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: LARSState | undefined, o: ParamGroup<LARSOptions>): LARSState {
    const state = s ?? { momentumBuffer: stateZeros(p) };
    if (onDeviceParam(p)) {
      larsStepTensors(p, grad, state.momentumBuffer, o);
      return state;
    }
    const g = readFloats(grad);
    writeFloats([p, state.momentumBuffer], (param, buf) => void larsUpdate(param, g, buf, o));
    return state;
  }
}
