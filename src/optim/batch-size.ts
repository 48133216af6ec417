/**
 * Batch size as a schedule: `BatchSizeScheduler`, which a DataLoader follows epoch by epoch
 * (Smith, Kindermans, Ying & Le, "Don't Decay the Learning Rate, Increase the Batch Size",
 * ICLR 2018).
 */
import type { BatchSizeSource } from '../data/sampler.js';
import { pyNumber } from './check.js';
import type { Optimizer, OptimizerOptions } from './optimizer.js';
import type { StateValue } from './state.js';

export type { BatchSizeSource } from '../data/sampler.js';

/** How the batch size grows with the epoch e, from `batchSize` B0. */
export type BatchSizeMode = 'constant' | 'step' | 'multistep' | 'linear' | 'exponential';

/** Options of `BatchSizeScheduler`, e.g. `{ batchSize: 128, mode: 'step', stepSize: 30, factor: 5 }`. */
export interface BatchSizeSchedulerOptions {
  /** The batch size of epoch 0, B0. */
  batchSize: number;
  /**
   * The growth curve (default 'step'):
   * - 'constant': B0;
   * - 'step': B0·factor^⌊e/stepSize⌋;
   * - 'multistep': B0·factor^(milestones reached);
   * - 'linear': from B0 to `endBatchSize` linearly over `totalEpochs`, then held;
   * - 'exponential': B0·gamma^e.
   */
  mode?: BatchSizeMode;
  /** 'step': epochs between increases. */
  stepSize?: number;
  /** 'multistep': the (increasing) epochs at which the batch size grows. */
  milestones?: readonly number[];
  /** 'step' and 'multistep': the growth factor (default 2; Smith et al. use the LR decay factor, e.g. 5). */
  factor?: number;
  /** 'linear': the batch size reached at `totalEpochs`. */
  endBatchSize?: number;
  /** 'linear': epochs of the ramp. */
  totalEpochs?: number;
  /** 'exponential': the per-epoch growth factor (> 0). */
  gamma?: number;
  /** Cap on the batch size (memory); default none. */
  maxBatchSize?: number;
  /**
   * When the schedule asks for more than `maxBatchSize`, decay this optimizer's learning rates by
   * the shortfall instead (lr = initialLr·B/B_target), as Smith et al. do once the batch size
   * cannot grow further.
   */
  optimizer?: Optimizer<OptimizerOptions, unknown>;
  /** The index of the last epoch, -1 to start fresh (default -1). */
  lastEpoch?: number;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new RangeError(`${name} should be a positive integer value, but got ${name}=${String(v)}`);
  return v;
}

/**
 * A batch-size schedule, stepped once per epoch like an LR scheduler; pass it to a DataLoader as
 * `batchSize` and the loader reads the current value when each epoch starts. Smith et al. show
 * that multiplying the batch size by k gives the same curve as dividing the learning rate by k
 * (the SGD noise scale ∝ lr·N/B), with k times fewer parameter updates: replace a step decay of
 * the learning rate by a step increase of the batch size.
 * ```
 * B_target(e) = B0·growth(e);   B(e) = min(round(B_target), maxBatchSize)
 * with an optimizer: lr(e) = initialLr·B(e)/B_target(e)   (decay only what the cap blocks)
 * ```
 * @example
 * const sched = new optim.BatchSizeScheduler({ batchSize: 128, mode: 'step', stepSize: 30, factor: 5, maxBatchSize: 8192, optimizer: opt });
 * const loader = new tg.data.DataLoader(ds, { batchSize: sched, shuffle: true });
 * for (let epoch = 0; epoch < 90; epoch++) { for (const [x, y] of loader) trainStep(x, y); sched.step(); }
 */
export class BatchSizeScheduler implements BatchSizeSource {
  readonly baseBatchSize: number;
  readonly mode: BatchSizeMode;
  /** The current epoch (0 after construction). */
  lastEpoch: number;
  private readonly options: BatchSizeSchedulerOptions;
  private readonly optimizer: Optimizer<OptimizerOptions, unknown> | undefined;

