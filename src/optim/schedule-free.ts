/**
 * Schedule-Free SGD and AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, "The Road
 * Less Scheduled", NeurIPS 2024), following the authors' reference implementation
 * (facebookresearch/schedule_free, `SGDScheduleFree` / `AdamWScheduleFree`).
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBetas, checkEps, checkLr, checkNonNegative, pyNumber } from './check.js';
import { readFloats, stateZeros, writeFloats } from './flat.js';
import { keep, scope } from '../tensor/scope.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options and running values shared by both Schedule-Free optimizers. */
export interface ScheduleFreeCommon extends OptimizerOptions {
  /** Learning rate γ. */
  lr: number;
  /** Weight decay λ, applied as an L2 term at y (default 0). */
  weightDecay: number;
  /** Linear warm-up of γ over this many steps (default 0). */
  warmupSteps: number;
  /** Averaging weight exponent r: c ∝ t^r·γ_max^p (default 0). */
  r: number;
  /** Averaging weight exponent p on the largest learning rate so far (default 2). */
  weightLrPower: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
  /** Running value (kept in the group, as the reference): steps taken. */
  k: number;
  /** Running value: the sum of the averaging weights. */
  weightSum: number;
  /** Running value: the largest learning rate so far (−1 before the first step). */
  lrMax: number;
  /** Running value: whether the parameters hold y (train mode) or x (eval mode). */
  trainMode: boolean;
}

/** Options of `ScheduleFreeSGD` (defaults in `SCHEDULE_FREE_SGD_DEFAULTS`). */
export interface ScheduleFreeSGDOptions extends ScheduleFreeCommon {
  /** Interpolation β between z and x where gradients are taken, like momentum (default 0.9). */
  momentum: number;
}

/** Options of `ScheduleFreeAdamW` (defaults in `SCHEDULE_FREE_ADAMW_DEFAULTS`). */
export interface ScheduleFreeAdamWOptions extends ScheduleFreeCommon {
  /** [β1, β2]: β1 interpolates like momentum, β2 averages g² (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
}

const RUNNING = { k: 0, weightSum: 0, lrMax: -1, trainMode: true };

/** `ScheduleFreeSGD`'s default options. */
export const SCHEDULE_FREE_SGD_DEFAULTS: ScheduleFreeSGDOptions = {
  lr: 1.0, momentum: 0.9, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, maximize: false, ...RUNNING,
};

/** `ScheduleFreeAdamW`'s default options. */
export const SCHEDULE_FREE_ADAMW_DEFAULTS: ScheduleFreeAdamWOptions = {
  lr: 0.0025, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, maximize: false, ...RUNNING,
};

/** Per-parameter state of `ScheduleFreeSGD`. */
export interface ScheduleFreeSGDState {
  /** The SGD iterate z. */
  z: Tensor;
}

/** Per-parameter state of `ScheduleFreeAdamW`. */
export interface ScheduleFreeAdamWState {
  z: Tensor;
  expAvgSq: Tensor;
}

/** The per-step scalars of a group: the step's γ_t and the averaging weight c_{t+1}. */
function advance(group: ScheduleFreeCommon, bias: number): { lr: number; ckp1: number } {
  const k = group.k;
  const sched = k < group.warmupSteps ? (k + 1) / group.warmupSteps : 1;
  const lr = group.lr * sched * bias;
  group.lrMax = Math.max(lr, group.lrMax);
  const weight = (k + 1) ** group.r * group.lrMax ** group.weightLrPower;
  group.weightSum += weight;
  const ckp1 = group.weightSum === 0 ? 0 : weight / group.weightSum;
  return { lr, ckp1 };
}

const NOT_TRAIN = 'Optimizer was not in train mode when step is called. Please insert .train() and .eval() calls on the optimizer. See documentation for details.';

/** Shared by both classes: mode switching between y (train) and x (eval) in the parameters. */
abstract class ScheduleFreeBase<O extends ScheduleFreeCommon, S extends { z: Tensor }> extends Optimizer<O, S> {
  protected abstract beta(group: O): number;

