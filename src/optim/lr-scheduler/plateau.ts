/** ReduceLROnPlateau: cut the lr when a metric stops improving. */
import type { Tensor } from '../../tensor/tensor.js';
import type { StateValue } from '../state.js';
import { checkOptimizer, type SchedulerOptimizer, type SchedulerStateDict } from './base.js';

/** Options of ReduceLROnPlateau (PyTorch's arguments in camelCase; see the defaults). */
export interface ReduceLROnPlateauOptions {
  /** Whether the metric should decrease ('min', default) or increase ('max'). */
  mode?: 'min' | 'max';
  /** lr = lr · factor on a plateau (default 0.1, must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before cutting (default 10). */
  patience?: number;
  /** Minimal change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': beyond best·(1 ∓ threshold), 'abs': beyond best ∓ threshold (default 'rel'). */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a cut before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, for all groups or per group (default 0). */
  minLr?: number | readonly number[];
  /** Cuts smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reduce the learning rate by `factor` once a metric has not improved for `patience` epochs
 * (torch.optim.lr_scheduler.ReduceLROnPlateau). Unlike the other schedulers, `step` takes the
 * metric.
 * @example
 * const sched = new optim.lrScheduler.ReduceLROnPlateau(opt, { mode: 'min', patience: 5 });
 * for (const epoch of epochs) { train(); sched.step(validationLoss()); }
 */
export class ReduceLROnPlateau {
  readonly optimizer: SchedulerOptimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLrs: number[];
  eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: SchedulerOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const factor = options.factor ?? 0.1;
    if (factor >= 1.0) throw new RangeError('Factor should be < 1.0.');
    checkOptimizer(optimizer);
    this.optimizer = optimizer;
    this.factor = factor;
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n) throw new RangeError(`expected ${n} min_lrs, got ${minLr.length}`);
      this.minLrs = [...(minLr as readonly number[])];
    } else {
      this.minLrs = new Array<number>(n).fill(minLr as number);
    }
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`mode ${String(this.mode)} is unknown!`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new RangeError(`threshold mode ${String(this.thresholdMode)} is unknown!`);
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Record this epoch's metric (a number or a one-element tensor) and cut the lr on a plateau. */
  step(metric: number | Tensor, epoch?: number): void {
    const current = typeof metric === 'number' ? metric : metric.item();
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // ignore any bad epochs in cooldown
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return {
      mode: this.mode, factor: this.factor, patience: this.patience, threshold: this.threshold, thresholdMode: this.thresholdMode,
      cooldown: this.cooldown, minLrs: [...this.minLrs], eps: this.eps, best: this.best, numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch, lastLr: [...this.lastLr],
    };
  }

  loadStateDict(stateDict: SchedulerStateDict | StateValue): void {
    if (!isRecord(stateDict)) throw new TypeError('loadStateDict expects an object, as returned by stateDict()');
    const num = (k: string, fallback: number): number => {
      const v = stateDict[k];
      return typeof v === 'number' ? v : fallback;
    };
    const list = (k: string, fallback: number[]): number[] => {
      const v = stateDict[k];
      return Array.isArray(v) ? v.map(Number) : fallback;
    };
    if (stateDict['mode'] === 'min' || stateDict['mode'] === 'max') this.mode = stateDict['mode'];
    if (stateDict['thresholdMode'] === 'rel' || stateDict['thresholdMode'] === 'abs') this.thresholdMode = stateDict['thresholdMode'];
    this.factor = num('factor', this.factor);
    this.patience = num('patience', this.patience);
    this.threshold = num('threshold', this.threshold);
    this.cooldown = num('cooldown', this.cooldown);
    this.eps = num('eps', this.eps);
    this.best = num('best', this.best);
    this.numBadEpochs = num('numBadEpochs', this.numBadEpochs);
    this.cooldownCounter = num('cooldownCounter', this.cooldownCounter);
    this.lastEpoch = num('lastEpoch', this.lastEpoch);
    this.minLrs = list('minLrs', this.minLrs);
    this.lastLr = list('lastLr', this.lastLr);
  }
}
