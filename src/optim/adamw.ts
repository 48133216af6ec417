/** AdamW: Adam with decoupled weight decay (torch.optim.AdamW). */
import type { Tensor } from '../tensor/tensor.js';
import { ADAM_DEFAULTS, adamStep, checkAdamOptions, type AdamOptions, type AdamState } from './adam.js';
import { adamStepOnDevice, onDevice } from './device-step.js';
import { Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

/** AdamW's options: Adam's, with weight decay 1e-2 by default and always decoupled. */
export type AdamWOptions = Omit<AdamOptions, 'decoupledWeightDecay'>;

/** PyTorch's defaults for AdamW (`new optim.AdamW(params, { ...overrides })` fills in the rest). */
export const ADAMW_DEFAULTS: AdamWOptions = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };

/** AdamW's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export type AdamWState = AdamState;

/**
 * AdamW (Loshchilov & Hutter, arXiv:1711.05101); follows torch.optim.AdamW: weights decay by
 * `lr·weightDecay` before the Adam step, separately from the gradient
 * (`p = p·(1 − lr·wd)`, then the Adam update; see `adamUpdate`).
 * @example
 * const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 */
export class AdamW extends Optimizer<AdamWOptions, AdamWState> {
  constructor(params: ParamsArg<AdamWOptions>, options: Partial<AdamWOptions> = {}) {
    super(params, { ...ADAMW_DEFAULTS, ...options });
  }

  protected override checkOptions(o: AdamWOptions): AdamWOptions {
    checkAdamOptions({ ...o, decoupledWeightDecay: true });
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdamWState | undefined, o: ParamGroup<AdamWOptions>): AdamWState {
    if (onDevice(p, grad)) return adamStepOnDevice(p, grad, s, { ...o, decoupledWeightDecay: true });
    return adamStep(p, grad, s, { ...o, decoupledWeightDecay: true });
  }
}
