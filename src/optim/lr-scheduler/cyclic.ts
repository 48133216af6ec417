/** Cyclical schedules: CyclicLR, OneCycleLR and CosineAnnealingWarmRestarts. */
import { pyNumber } from '../check.js';
import { annealCos, annealLinear, cosineAnnealing } from './curves.js';
import { checkOptimizer, LRScheduler, perGroup, type LRSchedulerOptions, type SchedulerOptimizer } from './base.js';

const MOMENTUM_ERROR = 'optimizer must support momentum or beta1 with `cycle_momentum` option enabled';

/** Whether momentum cycling drives Adam-style `betas[0]` (else `momentum`); throws if neither exists. */
function usesBeta1(optimizer: SchedulerOptimizer): boolean {
  if (!('momentum' in optimizer.defaults) && !('betas' in optimizer.defaults)) throw new RangeError(MOMENTUM_ERROR);
  return 'betas' in optimizer.defaults;
}

function setMomentum(optimizer: SchedulerOptimizer, values: readonly number[], useBeta1: boolean): void {
  optimizer.paramGroups.forEach((g, i) => {
    if (useBeta1) g.betas = [values[i]!, g.betas?.[1] ?? 0.999];
    else g.momentum = values[i]!;
  });
}

export type CyclicMode = 'triangular' | 'triangular2' | 'exp_range';

/** Options of CyclicLR (PyTorch's arguments in camelCase; see the defaults). */
export interface CyclicLROptions extends LRSchedulerOptions {
  /** Lower lr bound, per group or for all. */
  baseLr: number | readonly number[];
  /** Upper lr bound, per group or for all. */
  maxLr: number | readonly number[];
  /** Iterations in the increasing half of a cycle (default 2000). */
  stepSizeUp?: number;
  /** Iterations in the decreasing half (default: stepSizeUp). */
  stepSizeDown?: number | null;
  /** Amplitude policy (default 'triangular'); ignored when `scaleFn` is given. */
  mode?: CyclicMode;
  /** `exp_range`'s decay base: amplitude `gamma^iterations` (default 1). */
  gamma?: number;
  /** A custom amplitude scale, `scaleFn(x)` in [0, 1]. */
  scaleFn?: ((x: number) => number) | null;
  /** What `scaleFn` is a function of: the cycle number or the iteration (default 'cycle'). */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lower momentum bound (default 0.8). */
  baseMomentum?: number | readonly number[];
  /** Upper momentum bound (default 0.9). */
  maxMomentum?: number | readonly number[];
}

interface CyclicConfig {
  initialBaseLrs: number[];
  maxLrs: number[];
  totalSize: number;
  stepRatio: number;
  mode: CyclicMode | 'custom';
  gamma: number;
  scaleFnCustom: ((x: number) => number) | null;
  scaleMode: 'cycle' | 'iterations';
  cycleMomentum: boolean;
  useBeta1: boolean;
  baseMomentums: number[];
  maxMomentums: number[];
}

function cyclicConfig(optimizer: SchedulerOptimizer, o: CyclicLROptions): CyclicConfig {
  checkOptimizer(optimizer);
  const lastEpoch = o.lastEpoch ?? -1;
  const baseLrs = perGroup('base_lr', optimizer, o.baseLr);
  if (lastEpoch === -1) optimizer.paramGroups.forEach((g, i) => (g.lr = baseLrs[i]!));
  const maxLrs = perGroup('max_lr', optimizer, o.maxLr);
  const up = o.stepSizeUp ?? 2000;
  const down = o.stepSizeDown ?? up;
  const totalSize = up + down;
  const mode = o.mode ?? 'triangular';
  const scaleFn = o.scaleFn ?? null;
  if (!['triangular', 'triangular2', 'exp_range'].includes(mode) && scaleFn === null) throw new RangeError('mode is invalid and scale_fn is None');
  const cycleMomentum = o.cycleMomentum ?? true;
  let useBeta1 = false;
  let baseMomentums: number[] = [];
  let maxMomentums: number[] = [];
  if (cycleMomentum) {
    useBeta1 = usesBeta1(optimizer);
    baseMomentums = perGroup('base_momentum', optimizer, o.baseMomentum ?? 0.8);
    maxMomentums = perGroup('max_momentum', optimizer, o.maxMomentum ?? 0.9);
    if (lastEpoch === -1) {
      setMomentum(optimizer, maxMomentums, useBeta1);
      optimizer.paramGroups.forEach((g, i) => {
        g.maxMomentum = maxMomentums[i]!;
        g.baseMomentum = baseMomentums[i]!;
      });
    }
  }
  return {
    initialBaseLrs: baseLrs, maxLrs, totalSize, stepRatio: up / totalSize,
    mode: scaleFn ? 'custom' : mode, gamma: o.gamma ?? 1.0, scaleFnCustom: scaleFn,
    scaleMode: scaleFn ? (o.scaleMode ?? 'cycle') : mode === 'exp_range' ? 'iterations' : 'cycle',
    cycleMomentum, useBeta1, baseMomentums, maxMomentums,
  };
}

