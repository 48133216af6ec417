/** ASGD, averaged stochastic gradient descent (torch.optim.ASGD). */
import { asgdSchedule } from './step-schedules.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative } from './check.js';
import { asgdStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of ASGD (PyTorch's arguments in camelCase; see the defaults). */
export interface ASGDOptions extends OptimizerOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Decay term λ (default 1e-4). */
  lambd: number;
  /** Power of the eta update (default 0.75). */
  alpha: number;
  /** The step at which averaging starts (default 1e6). */
  t0: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for ASGD (`new optim.ASGD(params, { ...overrides })` fills in the rest). */
export const ASGD_DEFAULTS: ASGDOptions = { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0, maximize: false };

/** ASGD's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface ASGDState {
  step: number;
  /** The current step size η_t. */
  eta: number;
  /** The averaging coefficient μ_t. */
  mu: number;
  /** The averaged parameters. */
  ax: Tensor;
}

/**
 * One ASGD step over flat arrays, in place (`_single_tensor_asgd`), with the state's current
 * η and μ (updated by the caller afterwards, see `asgdSchedule`):
 * ```
 * g = ±grad + wd·p;   p = p·(1 − λ·η);   p = p − η·g
 * ax = μ == 1 ? p : ax + μ·(p − ax)
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * asgdUpdate(param, grad, new Float64Array(1), 0.01, 1, ASGD_DEFAULTS);
 */
export function asgdUpdate(param: FloatArray, grad: FloatArray, ax: FloatArray, eta: number, mu: number, o: ASGDOptions): void {
  const { lambd, weightDecay, maximize } = o;
  const decay = 1 - lambd * eta;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    let p = param[i]! * decay;
    p = p + -eta * g;
    param[i] = p;
    ax[i] = mu !== 1 ? ax[i]! + (p - ax[i]!) * mu : p;
  }
}

export { asgdSchedule };

/**
 * Averaged SGD (Polyak & Juditsky, 1992); follows torch.optim.ASGD. The running average of the
 * iterates is kept in the state as `ax` (use it for evaluation once averaging started, at `t0`).
 * @example
 * const opt = new optim.ASGD(model.parameters(), { lr: 0.01, t0: 100 });
 * const averaged = opt.state.get(w)?.ax;
 */
export class ASGD extends Optimizer<ASGDOptions, ASGDState> {
  constructor(params: ParamsArg<ASGDOptions>, options: Partial<ASGDOptions> = {}) {
    super(params, { ...ASGD_DEFAULTS, ...options });
  }

  protected override checkOptions(o: ASGDOptions): ASGDOptions {
    checkLr(o.lr);
    checkNonNegative('weight_decay', o.weightDecay);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: ASGDState | undefined, o: ParamGroup<ASGDOptions>): ASGDState {
    if (onDevice(p, grad)) return asgdStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, eta: o.lr, mu: 1, ax: stateZeros(p) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.ax], (param, ax) => asgdUpdate(param, g, ax, state.eta, state.mu, o));
    Object.assign(state, asgdSchedule(state.step, o));
    return state;
  }
}
