/** NAdam, Adam with Nesterov momentum (torch.optim.NAdam). */
import { nadamMu } from './step-schedules.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkAdamOptions } from './adam.js';
import { checkNonNegative } from './check.js';
import { nadamStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of NAdam (PyTorch's arguments in camelCase; see the defaults). */
export interface NAdamOptions extends OptimizerOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Coefficients of the running averages (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay (default 0): L2 on the gradient, or decoupled when `decoupledWeightDecay`. */
  weightDecay: number;
  /** Momentum decay ψ of the momentum schedule μ_t (default 4e-3). */
  momentumDecay: number;
  /** Decay weights by `lr·weightDecay` as AdamW (NAdamW) instead of an L2 term (default false; PyTorch ≥ 2.1). */
  decoupledWeightDecay: boolean;
  /** Maximize the objective (default false; PyTorch ≥ 2.x). */
  maximize: boolean;
}

/** PyTorch's defaults for NAdam (`new optim.NAdam(params, { ...overrides })` fills in the rest). */
export const NADAM_DEFAULTS: NAdamOptions = {
  lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false,
};

/** NAdam's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface NAdamState {
  step: number;
  /** The product μ_1·…·μ_t of the momentum schedule (kept as a double). */
  muProduct: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

function checkNAdam(o: NAdamOptions): NAdamOptions {
  checkAdamOptions({ ...o, amsgrad: false });
  checkNonNegative('momentum_decay', o.momentumDecay);
  return o;
}

export { nadamMu };

/**
 * One NAdam step over flat arrays, in place (`_single_tensor_nadam` of PyTorch 2.x), with
 * `muProduct` = μ_1·…·μ_t already including this step's μ_t:
 * ```
 * g = ±grad;  decoupled ? p = p·(1 − lr·wd) : g = g + wd·p
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²;   d = √(v / (1 − β2^t)) + eps
 * p = p − lr·(1 − μ_t)/(1 − Πμ_t) · g/d − lr·μ_{t+1}/(1 − Πμ_t·μ_{t+1}) · m/d
 * ```
 * NOTE: PyTorch 1.13 computed the second product as `Πμ_t·μ_t·μ_{t+1}` (μ_t counted twice) and
 * kept Πμ in a float32 tensor; PyTorch 2.x fixed the formula, which is what this follows.
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * nadamUpdate(param, grad, new Float64Array(1), new Float64Array(1), 1, nadamMu(0.9, 1, 4e-3), NADAM_DEFAULTS);
 */
export function nadamUpdate(
  param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray, step: number, muProduct: number, o: NAdamOptions,
): void {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay, maximize, momentumDecay } = o;
  const decoupled = o.decoupledWeightDecay;
  const decay = 1 - lr * weightDecay;
  const bc2 = 1 - beta2 ** step;
  const mu = nadamMu(beta1, step, momentumDecay);
  const muNext = nadamMu(beta1, step + 1, momentumDecay);
  const gradScale = (-lr * (1 - mu)) / (1 - muProduct);
  const avgScale = (-lr * muNext) / (1 - muProduct * muNext);
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
    const denom = Math.sqrt(v / bc2) + eps;
    p = p + (gradScale * g) / denom;
    param[i] = p + (avgScale * m) / denom;
  }
}

/**
 * NAdam (Dozat, ICLR 2016 workshop, "Incorporating Nesterov Momentum into Adam"); follows
 * torch.optim.NAdam of PyTorch 2.x, including `decoupledWeightDecay` (NAdamW) and `maximize`.
 * @example
 * const opt = new optim.NAdam(model.parameters(), { lr: 2e-3, momentumDecay: 4e-3 });
 */
export class NAdam extends Optimizer<NAdamOptions, NAdamState> {
  constructor(params: ParamsArg<NAdamOptions>, options: Partial<NAdamOptions> = {}) {
    super(params, { ...NADAM_DEFAULTS, ...options });
  }

  protected override checkOptions(o: NAdamOptions): NAdamOptions {
    return checkNAdam(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: NAdamState | undefined, o: ParamGroup<NAdamOptions>): NAdamState {
    if (onDevice(p, grad)) return nadamStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, muProduct: 1, expAvg: stateZeros(p), expAvgSq: stateZeros(p) };
    state.step += 1;
    state.muProduct *= nadamMu(o.betas[0], state.step, o.momentumDecay);
    const g = readFloats(grad);
    writeFloats([p, state.expAvg, state.expAvgSq], (param, m, v) => nadamUpdate(param, g, m, v, state.step, state.muProduct, o));
    return state;
  }
}