  /**
   * Put x (the average, to evaluate and save) into the parameters: `p = lerp(p, z, 1 − 1/β)`.
   * Call before evaluation; `train()` undoes it.
   */
  eval(): void {
    this.switchMode(false);
  }

  /** Put y (where gradients are taken) back into the parameters: `p = lerp(p, z, 1 − β)`. */
  train(): void {
    this.switchMode(true);
  }

  private switchMode(train: boolean): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        if (group.trainMode === train) continue;
        const beta = this.beta(group);
        const w = train ? 1 - beta : 1 - 1 / beta;
        for (const p of group.params) {
          const s = this.state.get(p);
          if (!s) continue;
          if (p.device !== 'cpu') {
            scope(() => void p.lerp_(s.z, w));
            continue;
          }
          const z = readFloats(s.z);
          writeFloats([p], (y) => {
            for (let i = 0; i < y.length; i++) y[i] = y[i]! + w * (z[i]! - y[i]!);
          });
        }
        group.trainMode = train;
      }
    });
  }

  /** The learning-rate factor of a group's next step (AdamW's √(1 − β2^t) bias correction). */
  protected abstract lrFactor(group: O): number;

  /** This step's γ_t and c_{t+1}, per group (computed once per step, before the parameters). */
  protected pending = new Map<O, { lr: number; ckp1: number }>();

  protected override runStep<L>(closure?: () => L): L | undefined {
    if (this.paramGroups.some((g) => !g.trainMode)) throw new Error(NOT_TRAIN);
    this.pending = new Map(this.paramGroups.map((g) => [g as O, advance(g, this.lrFactor(g))]));
    try {
      return super.runStep(closure);
    } finally {
      for (const group of this.paramGroups) group.k += 1;
    }
  }
}

/**
 * Schedule-Free SGD: no learning-rate schedule needed, and the average x is the iterate to use
 * for evaluation. Gradients are taken at y, an interpolation of the SGD iterate z and the
 * running average x, all kept in place (the parameters hold y):
 * ```
 * y = (1 − β)·z + β·x;   z ← z − γ_t·∇f(y);   x ← (1 − c)·x + c·z,   c = γ_max² / Σ γ_max²
 * ```
 * Call `opt.eval()` before evaluating or saving the model and `opt.train()` before training
 * again (models with BatchNorm also need their statistics recomputed at x). Parameters off the
 * CPU (and the mode switches) are updated with tensor ops in place, nothing read back.
 * @example
 * const opt = new optim.ScheduleFreeSGD(model.parameters(), { lr: 1.0, momentum: 0.9, warmupSteps: 100 });
 * opt.train(); for (const [x, y] of loader) { opt.zeroGrad(); loss(x, y).backward(); opt.step(); }
 * opt.eval(); evaluate(model);
 */
export class ScheduleFreeSGD extends ScheduleFreeBase<ScheduleFreeSGDOptions, ScheduleFreeSGDState> {
  constructor(params: ParamsArg<ScheduleFreeSGDOptions>, options: Partial<ScheduleFreeSGDOptions> = {}) {
    super(params, { ...SCHEDULE_FREE_SGD_DEFAULTS, ...options });
  }

  protected beta(group: ScheduleFreeSGDOptions): number {
    return group.momentum;
  }

  protected override checkOptions(o: ScheduleFreeSGDOptions): ScheduleFreeSGDOptions {
    checkLr(o.lr);
    if (!(o.momentum > 0 && o.momentum < 1)) throw new RangeError(`Momentum must be between 0 and 1 exclusive: ${pyNumber(o.momentum)}`);
    checkNonNegative('weight_decay', o.weightDecay);
    return o;
  }