  constructor(options: BatchSizeSchedulerOptions) {
    this.baseBatchSize = positiveInt('batch_size', options.batchSize);
    this.mode = options.mode ?? 'step';
    this.options = options;
    this.optimizer = options.optimizer;
    const factor = options.factor ?? 2;
    switch (this.mode) {
      case 'constant':
        break;
      case 'step':
        positiveInt('step_size', options.stepSize);
        if (!(factor >= 1)) throw new RangeError(`Batch size growth factor should be >= 1, got ${pyNumber(factor)}`);
        break;
      case 'multistep': {
        const ms = options.milestones ?? [];
        if (ms.some((m, i) => !Number.isInteger(m) || (i > 0 && m < ms[i - 1]!))) throw new RangeError('Milestones should be a list of increasing integers');
        if (!(factor >= 1)) throw new RangeError(`Batch size growth factor should be >= 1, got ${pyNumber(factor)}`);
        break;
      }
      case 'linear':
        positiveInt('end_batch_size', options.endBatchSize);
        positiveInt('total_epochs', options.totalEpochs);
        break;
      case 'exponential':
        if (!(options.gamma !== undefined && options.gamma > 0)) throw new RangeError(`gamma should be > 0, got ${String(options.gamma)}`);
        break;
      default:
        throw new RangeError(`mode should be one of 'constant', 'step', 'multistep', 'linear', 'exponential', got ${String(this.mode)}`);
    }
    if (options.maxBatchSize !== undefined) positiveInt('max_batch_size', options.maxBatchSize);
    if (this.optimizer) for (const g of this.optimizer.paramGroups) g.initialLr ??= g.lr;
    this.lastEpoch = options.lastEpoch ?? -1;
    this.step();
  }

  /** The uncapped batch size the curve asks for at `epoch`. */
  targetBatchSize(epoch = this.lastEpoch): number {
    const o = this.options;
    const b0 = this.baseBatchSize;
    const factor = o.factor ?? 2;
    switch (this.mode) {
      case 'step':
        return b0 * factor ** Math.floor(epoch / o.stepSize!);
      case 'multistep':
        return b0 * factor ** (o.milestones ?? []).filter((m) => m <= epoch).length;
      case 'linear':
        return b0 + (o.endBatchSize! - b0) * Math.min(1, epoch / o.totalEpochs!);
      case 'exponential':
        return b0 * o.gamma! ** epoch;
      default:
        return b0;
    }
  }

  /** The batch size at `epoch`: the target, rounded, at least 1 and capped by `maxBatchSize`. */
  batchSizeAt(epoch = this.lastEpoch): number {
    const b = Math.max(1, Math.round(this.targetBatchSize(epoch)));
    return this.options.maxBatchSize === undefined ? b : Math.min(b, this.options.maxBatchSize);
  }

  /** The current batch size (what a DataLoader reads at the start of an epoch). */
  get batchSize(): number {
    return this.batchSizeAt();
  }

  /** Advance one epoch; with an optimizer, set the learning rates the cap calls for. */
  step(): void {
    this.lastEpoch += 1;
    if (!this.optimizer) return;
    const shortfall = this.batchSizeAt() / Math.max(1, Math.round(this.targetBatchSize()));
    for (const g of this.optimizer.paramGroups) g.lr = g.initialLr! * Math.min(1, shortfall);
  }

  /** `{ lastEpoch }` (the options are the constructor's). */
  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }

  /** Restore `stateDict()`'s result. */
  loadStateDict(state: { lastEpoch: number } | StateValue): void {
    const last = typeof state === 'object' && state !== null && !Array.isArray(state) ? (state as Record<string, unknown>)['lastEpoch'] : undefined;
    if (typeof last !== 'number') throw new TypeError('loadStateDict expects { lastEpoch } as returned by stateDict()');
    this.lastEpoch = last;
  }
}
