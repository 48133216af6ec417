/** Adam with AMSGrad, L2 or decoupled weight decay, and maximize (torch.optim.Adam). */
import { adamStepF32 } from '../tensor/backend/wasm/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkEps, checkLr, checkNonNegative } from './check.js';
import { adamStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of Adam (PyTorch's arguments in camelCase; see the defaults). */
export interface AdamOptions extends OptimizerOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Coefficients of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Weight decay (default 0): an L2 penalty on the gradient, or decoupled (AdamW) when `decoupledWeightDecay`. */
  weightDecay: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad: boolean;
  /** Maximize the objective (default false). */
  maximize: boolean;
  /** Decay weights by `lr·weightDecay` before the step instead of adding to the gradient, as AdamW (default false; PyTorch ≥ 2.7). */
  decoupledWeightDecay: boolean;
}

/** PyTorch's defaults for Adam (`new optim.Adam(params, { ...overrides })` fills in the rest). */
export const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupledWeightDecay: false,
};

/** Adam's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface AdamState {
  /** Steps taken (a number here; a 0-d tensor in PyTorch). */
  step: number;
  /** First moment: running average of the gradient. */
  expAvg: Tensor;
  /** Second moment: running average of the squared gradient. */
  expAvgSq: Tensor;
  /** AMSGrad: the running max of `expAvgSq`. */
  maxExpAvgSq?: Tensor;
}

/** Validate Adam-family options with PyTorch's messages. */
export function checkAdamOptions<T extends AdamOptions>(o: T): T {
  checkLr(o.lr);
  checkEps(o.eps);
  checkBetas(o.betas);
  checkNonNegative('weight_decay', o.weightDecay);
  return o;
}

/**
 * One Adam step over flat arrays, in place (`_single_tensor_adam` / `_single_tensor_adamw`),
 * `step` counting from 1:
 * ```
 * g = ±grad;  decoupled ? p = p·(1 − lr·wd) : g = g + wd·p
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²;   vmax = max(vmax, v)   (AMSGrad)
 * p = p − lr/(1 − β1^t) · m / (√(vmax or v) / √(1 − β2^t) + eps)
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * adamUpdate(param, grad, new Float64Array(1), new Float64Array(1), null, 1, ADAM_DEFAULTS);
 */
export function adamUpdate(
  param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray, maxExpAvgSq: FloatArray | null, step: number, o: AdamOptions,
): void {
  const [beta1, beta2] = o.betas;
  const { lr, eps, weightDecay, maximize } = o;
  const decoupled = o.decoupledWeightDecay;
  const decay = 1 - lr * weightDecay;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  if (!maximize && !maxExpAvgSq && (decoupled || weightDecay === 0)) {
    // Adam's and AdamW's defaults as a branch-free loop: the same arithmetic, ~1.7x faster.
    const [c1, c2, negStep, scale] = [1 - beta1, 1 - beta2, -stepSize, decoupled ? decay : 1];
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const p = param[i]! * scale;
      const m = expAvg[i]! * beta1 + c1 * g;
      const v = expAvgSq[i]! * beta2 + c2 * g * g;
      expAvg[i] = m;
      expAvgSq[i] = v;
      param[i] = p + (negStep * m) / (Math.sqrt(v) / bc2Sqrt + eps);
    }
    return;
  }
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    let p = param[i]!;
    if (decoupled) p *= decay;
    else if (weightDecay !== 0) g = g + weightDecay * p;
    const m = expAvg[i]! * beta1 + (1 - beta1) * g;
    const v = expAvgSq[i]! * beta2 + (1 - beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    let vHat = v;
    if (maxExpAvgSq) {
      vHat = Math.max(maxExpAvgSq[i]!, v);
      maxExpAvgSq[i] = vHat;
    }
    param[i] = p + (-stepSize * m) / (Math.sqrt(vHat) / bc2Sqrt + eps);
  }
}

/** The shared Adam/AdamW class body. */
export function adamStep(p: Tensor, grad: Tensor, s: AdamState | undefined, o: AdamOptions): AdamState {
  const state: AdamState = s ?? {
    step: 0, expAvg: stateZeros(p), expAvgSq: stateZeros(p), ...(o.amsgrad && { maxExpAvgSq: stateZeros(p) }),
  };
  state.step += 1;
  const g = readFloats(grad);
  const max = o.amsgrad ? (state.maxExpAvgSq ??= stateZeros(p)) : null;
  const update = (param: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null) => {
    // float32: the fused SIMD kernel (float32 arithmetic, as PyTorch's float32 Adam); float64
    // keeps the exact double-precision loop.
    if (param instanceof Float32Array && g instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array && (vmax === null || vmax instanceof Float32Array)) {
      const [beta1, beta2] = o.betas;
      adamStepF32(param, g, m, v, {
        lr: o.lr, beta1, beta2, eps: o.eps, step: state.step, weightDecay: o.weightDecay,
        decoupledWeightDecay: o.decoupledWeightDecay, maximize: o.maximize, ...(vmax && { maxExpAvgSq: vmax }),
      });
    } else adamUpdate(param, g, m, v, vmax, state.step, o);
  };
  if (max) writeFloats([p, state.expAvg, state.expAvgSq, max], (param, m, v, vmax) => update(param, m, v, vmax));
  else writeFloats([p, state.expAvg, state.expAvgSq], (param, m, v) => update(param, m, v, null));
  return state;
}

/**
 * Adam (Kingma & Ba, arXiv:1412.6980), with AMSGrad (Reddi et al., 2018); follows
 * torch.optim.Adam: AMSGrad keeps the max of the uncorrected second moment, weight decay is an
 * L2 term on the gradient unless `decoupledWeightDecay` (then it is AdamW).
 * @example
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999] });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...ADAM_DEFAULTS, ...options });
  }

  protected override checkOptions(o: AdamOptions): AdamOptions {
    return checkAdamOptions(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdamState | undefined, o: ParamGroup<AdamOptions>): AdamState {
    if (onDevice(p, grad)) return adamStepOnDevice(p, grad, s, o);
    return adamStep(p, grad, s, o);
  }
}