  protected lrFactor(): number {
    return 1;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: ScheduleFreeSGDState | undefined, o: ParamGroup<ScheduleFreeSGDOptions>): ScheduleFreeSGDState {
    const state = s ?? { z: keep(p.clone()) };
    const { lr, ckp1 } = this.pending.get(o)!;
    const yCoef = lr * (o.momentum * (1 - ckp1) - 1);
    if (p.device !== 'cpu') {
      // The same update as tensor ops, in place: y ← y + c·(z − y) + yCoef·g', z ← z − γ·g'.
      scope(() => {
        const g = o.maximize ? grad.neg() : grad;
        const gi = o.weightDecay !== 0 ? g.add(p.mul(o.weightDecay)) : g;
        p.lerp_(state.z, ckp1).add_(gi.mul(yCoef));
        state.z.sub_(gi.mul(lr));
      });
      return state;
    }
    const g = readFloats(grad);
    const sign = o.maximize ? -1 : 1;
    writeFloats([p, state.z], (y, z) => {
      for (let i = 0; i < y.length; i++) {
        const gi = sign * g[i]! + o.weightDecay * y[i]!;
        y[i] = y[i]! + ckp1 * (z[i]! - y[i]!) + yCoef * gi;
        z[i] = z[i]! - lr * gi;
      }
    });
    return state;
  }
}

/**
 * Schedule-Free AdamW: Schedule-Free's interpolation and averaging around Adam's normalised
 * step (no first moment: β1 plays its part through the interpolation), with γ_t bias-corrected
 * by √(1 − β2^t) and weight decay taken at y:
 * ```
 * v = β2·v + (1 − β2)·g²;   d = g/(√v + eps) + λ·y;   z ← z − γ_t·d;   x ← (1 − c)·x + c·z
 * ```
 * Call `opt.eval()` before evaluating and `opt.train()` before training again.
 * @example
 * const opt = new optim.ScheduleFreeAdamW(model.parameters(), { lr: 2.5e-3, warmupSteps: 500 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * opt.eval(); evaluate(model); opt.train();
 */
export class ScheduleFreeAdamW extends ScheduleFreeBase<ScheduleFreeAdamWOptions, ScheduleFreeAdamWState> {
  constructor(params: ParamsArg<ScheduleFreeAdamWOptions>, options: Partial<ScheduleFreeAdamWOptions> = {}) {
    super(params, { ...SCHEDULE_FREE_ADAMW_DEFAULTS, ...options });
  }

  protected beta(group: ScheduleFreeAdamWOptions): number {
    return group.betas[0];
  }

  protected override checkOptions(o: ScheduleFreeAdamWOptions): ScheduleFreeAdamWOptions {
    checkLr(o.lr);
    checkEps(o.eps);
    checkBetas(o.betas);
    if (!(o.betas[0] > 0)) throw new RangeError(`Invalid beta parameter at index 0: ${pyNumber(o.betas[0])}`);
    checkNonNegative('weight_decay', o.weightDecay);
    return o;
  }

  protected lrFactor(group: ScheduleFreeAdamWOptions): number {
    return Math.sqrt(1 - group.betas[1] ** (group.k + 1));
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: ScheduleFreeAdamWState | undefined, o: ParamGroup<ScheduleFreeAdamWOptions>): ScheduleFreeAdamWState {
    const state = s ?? { z: keep(p.clone()), expAvgSq: stateZeros(p) };
    const { lr, ckp1 } = this.pending.get(o)!;
    const [beta1, beta2] = o.betas;
    const yCoef = lr * (beta1 * (1 - ckp1) - 1);
    if (p.device !== 'cpu') {
      // The same update as tensor ops, in place (v, then y and z from the direction d).
      scope(() => {
        const gi = o.maximize ? grad.neg() : grad;
        state.expAvgSq.mul_(beta2).add_(gi.mul(gi).mul(1 - beta2));
        const step = gi.div(state.expAvgSq.sqrt().add(o.eps));
        const d = o.weightDecay !== 0 ? step.add(p.mul(o.weightDecay)) : step;
        p.lerp_(state.z, ckp1).add_(d.mul(yCoef));
        state.z.sub_(d.mul(lr));
      });
      return state;
    }
    const g = readFloats(grad);
    const sign = o.maximize ? -1 : 1;
    writeFloats([p, state.z, state.expAvgSq], (y, z, v) => {
      for (let i = 0; i < y.length; i++) {
        const gi = sign * g[i]!;
        const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
        v[i] = vi;
        const d = gi / (Math.sqrt(vi) + o.eps) + o.weightDecay * y[i]!;
        y[i] = y[i]! + ckp1 * (z[i]! - y[i]!) + yCoef * d;
        z[i] = z[i]! - lr * d;
      }
    });
    return state;
  }
}
