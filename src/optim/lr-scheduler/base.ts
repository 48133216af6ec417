/**
 * The LRScheduler base class, following torch.optim.lr_scheduler._LRScheduler: `initialLr` per
 * group, `lastEpoch`, the epoch-0 rate applied in the constructor, the chainable `getLr()`
 * (reading each group's current `lr`) and closed forms used when `step(epoch)` names an epoch.
 */
import { Optimizer, type OptimizerOptions } from '../optimizer.js';
import { cloneState, type StateValue } from '../state.js';

/** The optimizers schedulers drive: any optimizer (groups expose `lr`, `momentum`, `betas`). */
export type SchedulerOptimizer = Optimizer<OptimizerOptions, unknown>;

/** A scheduler's `stateDict()`: plain values (no functions, no tensors). */
export type SchedulerStateDict = Record<string, StateValue>;

/** Options every LRScheduler accepts. */
export interface LRSchedulerOptions {
  /** The index of the last epoch, -1 to start fresh (default -1). Resuming needs `initialLr` in the groups. */
  lastEpoch?: number;
}

function typeName(x: unknown): string {
  return typeof x === 'object' && x !== null ? x.constructor.name : typeof x;
}

/** @internal Throw PyTorch's TypeError unless `optimizer` is an Optimizer. */
export function checkOptimizer(optimizer: unknown): asserts optimizer is SchedulerOptimizer {
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${typeName(optimizer)} is not an Optimizer`);
}

/** @internal One value per group: a list must have one entry per group (`_format_param`). */
export function perGroup<T>(name: string, optimizer: SchedulerOptimizer, value: T | readonly T[]): T[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(value)) {
    if (value.length !== n) throw new RangeError(`expected ${n} values for ${name}, got ${value.length}`);
    return [...(value as readonly T[])];
  }
  return new Array<T>(n).fill(value as T);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isFunctionLike(v: unknown): boolean {
  return typeof v === 'function' || (Array.isArray(v) && v.some((x) => typeof x === 'function'));
}

/**
 * Base class of the epoch-indexed schedulers (`torch.optim.lr_scheduler.LRScheduler`).
 *
 * Subclasses implement `getLr()` in PyTorch's chainable form (a function of each group's
 * current `lr`) and, where PyTorch has one, `closedFormLr()` (a function of `baseLrs` and
 * `lastEpoch`, used by `step(epoch)`).
 *
 * NOTE: the base constructor calls `step()`, which runs before a subclass's field initialisers,
 * so subclasses keep their options and running state in `config`, passed through `super()`.
 * @example
 * const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) { train(); sched.step(); }
 */
export abstract class LRScheduler<C extends object = object> {
  readonly optimizer: SchedulerOptimizer;
  /** Each group's starting learning rate (`initialLr`). */
  baseLrs: number[];
  /** The index of the current epoch (0 after construction). */
  lastEpoch: number;
  /** How many times `step()` ran, the constructor's included (`_step_count`). */
  stepCount = 0;
  protected lastLr: number[] = [];
  /** The scheduler's options and running state, saved by `stateDict()`. */
  protected readonly config: C;

  constructor(optimizer: SchedulerOptimizer, lastEpoch: number, config: C) {
    checkOptimizer(optimizer);
    this.optimizer = optimizer;
    this.config = config;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new Error(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.initialStep();
  }

  /** @internal Reset the step count and take the epoch-0 step (also used by SequentialLR). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates for `lastEpoch`, from each group's current `lr` (chainable form). */
  abstract getLr(): number[];

  /** The learning rates for `lastEpoch` from `baseLrs` alone, where PyTorch has a closed form. */
  protected closedFormLr?(): number[];

  /**
   * Advance one epoch and set each group's `lr`. Passing `epoch` (deprecated in PyTorch) jumps
   * to that epoch using the closed form where there is one.
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr ? this.closedFormLr() : this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i]!;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates set by the last `step()`, one per group (`get_last_lr`). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's state: epoch counters, base rates, and its options (functions left out). */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {
      lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr],
    };
    for (const [k, v] of Object.entries(this.config)) if (!isFunctionLike(v) && v !== undefined) out[k] = cloneState(v);
    return out;
  }

  /** Restore a state from `stateDict()` (functions such as lambdas stay as constructed). */
  loadStateDict(stateDict: SchedulerStateDict | StateValue): void {
    if (!isRecord(stateDict)) throw new TypeError('loadStateDict expects an object, as returned by stateDict()');
    const { lastEpoch, stepCount, baseLrs, lastLr, ...rest } = stateDict;
    if (typeof lastEpoch === 'number') this.lastEpoch = lastEpoch;
    if (typeof stepCount === 'number') this.stepCount = stepCount;
    if (Array.isArray(baseLrs)) this.baseLrs = baseLrs.map(Number);
    if (Array.isArray(lastLr)) this.lastLr = lastLr.map(Number);
    const config = this.config as Record<string, unknown>;
    for (const [k, v] of Object.entries(rest)) if (k in config && !isFunctionLike(config[k])) config[k] = cloneState(v);
  }
}
