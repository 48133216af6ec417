/** RAdam, rectified Adam (torch.optim.RAdam). */
import type { Tensor } from '../tensor/tensor.js';
import { checkAdamOptions } from './adam.js';
import { onDevice, radamStepOnDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of RAdam (PyTorch's arguments in camelCase; see the defaults). */
export interface RAdamOptions extends OptimizerOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Coefficients of the running averages (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay (default 0): L2 on the gradient, or decoupled when `decoupledWeightDecay`. */
  weightDecay: number;
  /** Decay weights by `lr·weightDecay` as AdamW (RAdamW) instead of an L2 term (default false; PyTorch ≥ 2.1). */
  decoupledWeightDecay: boolean;
  /** Maximize the objective (default false; PyTorch ≥ 2.x). */
  maximize: boolean;
}

/** PyTorch's defaults for RAdam (`new optim.RAdam(params, { ...overrides })` fills in the rest). */
export const RADAM_DEFAULTS: RAdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false };

/** RAdam's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface RAdamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/**
 * One RAdam step over flat arrays, in place (`_single_tensor_radam`), `step` from 1:
 * ```
 * g = ±grad;  decoupled ? p = p·(1 − lr·wd) : g = g + wd·p
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²;   m̂ = m / (1 − β1^t)
 * ρ∞ = 2/(1 − β2) − 1;     ρ_t = ρ∞ − 2t·β2^t / (1 − β2^t)
 * ρ_t > 5 ? p = p − lr·m̂·√(1 − β2^t)/(√v + eps)·r_t : p = p − lr·m̂
 * r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * radamUpdate(param, grad, new Float64Array(1), new Float64Array(1), 1, RADAM_DEFAULTS);
 */
export function radamUpdate(param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray, step: number, o: RAdamOptions): void {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay, maximize } = o;
  const decoupled = o.decoupledWeightDecay;
  const decay = 1 - lr * weightDecay;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * step * beta2 ** step) / bc2;
  const rectified = rhoT > 5;
  const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    let p = param[i]!;
    if (weightDecay !== 0) {
      if (decoupled) p *= decay;
      else g = g + weightDecay * p;
    }
    const m = expAvg[i]! * beta1 + (1 - beta1) * g;
    const v = expAvgSq[i]! * beta2 + (1 - beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    const mHat = m / bc1;
    param[i] = rectified ? p + -1.0 * (((mHat * lr) * (bc2Sqrt / (Math.sqrt(v) + eps))) * rect) : p + -1.0 * (mHat * lr);
  }
}

/**
 * RAdam (Liu et al., arXiv:1908.03265); follows torch.optim.RAdam of PyTorch 2.x, including
 * `decoupledWeightDecay` (RAdamW) and `maximize`.
 * @example
 * const opt = new optim.RAdam(model.parameters(), { lr: 1e-3 });
 */
export class RAdam extends Optimizer<RAdamOptions, RAdamState> {
  constructor(params: ParamsArg<RAdamOptions>, options: Partial<RAdamOptions> = {}) {
    super(params, { ...RADAM_DEFAULTS, ...options });
  }

  protected override checkOptions(o: RAdamOptions): RAdamOptions {
    checkAdamOptions({ ...o, amsgrad: false });
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: RAdamState | undefined, o: ParamGroup<RAdamOptions>): RAdamState {
    if (onDevice(p, grad)) return radamStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, expAvg: stateZeros(p), expAvgSq: stateZeros(p) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.expAvg, state.expAvgSq], (param, m, v) => radamUpdate(param, g, m, v, state.step, o));
    return state;
  }
}
