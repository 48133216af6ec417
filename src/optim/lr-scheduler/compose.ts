/** Scheduler composition: ChainedScheduler (all at once) and SequentialLR (one after another). */
import type { StateValue } from '../state.js';
import { bisectRight } from './basic.js';
import { checkOptimizer, type LRScheduler, type SchedulerOptimizer, type SchedulerStateDict } from './base.js';

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function loadChildren(schedulers: readonly LRScheduler[], saved: unknown): void {
  if (!Array.isArray(saved)) return;
  saved.forEach((s: StateValue, i) => schedulers[i]?.loadStateDict(s));
}

/**
 * Step several schedulers together, each applying its (chainable) change to the current lr
 * (ChainedScheduler).
 * @example
 * const warm = new optim.lrScheduler.ConstantLR(opt, { factor: 0.1, totalIters: 2 });
 * const decay = new optim.lrScheduler.ExponentialLR(opt, { gamma: 0.9 });
 * const sched = new optim.lrScheduler.ChainedScheduler([warm, decay]);
 */
export class ChainedScheduler {
  readonly optimizer: SchedulerOptimizer;
  private readonly schedulers: LRScheduler[];
  private lastLr: number[];

  constructor(schedulers: readonly LRScheduler[]) {
    const first = schedulers[0];
    if (!first) throw new RangeError('ChainedScheduler expects at least one scheduler');
    schedulers.forEach((s, i) => {
      if (s.optimizer !== first.optimizer) {
        throw new RangeError(`ChainedScheduler expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and ${i} to be different`);
      }
    });
    this.schedulers = [...schedulers];
    this.optimizer = first.optimizer;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Step every scheduler, in order. */
  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { lastLr: [...this.lastLr], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(stateDict: SchedulerStateDict | StateValue): void {
    if (!isRecord(stateDict)) throw new TypeError('loadStateDict expects an object, as returned by stateDict()');
    if (Array.isArray(stateDict['lastLr'])) this.lastLr = stateDict['lastLr'].map(Number);
    loadChildren(this.schedulers, stateDict['schedulers']);
  }
}

/** Options of SequentialLR (PyTorch's arguments in camelCase; see the defaults). */
export interface SequentialLROptions {
  /** The schedulers, used one after the other. */
  schedulers: readonly LRScheduler[];
  /** The epochs at which to switch to the next scheduler (one fewer than schedulers). */
  milestones: readonly number[];
  /** Default -1. */
  lastEpoch?: number;
}

/**
 * Use `schedulers[i]` from `milestones[i − 1]` on (SequentialLR); at a milestone the next
 * scheduler restarts at its epoch 0 (PyTorch calls `step(0)`, its closed form where it has one).
 * @example
 * const warm = new optim.lrScheduler.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cos = new optim.lrScheduler.CosineAnnealingLR(opt, { TMax: 95 });
 * const sched = new optim.lrScheduler.SequentialLR(opt, { schedulers: [warm, cos], milestones: [5] });
 */
export class SequentialLR {
  readonly optimizer: SchedulerOptimizer;
  lastEpoch: number;
  private readonly schedulers: LRScheduler[];
  private readonly milestones: number[];
  private lastLr: number[];

  constructor(optimizer: SchedulerOptimizer, options: SequentialLROptions) {
    checkOptimizer(optimizer);
    const { schedulers, milestones } = options;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new RangeError(`Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index ${i} to be different than the optimizer passed in.`);
      }
    });
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(`Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${milestones.length}`);
    }
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // Reset the rates, undo the step each scheduler took when built, and redo the first one's.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr ?? g.lr;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!.initialStep();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, milestones: [...this.milestones], lastLr: [...this.lastLr], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(stateDict: SchedulerStateDict | StateValue): void {
    if (!isRecord(stateDict)) throw new TypeError('loadStateDict expects an object, as returned by stateDict()');
    if (typeof stateDict['lastEpoch'] === 'number') this.lastEpoch = stateDict['lastEpoch'];
    if (Array.isArray(stateDict['lastLr'])) this.lastLr = stateDict['lastLr'].map(Number);
    loadChildren(this.schedulers, stateDict['schedulers']);
  }
}
