/**
 * The epoch-based schedulers of torch.optim.lr_scheduler: LambdaLR, MultiplicativeLR, StepLR,
 * MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR. Each
 * `getLr()` is PyTorch's chainable form; `closedFormLr()` its closed form, where it has one.
 */
import { cosineAnnealing } from './curves.js';
import { LRScheduler, type LRSchedulerOptions, type SchedulerOptimizer } from './base.js';

/** `epoch => factor`, one for all groups or one per group. */
export type LrLambda = (epoch: number) => number;

function lambdas(optimizer: SchedulerOptimizer, lrLambda: LrLambda | readonly LrLambda[]): LrLambda[] {
  const n = optimizer.paramGroups.length;
  if (typeof lrLambda === 'function') return new Array<LrLambda>(n).fill(lrLambda);
  if (lrLambda.length !== n) throw new RangeError(`Expected ${n} lr_lambdas, but got ${lrLambda.length}`);
  return [...lrLambda];
}

const currentLrs = (s: LRScheduler): number[] => s.optimizer.paramGroups.map((g) => g.lr);

/** Options of LambdaLR (PyTorch's arguments in camelCase; see the defaults). */
export interface LambdaLROptions extends LRSchedulerOptions {
  /** The factor applied to the initial lr at each epoch, for all groups or per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/**
 * `lr = initialLr · lrLambda(epoch)` (LambdaLR).
 * @example
 * new optim.lrScheduler.LambdaLR(opt, { lrLambda: (epoch) => 0.95 ** epoch });
 */
export class LambdaLR extends LRScheduler<{ lrLambdas: LrLambda[] }> {
  constructor(optimizer: SchedulerOptimizer, options: LambdaLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { lrLambdas: lambdas(optimizer, options.lrLambda) });
  }
  getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.config.lrLambdas[i]!(this.lastEpoch));
  }
}

/**
 * `lr = lr · lrLambda(epoch)` from epoch 1 on (MultiplicativeLR).
 * @example
 * new optim.lrScheduler.MultiplicativeLR(opt, { lrLambda: () => 0.95 });
 */
export class MultiplicativeLR extends LRScheduler<{ lrLambdas: LrLambda[] }> {
  constructor(optimizer: SchedulerOptimizer, options: LambdaLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { lrLambdas: lambdas(optimizer, options.lrLambda) });
  }
  getLr(): number[] {
    const lrs = currentLrs(this);
    if (this.lastEpoch > 0) return lrs.map((lr, i) => lr * this.config.lrLambdas[i]!(this.lastEpoch));
    return lrs;
  }
}

/** Options of StepLR (PyTorch's arguments in camelCase; see the defaults). */
export interface StepLROptions extends LRSchedulerOptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Decay factor (default 0.1). */
  gamma?: number;
}

/**
 * Multiply the lr by `gamma` every `stepSize` epochs (StepLR).
 * @example
 * new optim.lrScheduler.StepLR(opt, { stepSize: 30, gamma: 0.1 });
 */
export class StepLR extends LRScheduler<{ stepSize: number; gamma: number }> {
  constructor(optimizer: SchedulerOptimizer, options: StepLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { stepSize: options.stepSize, gamma: options.gamma ?? 0.1 });
  }
  getLr(): number[] {
    const { stepSize, gamma } = this.config;
    const lrs = currentLrs(this);
    if (this.lastEpoch === 0 || this.lastEpoch % stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * gamma);
  }
  protected override closedFormLr(): number[] {
    const { stepSize, gamma } = this.config;
    return this.baseLrs.map((base) => base * gamma ** Math.floor(this.lastEpoch / stepSize));
  }
}

/** Options of MultiStepLR (PyTorch's arguments in camelCase; see the defaults). */
export interface MultiStepLROptions extends LRSchedulerOptions {
  /** Epochs at which to decay; a repeated milestone decays once per repetition. */
  milestones: readonly number[];
  /** Decay factor (default 0.1). */
  gamma?: number;
}

/** Python's `bisect_right` on a sorted list. */
export function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Multiply the lr by `gamma` at each milestone (MultiStepLR).
 * @example
 * new optim.lrScheduler.MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler<{ milestones: number[]; gamma: number }> {
  constructor(optimizer: SchedulerOptimizer, options: MultiStepLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { milestones: [...options.milestones].sort((a, b) => a - b), gamma: options.gamma ?? 0.1 });
  }
  getLr(): number[] {
    // NOTE: PyTorch keeps a Counter: a milestone listed k times decays by gamma^k at once.
    const count = this.config.milestones.filter((m) => m === this.lastEpoch).length;
    const lrs = currentLrs(this);
    if (count === 0) return lrs;
    return lrs.map((lr) => lr * this.config.gamma ** count);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.config.gamma ** bisectRight(this.config.milestones, this.lastEpoch));
  }
}

/** Options of ConstantLR (PyTorch's arguments in camelCase; see the defaults). */
export interface ConstantLROptions extends LRSchedulerOptions {
  /** The factor applied until `totalIters` (default 1/3). */
  factor?: number;
  /** Epochs at the reduced rate (default 5). */
  totalIters?: number;
}

/**
 * Multiply the lr by `factor` for the first `totalIters` epochs (ConstantLR).
 * @example
 * new optim.lrScheduler.ConstantLR(opt, { factor: 0.5, totalIters: 4 });
 */
