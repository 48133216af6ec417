/** LAMB: layer-wise adaptive moments for large batches (You et al., 2019, arXiv:1904.00962). */
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkEps, checkLr, checkNonNegative, pyNumber } from './check.js';
import { deviceUpdate, onDeviceParam, whereBothPositive } from './device-ops.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of `LAMB` (defaults in `LAMB_DEFAULTS`). */
export interface LAMBOptions extends OptimizerOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Running-average coefficients of the gradient and its square (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-6, as the paper). */
  eps: number;
  /** Decoupled weight decay λ, added to the Adam ratio before the trust ratio (default 0). */
  weightDecay: number;
  /** Bias-correct the moments as Adam does (default true; the paper's v3+ algorithm). */
  biasCorrection: boolean;
  /** Upper bound of φ(‖w‖), the scaling function of the trust ratio; null for none (default null). */
  clampValue: number | null;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** `LAMB`'s default options. */
export const LAMB_DEFAULTS: LAMBOptions = {
  lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0, biasCorrection: true, clampValue: null, maximize: false,
};

/** Per-parameter state of `LAMB`. */
export interface LAMBState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/**
 * One LAMB step for one layer (tensor) over flat arrays, in place (the paper's Algorithm 2);
 * returns the trust ratio used:
 * ```
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²;   m̂, v̂ = m/(1 − β1^t), v/(1 − β2^t)
 * u = m̂/(√v̂ + eps) + λ·w
 * ratio = φ(‖w‖)/‖u‖  (1 when either norm is 0),  φ(z) = min(z, clampValue)
 * w = w − lr·ratio·u
 * ```
 * @example
 * const p = Float64Array.of(3, 4), m = new Float64Array(2), v = new Float64Array(2);
 * const ratio = optim.lambUpdate(p, Float64Array.of(1, 1), m, v, 1, { ...optim.LAMB_DEFAULTS, lr: 0.1 }); // 5/√2
 */
export function lambUpdate(param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray, step: number, o: LAMBOptions): number {
  const [beta1, beta2] = o.betas;
  const bc1 = o.biasCorrection ? 1 - beta1 ** step : 1;
  const bc2 = o.biasCorrection ? 1 - beta2 ** step : 1;
  const u = new Float64Array(param.length);
  let wSq = 0;
  let uSq = 0;
  for (let i = 0; i < param.length; i++) {
    const g = o.maximize ? -grad[i]! : grad[i]!;
    const m = beta1 * expAvg[i]! + (1 - beta1) * g;
    const v = beta2 * expAvgSq[i]! + (1 - beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    const w = param[i]!;
    const ui = m / bc1 / (Math.sqrt(v / bc2) + o.eps) + o.weightDecay * w;
    u[i] = ui;
    wSq += w * w;
    uSq += ui * ui;
  }
  let wNorm = Math.sqrt(wSq);
  if (o.clampValue !== null) wNorm = Math.min(wNorm, o.clampValue);
  const uNorm = Math.sqrt(uSq);
  const ratio = wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1;
  const stepSize = o.lr * ratio;
  for (let i = 0; i < param.length; i++) param[i] = param[i]! - stepSize * u[i]!;
  return ratio;
}

/**
 * `lambUpdate` with tensor ops, for a parameter off the CPU: the moments and the parameter are
 * updated in place where they live, the norms stay 0-d tensors and the zero-norm case of the
 * trust ratio is a `where` (nothing is read back).
 */
function lambStepTensors(p: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, o: LAMBOptions): void {
  const [beta1, beta2] = o.betas;
  const bc1 = o.biasCorrection ? 1 - beta1 ** step : 1;
  const bc2 = o.biasCorrection ? 1 - beta2 ** step : 1;
  deviceUpdate(() => {
    const g = o.maximize ? grad.neg() : grad;
    expAvg.copy_(expAvg.mul(beta1).add(g.mul(1 - beta1)));
    expAvgSq.copy_(expAvgSq.mul(beta2).add(g.square().mul(1 - beta2)));
    let u = expAvg.div(bc1).div(expAvgSq.div(bc2).sqrt().add(o.eps));
    if (o.weightDecay !== 0) u = u.add(p.mul(o.weightDecay));
    let wNorm = p.norm();
    if (o.clampValue !== null) wNorm = wNorm.clamp(null, o.clampValue);
    const uNorm = u.norm();
    const ratio = whereBothPositive(wNorm, uNorm, wNorm.div(uNorm), 1);
    p.sub_(u.mul(ratio.mul(o.lr)));
  });
}

/**
 * LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes",
 * ICLR 2020): Adam's direction plus decoupled weight decay, rescaled per tensor by the trust
 * ratio ‖w‖/‖u‖ so every layer moves by `lr` relative to its own scale. Use one parameter group
 * per set of layers that should share a ratio policy (e.g. `weightDecay: 0` for biases). A
 * parameter off the CPU is updated with tensor ops where it lives (the trust ratio a 0-d tensor),
 * reading nothing back.
 * @example
 * const opt = new optim.LAMB(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class LAMB extends Optimizer<LAMBOptions, LAMBState> {
  constructor(params: ParamsArg<LAMBOptions>, options: Partial<LAMBOptions> = {}) {
    super(params, { ...LAMB_DEFAULTS, ...options });
  }

  protected override checkOptions(o: LAMBOptions): LAMBOptions {
    checkLr(o.lr);
    checkEps(o.eps);
    checkBetas(o.betas);
    checkNonNegative('weight_decay', o.weightDecay);
    if (o.clampValue !== null && !(o.clampValue > 0)) throw new RangeError(`Invalid clamp value: ${pyNumber(o.clampValue)}`);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: LAMBState | undefined, o: ParamGroup<LAMBOptions>): LAMBState {
    const state = s ?? { step: 0, expAvg: stateZeros(p), expAvgSq: stateZeros(p) };
    state.step += 1;
    if (onDeviceParam(p)) {
      lambStepTensors(p, grad, state.expAvg, state.expAvgSq, state.step, o);
      return state;
    }
    const g = readFloats(grad);
    writeFloats([p, state.expAvg, state.expAvgSq], (param, m, v) => void lambUpdate(param, g, m, v, state.step, o));
    return state;
  }
}
