/** Adagrad (torch.optim.Adagrad). */
import type { Tensor } from '../tensor/tensor.js';
import { checkEps, checkLr, checkNonNegative } from './check.js';
import { adagradStepOnDevice, onDevice } from './device-step.js';
import { readFloats, stateFull, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of Adagrad (PyTorch's arguments in camelCase; see the defaults). */
export interface AdagradOptions extends OptimizerOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: the step size is `lr / (1 + (t − 1)·lrDecay)` (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for Adagrad (`new optim.Adagrad(params, { ...overrides })` fills in the rest). */
export const ADAGRAD_DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

/** Adagrad's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface AdagradState {
  step: number;
  /** The running sum of squared gradients. */
  sum: Tensor;
}

function checkAdagrad(o: AdagradOptions): AdagradOptions {
  checkLr(o.lr);
  checkNonNegative('lr_decay', o.lrDecay);
  checkNonNegative('weight_decay', o.weightDecay);
  checkNonNegative('initial_accumulator_value', o.initialAccumulatorValue);
  checkEps(o.eps);
  return o;
}

/**
 * One Adagrad step over flat arrays, in place (`_single_tensor_adagrad`), `step` from 1:
 * ```
 * g = ±grad + wd·p;   clr = lr / (1 + (t − 1)·lrDecay)
 * sum = sum + g²;     p = p − clr · g / (√sum + eps)
 * ```
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * adagradUpdate(param, grad, new Float64Array(1), 1, ADAGRAD_DEFAULTS);
 */
export function adagradUpdate(param: FloatArray, grad: FloatArray, sum: FloatArray, step: number, o: AdagradOptions): void {
  const { weightDecay, eps, maximize } = o;
  const clr = o.lr / (1 + (step - 1) * o.lrDecay);
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    const s = sum[i]! + 1 * g * g;
    sum[i] = s;
    param[i] = param[i]! + (-clr * g) / (Math.sqrt(s) + eps);
  }
}

/**
 * Adagrad (Duchi et al., JMLR 2011); follows torch.optim.Adagrad, whose state (`sum` filled
 * with `initialAccumulatorValue`, `step` 0) is created for every parameter in the constructor.
 * @example
 * const opt = new optim.Adagrad(model.parameters(), { lr: 0.01, lrDecay: 1e-4 });
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: ParamsArg<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, { ...ADAGRAD_DEFAULTS, ...options });
    for (const group of this.paramGroups) {
      for (const p of group.params) this.state.set(p, { step: 0, sum: stateFull(p, group.initialAccumulatorValue) });
    }
  }

  protected override checkOptions(o: AdagradOptions): AdagradOptions {
    return checkAdagrad(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdagradState | undefined, o: ParamGroup<AdagradOptions>): AdagradState {
    if (onDevice(p, grad)) return adagradStepOnDevice(p, grad, s, o);
    const state = s ?? { step: 0, sum: stateFull(p, o.initialAccumulatorValue) };
    state.step += 1;
    const g = readFloats(grad);
    writeFloats([p, state.sum], (param, sum) => adagradUpdate(param, g, sum, state.step, o));
    return state;
  }
}