export class ConstantLR extends LRScheduler<{ factor: number; totalIters: number }> {
  constructor(optimizer: SchedulerOptimizer, options: ConstantLROptions = {}) {
    const factor = options.factor ?? 1.0 / 3;
    if (factor > 1.0 || factor < 0) throw new RangeError('Constant multiplicative factor expected to be between 0 and 1.');
    super(optimizer, options.lastEpoch ?? -1, { factor, totalIters: options.totalIters ?? 5 });
  }
  getLr(): number[] {
    const { factor, totalIters } = this.config;
    const lrs = currentLrs(this);
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * factor);
    if (this.lastEpoch !== totalIters) return lrs;
    return lrs.map((lr) => lr * (1.0 / factor));
  }
  protected override closedFormLr(): number[] {
    const { factor, totalIters } = this.config;
    return this.baseLrs.map((base) => base * (factor + (this.lastEpoch >= totalIters ? 1 : 0) * (1 - factor)));
  }
}

/** Options of LinearLR (PyTorch's arguments in camelCase; see the defaults). */
export interface LinearLROptions extends LRSchedulerOptions {
  /** Factor at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor at `totalIters` and after, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs of the ramp (default 5). */
  totalIters?: number;
}

/**
 * Ramp the lr's factor linearly from `startFactor` to `endFactor` over `totalIters` epochs
 * (LinearLR). NOTE: `startFactor` must be > 0 as in PyTorch 2.x (1.13 accepted 0, which left
 * the chainable form stuck at 0).
 * @example
 * new optim.lrScheduler.LinearLR(opt, { startFactor: 0.1, totalIters: 10 });   // warm-up
 */
export class LinearLR extends LRScheduler<{ startFactor: number; endFactor: number; totalIters: number }> {
  constructor(optimizer: SchedulerOptimizer, options: LinearLROptions = {}) {
    const startFactor = options.startFactor ?? 1.0 / 3;
    const endFactor = options.endFactor ?? 1.0;
    if (startFactor > 1.0 || startFactor <= 0) throw new RangeError('Starting multiplicative factor expected to be greater than 0 and less or equal to 1.');
    if (endFactor > 1.0 || endFactor < 0) throw new RangeError('Ending multiplicative factor expected to be between 0 and 1.');
    super(optimizer, options.lastEpoch ?? -1, { startFactor, endFactor, totalIters: options.totalIters ?? 5 });
  }
  getLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: T } = this.config;
    const lrs = currentLrs(this);
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * s);
    if (this.lastEpoch > T) return lrs;
    return lrs.map((lr) => lr * (1.0 + (e - s) / (T * s + (this.lastEpoch - 1) * (e - s))));
  }
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: T } = this.config;
    return this.baseLrs.map((base) => base * (s + ((e - s) * Math.min(T, this.lastEpoch)) / T));
  }
}

/** Options of ExponentialLR (PyTorch's arguments in camelCase; see the defaults). */
export interface ExponentialLROptions extends LRSchedulerOptions {
  /** Decay factor per epoch. */
  gamma: number;
}

/**
 * Multiply the lr by `gamma` every epoch (ExponentialLR).
 * @example
 * new optim.lrScheduler.ExponentialLR(opt, { gamma: 0.95 });
 */
export class ExponentialLR extends LRScheduler<{ gamma: number }> {
  constructor(optimizer: SchedulerOptimizer, options: ExponentialLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { gamma: options.gamma });
  }
  getLr(): number[] {
    const lrs = currentLrs(this);
    if (this.lastEpoch === 0) return lrs;
    return lrs.map((lr) => lr * this.config.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.config.gamma ** this.lastEpoch);
  }
}

/** Options of PolynomialLR (PyTorch's arguments in camelCase; see the defaults). */
export interface PolynomialLROptions extends LRSchedulerOptions {
  /** Epochs until the lr reaches 0 (default 5). */
  totalIters?: number;
  /** Power of the polynomial (default 1). */
  power?: number;
}

/**
 * Decay the lr to 0 over `totalIters` epochs as `(1 − t/T)^power` (PolynomialLR).
 * @example
 * new optim.lrScheduler.PolynomialLR(opt, { totalIters: 100, power: 2 });
 */
export class PolynomialLR extends LRScheduler<{ totalIters: number; power: number }> {
  constructor(optimizer: SchedulerOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer, options.lastEpoch ?? -1, { totalIters: options.totalIters ?? 5, power: options.power ?? 1.0 });
  }
  getLr(): number[] {
    const { totalIters: T, power } = this.config;
    const lrs = currentLrs(this);
    if (this.lastEpoch === 0 || this.lastEpoch > T) return lrs;
    const decay = ((1.0 - this.lastEpoch / T) / (1.0 - (this.lastEpoch - 1) / T)) ** power;
    return lrs.map((lr) => lr * decay);
  }
  protected override closedFormLr(): number[] {
    const { totalIters: T, power } = this.config;
    return this.baseLrs.map((base) => base * (1.0 - Math.min(T, this.lastEpoch) / T) ** power);
  }
}

/** Options of CosineAnnealingLR (PyTorch's arguments in camelCase; see the defaults). */
export interface CosineAnnealingLROptions extends LRSchedulerOptions {
  /** Half-period of the cosine, in epochs. */
  TMax: number;
  /** Minimum lr (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `TMax` epochs, then back up (SGDR
 * without restarts; Loshchilov & Hutter, arXiv:1608.03983). Follows PyTorch's recursive
 * (chainable) form, whose values equal the closed form up to rounding.
 * @example
 * new optim.lrScheduler.CosineAnnealingLR(opt, { TMax: 50, etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler<{ TMax: number; etaMin: number }> {
  constructor(optimizer: SchedulerOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, options.lastEpoch ?? -1, { TMax: options.TMax, etaMin: options.etaMin ?? 0 });
  }
  getLr(): number[] {
    const { TMax: T, etaMin } = this.config;
    const e = this.lastEpoch;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((base) => cosineAnnealing(base, etaMin, e, T));
    if ((e - 1 - T) % (2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => cosineAnnealing(base, this.config.etaMin, this.lastEpoch, this.config.TMax));
  }
}
