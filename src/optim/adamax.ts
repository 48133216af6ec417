/** Adamax, Adam with the infinity norm (torch.optim.Adamax). */
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkEps, checkLr, checkNonNegative } from './check.js';
import { adamaxStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of Adamax (PyTorch's arguments in camelCase; see the defaults). */
export interface AdamaxOptions extends OptimizerOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Coefficients of the running average and the decayed infinity norm (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to |g| in the norm (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for Adamax (`new optim.Adamax(params, { ...overrides })` fills in the rest). */
export const ADAMAX_DEFAULTS: AdamaxOptions = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false };

/** Adamax's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface AdamaxState {
  step: number;
  /** Running average of the gradient. */
  expAvg: Tensor;
  /** Exponentially weighted infinity norm. */
  expInf: Tensor;
}

function checkAdamax(o: AdamaxOptions): AdamaxOptions {
  checkLr(o.lr);
  checkEps(o.eps);
  checkBetas(o.betas);
  checkNonNegative('weight_decay', o.weightDecay);
  return o;
}

/**
 * One Adamax step over flat arrays, in place (`_single_tensor_adamax`), `step` from 1:
 * ```
 * g = ±grad + wd·p
 * m = β1·m + (1 − β1)·g;   u = max(β2·u, |g| + eps)
 * p = p − lr/(1 − β1^t) · m / u
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * adamaxUpdate(param, grad, new Float64Array(1), new Float64Array(1), 1, ADAMAX_DEFAULTS);
 */
export function adamaxUpdate(param: FloatArray, grad: FloatArray, expAvg: FloatArray, expInf: FloatArray, step: number, o: AdamaxOptions): void {
  const [beta1, beta2] = o.betas;
  const { eps, weightDecay, maximize } = o;
  const clr = o.lr / (1 - beta1 ** step);
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    const m = expAvg[i]! * beta1 + (1 - beta1) * g;
    expAvg[i] = m;
    const a = expInf[i]! * beta2;
    const b = Math.abs(g) + eps;
    // NOTE: torch.amax propagates NaN, so the NaN-aware max is written out.
    const u = a > b || Number.isNaN(a) ? a : b;
    expInf[i] = u;
    param[i] = param[i]! + (-clr * m) / u;
  }
}

/**
 * Adamax (Kingma & Ba, arXiv:1412.6980, §7); follows torch.optim.Adamax.
 * @example
 * const opt = new optim.Adamax(model.parameters(), { lr: 2e-3 });
 */
export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  constructor(params: ParamsArg<AdamaxOptions>, options: Partial<AdamaxOptions> = {}) {
    super(params, { ...ADAMAX_DEFAULTS, ...options });
  }

  protected override checkOptions(o: AdamaxOptions): AdamaxOptions {
    return checkAdamax(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdamaxState | undefined, o: ParamGroup<AdamaxOptions>): AdamaxState {
    if (onDevice(p, grad)) return adamaxStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, expAvg: stateZeros(p), expInf: stateZeros(p) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.expAvg, state.expInf], (param, m, u) => adamaxUpdate(param, g, m, u, state.step, o));
    return state;
  }
}