/**
 * Cyclical learning rates (Smith, arXiv:1506.01186): the lr moves between `baseLr` and `maxLr`
 * every `stepSizeUp + stepSizeDown` iterations, with momentum (or Adam's beta1) cycling the other
 * way; follows torch.optim.lr_scheduler.CyclicLR (beta1 cycling as PyTorch 2.x). Step it after
 * every batch.
 * @example
 * const sched = new optim.lrScheduler.CyclicLR(opt, { baseLr: 1e-3, maxLr: 0.1, stepSizeUp: 200 });
 */
export class CyclicLR extends LRScheduler<CyclicConfig> {
  constructor(optimizer: SchedulerOptimizer, options: CyclicLROptions) {
    const config = cyclicConfig(optimizer, options);
    super(optimizer, options.lastEpoch ?? -1, config);
    this.baseLrs = [...config.initialBaseLrs];
  }

  /** The amplitude scale at `x` (a cycle number or an iteration, per `scaleMode`). */
  scaleFn(x: number): number {
    const c = this.config;
    if (c.scaleFnCustom) return c.scaleFnCustom(x);
    if (c.mode === 'triangular2') return 1 / 2.0 ** (x - 1);
    if (c.mode === 'exp_range') return c.gamma ** x;
    return 1.0;
  }

  getLr(): number[] {
    const c = this.config;
    const cycle = Math.floor(1 + this.lastEpoch / c.totalSize);
    const x = 1.0 + this.lastEpoch / c.totalSize - cycle;
    const scaleFactor = x <= c.stepRatio ? x / c.stepRatio : (x - 1) / (c.stepRatio - 1);
    const scale = this.scaleFn(c.scaleMode === 'cycle' ? cycle : this.lastEpoch);
    const lrs = this.baseLrs.map((base, i) => base + (c.maxLrs[i]! - base) * scaleFactor * scale);
    if (c.cycleMomentum) {
      const momentums = c.baseMomentums.map((base, i) => c.maxMomentums[i]! - (c.maxMomentums[i]! - base) * scaleFactor * scale);
      setMomentum(this.optimizer, momentums, c.useBeta1);
    }
    return lrs;
  }
}

