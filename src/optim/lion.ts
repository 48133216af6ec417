/** Lion: evolved sign momentum (Chen et al., 2023, arXiv:2302.06675). */
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkLr, checkNonNegative } from './check.js';
import { deviceUpdate, onDeviceParam } from './device-ops.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of `Lion` (defaults in `LION_DEFAULTS`). */
export interface LionOptions extends OptimizerOptions {
  /** Learning rate (default 1e-4; the paper suggests 3-10x smaller than AdamW's). */
  lr: number;
  /** Interpolation factor of the update (β1) and decay of the momentum (β2) (default [0.9, 0.99]). */
  betas: readonly [number, number];
  /** Decoupled weight decay λ: `p ← p·(1 − lr·λ)` (default 0; the paper uses 3-10x AdamW's). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** `Lion`'s default options. */
export const LION_DEFAULTS: LionOptions = { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false };

/** Per-parameter state of `Lion`. */
export interface LionState {
  step: number;
  /** The momentum m (`exp_avg`). */
  expAvg: Tensor;
}

/**
 * One Lion step over flat arrays, in place (the paper's Algorithm 2):
 * ```
 * c = β1·m + (1 − β1)·g
 * p = p·(1 − lr·λ) − lr·sign(c)
 * m = β2·m + (1 − β2)·g
 * ```
 * @example
 * const p = Float64Array.of(1, 2), g = Float64Array.of(0.5, -0.5), m = new Float64Array(2);
 * optim.lionUpdate(p, g, m, { ...optim.LION_DEFAULTS, lr: 0.1 }); // p = [0.9, 2.1]
 */
export function lionUpdate(param: FloatArray, grad: FloatArray, expAvg: FloatArray, o: LionOptions): void {
  const [beta1, beta2] = o.betas;
  const decay = 1 - o.lr * o.weightDecay;
  for (let i = 0; i < param.length; i++) {
    const g = o.maximize ? -grad[i]! : grad[i]!;
    const m = expAvg[i]!;
    const c = beta1 * m + (1 - beta1) * g;
    param[i] = param[i]! * decay - o.lr * Math.sign(c);
    expAvg[i] = beta2 * m + (1 - beta2) * g;
  }
}

/**
 * `lionUpdate` with tensor ops, for a parameter off the CPU: the parameter and the momentum are
 * updated in place where they live (nothing is read back).
 */
function lionStepTensors(p: Tensor, grad: Tensor, expAvg: Tensor, o: LionOptions): void {
  const [beta1, beta2] = o.betas;
  deviceUpdate(() => {
    const g = o.maximize ? grad.neg() : grad;
    const c = expAvg.mul(beta1).add(g.mul(1 - beta1));
    p.copy_(p.mul(1 - o.lr * o.weightDecay).sub(c.sign().mul(o.lr)));
    expAvg.copy_(expAvg.mul(beta2).add(g.mul(1 - beta2)));
  });
}

/**
 * Lion (EvoLved Sign Momentum; Chen et al., "Symbolic Discovery of Optimization Algorithms",
 * 2023): every coordinate moves by exactly ±lr, in the sign of an interpolation between the
 * momentum and the gradient; one state tensor per parameter (half of Adam's memory). A parameter
 * off the CPU is updated with tensor ops where it lives, reading nothing back.
 * @example
 * const opt = new optim.Lion(model.parameters(), { lr: 1e-4, weightDecay: 1.0 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Lion extends Optimizer<LionOptions, LionState> {
  constructor(params: ParamsArg<LionOptions>, options: Partial<LionOptions> = {}) {
    super(params, { ...LION_DEFAULTS, ...options });
  }

  protected override checkOptions(o: LionOptions): LionOptions {
    checkLr(o.lr);
    checkBetas(o.betas);
    checkNonNegative('weight_decay', o.weightDecay);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: LionState | undefined, o: ParamGroup<LionOptions>): LionState {
    const state = s ?? { step: 0, expAvg: stateZeros(p) };
    state.step += 1;
    if (onDeviceParam(p)) {
      lionStepTensors(p, grad, state.expAvg, o);
      return state;
    }
    const g = readFloats(grad);
    writeFloats([p, state.expAvg], (param, m) => lionUpdate(param, g, m, o));
    return state;
  }
}