/** Options of OneCycleLR (PyTorch's arguments in camelCase; see the defaults). */
export interface OneCycleLROptions extends LRSchedulerOptions {
  /** Peak lr, per group or for all. */
  maxLr: number | readonly number[];
  /** Total steps of the cycle (or give `epochs` and `stepsPerEpoch`). */
  totalSteps?: number | null;
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** Annealing curve (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the lr peak (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Up, down to initialLr, then down to minLr, instead of up then down (default false). */
  threePhase?: boolean;
}

type GroupKey = 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum';

interface Phase {
  endStep: number;
  startLr: GroupKey;
  endLr: GroupKey;
  startMomentum: GroupKey;
  endMomentum: GroupKey;
}

interface OneCycleConfig {
  totalSteps: number;
  phases: Phase[];
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1: boolean;
}

function positiveInt(name: string, v: number): number {
  if (!(v > 0) || !Number.isInteger(v)) throw new RangeError(`Expected positive integer ${name}, but got ${pyNumber(v)}`);
  return v;
}

function oneCycleConfig(optimizer: SchedulerOptimizer, o: OneCycleLROptions): OneCycleConfig {
  checkOptimizer(optimizer);
  let totalSteps: number;
  if (o.totalSteps == null && o.epochs == null && o.stepsPerEpoch == null) {
    throw new RangeError('You must define either total_steps OR (epochs AND steps_per_epoch)');
  } else if (o.totalSteps != null) {
    totalSteps = positiveInt('total_steps', o.totalSteps);
  } else {
    totalSteps = positiveInt('epochs', o.epochs ?? NaN) * positiveInt('steps_per_epoch', o.stepsPerEpoch ?? NaN);
  }
  const pct = o.pctStart ?? 0.3;
  const phases: Phase[] = o.threePhase
    ? [
      { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
      { endStep: 2 * pct * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
    ]
    : [
      { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
      { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
    ];
  if (!(pct >= 0 && pct <= 1)) throw new RangeError(`Expected float between 0 and 1 pct_start, but got ${pyNumber(pct)}`);
  const annealStrategy = o.annealStrategy ?? 'cos';
  if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
    throw new RangeError(`anneal_strategy must by one of 'cos' or 'linear', instead got ${String(annealStrategy)}`);
  }
  const lastEpoch = o.lastEpoch ?? -1;
  const maxLrs = perGroup('max_lr', optimizer, o.maxLr);
  const divFactor = o.divFactor ?? 25;
  const finalDivFactor = o.finalDivFactor ?? 1e4;
  if (lastEpoch === -1) {
    optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = maxLrs[i]! / divFactor;
      g.maxLr = maxLrs[i]!;
      g.minLr = g.initialLr / finalDivFactor;
    });
  }
  const cycleMomentum = o.cycleMomentum ?? true;
  let useBeta1 = false;
  if (cycleMomentum) {
    useBeta1 = usesBeta1(optimizer);
    const maxMomentums = perGroup('max_momentum', optimizer, o.maxMomentum ?? 0.95);
    const baseMomentums = perGroup('base_momentum', optimizer, o.baseMomentum ?? 0.85);
    if (lastEpoch === -1) {
      setMomentum(optimizer, maxMomentums, useBeta1);
      optimizer.paramGroups.forEach((g, i) => {
        g.maxMomentum = maxMomentums[i]!;
        g.baseMomentum = baseMomentums[i]!;
      });
    }
  }
  return { totalSteps, phases, annealStrategy, cycleMomentum, useBeta1 };
}

/**
 * The 1cycle policy (Smith & Topin, arXiv:1708.07120): warm up from `maxLr/divFactor` to
 * `maxLr`, then anneal to `initialLr/finalDivFactor`, with momentum (or Adam's beta1) cycling
 * inversely; follows torch.optim.lr_scheduler.OneCycleLR. Step it after every batch.
 * @example
 * const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 1000 });
 */
export class OneCycleLR extends LRScheduler<OneCycleConfig> {
  constructor(optimizer: SchedulerOptimizer, options: OneCycleLROptions) {
    super(optimizer, options.lastEpoch ?? -1, oneCycleConfig(optimizer, options));
  }

  getLr(): number[] {
    const c = this.config;
    const stepNum = this.lastEpoch;
    if (stepNum > c.totalSteps) throw new RangeError(`Tried to step ${stepNum + 1} times. The specified number of total steps is ${c.totalSteps}`);
    const anneal = c.annealStrategy === 'cos' ? annealCos : annealLinear;
    const lrs: number[] = [];
    const momentums: number[] = [];
    for (const g of this.optimizer.paramGroups) {
      let startStep = 0;
      const field = (k: GroupKey): number => g[k] ?? NaN;
      for (let i = 0; i < c.phases.length; i++) {
        const phase = c.phases[i]!;
        if (stepNum <= phase.endStep || i === c.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lrs.push(anneal(field(phase.startLr), field(phase.endLr), pct));
          if (c.cycleMomentum) momentums.push(anneal(field(phase.startMomentum), field(phase.endMomentum), pct));
          break;
        }
        startStep = phase.endStep;
      }
    }
    if (c.cycleMomentum) setMomentum(this.optimizer, momentums, c.useBeta1);
    return lrs;
  }
}

/** Options of CosineAnnealingWarmRestarts (PyTorch's arguments in camelCase; see the defaults). */
export interface CosineAnnealingWarmRestartsOptions extends LRSchedulerOptions {
  /** Epochs until the first restart (a positive integer). */
  T0: number;
  /** Factor by which the period grows after each restart (an integer ≥ 1, default 1). */
  TMult?: number;
  /** Minimum lr (default 0). */
  etaMin?: number;
}

interface WarmRestartsConfig {
  T0: number;
  TI: number;
  TMult: number;
  etaMin: number;
  TCur: number;
}

/**
 * Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter, arXiv:1608.03983): the lr
 * follows a cosine from the initial lr to `etaMin` over `TI` epochs, then restarts with
 * `TI = TI·TMult`. `step(epoch)` accepts fractional epochs (e.g. `epoch + i / itersPerEpoch`).
 * @example
 * const sched = new optim.lrScheduler.CosineAnnealingWarmRestarts(opt, { T0: 10, TMult: 2 });
 */
export class CosineAnnealingWarmRestarts extends LRScheduler<WarmRestartsConfig> {
  constructor(optimizer: SchedulerOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    const { T0, TMult = 1, etaMin = 0 } = options;
    if (!(T0 > 0) || !Number.isInteger(T0)) throw new RangeError(`Expected positive integer T_0, but got ${pyNumber(T0)}`);
    if (!(TMult >= 1) || !Number.isInteger(TMult)) throw new RangeError(`Expected integer T_mult >= 1, but got ${pyNumber(TMult)}`);
    const lastEpoch = options.lastEpoch ?? -1;
    super(optimizer, lastEpoch, { T0, TI: T0, TMult, etaMin, TCur: lastEpoch });
  }

  getLr(): number[] {
    const { etaMin, TCur, TI } = this.config;
    return this.baseLrs.map((base) => cosineAnnealing(base, etaMin, TCur, TI));
  }

  override step(epoch?: number): void {
    const c = this.config;
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      c.TCur = c.TCur + 1;
      if (c.TCur >= c.TI) {
        c.TCur = c.TCur - c.TI;
        c.TI = c.TI * c.TMult;
      }
    } else {
      if (epoch < 0) throw new RangeError(`Expected non-negative epoch, but got ${pyNumber(epoch)}`);
      if (epoch >= c.T0) {
        if (c.TMult === 1) {
          c.TCur = epoch % c.T0;
        } else {
          const n = Math.trunc(Math.log((epoch / c.T0) * (c.TMult - 1) + 1) / Math.log(c.TMult));
          c.TCur = epoch - (c.T0 * (c.TMult ** n - 1)) / (c.TMult - 1);
          c.TI = c.T0 * c.TMult ** n;
        }
      } else {
        c.TI = c.T0;
        c.TCur = epoch;
      }
    }
    this.lastEpoch = Math.floor(epoch);
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i]!;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
}
