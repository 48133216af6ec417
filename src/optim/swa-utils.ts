/**
 * Stochastic weight averaging and EMA of weights (torch.optim.swa_utils): `AveragedModel`,
 * the averaging functions, `updateBn` and the `SWALR` scheduler.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { Module, type AnyModule, type IncompatibleKeys, type StateDict } from '../nn/module.js';
import { BatchNormBase } from '../nn/norm.js';
import { Parameter, isParameter } from '../nn/parameter.js';
import type { Device } from '../tensor/backend/backend.js';
import { onesLike, tensor, zerosLike } from '../tensor/creation.js';
import { isFloating, type DType } from '../tensor/dtype.js';
import { keep, scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFloats, readFloats } from './flat.js';
import { perGroup, LRScheduler, type LRSchedulerOptions, type SchedulerOptimizer } from './lr-scheduler/base.js';
import { rampCos, rampLinear } from './lr-scheduler/curves.js';

/** `avgFn(averaged, current, numAveraged)`: the new average of one tensor. */
export type AvgFn = (averaged: Tensor, current: Tensor, numAveraged: number) => Tensor;
/** `multiAvgFn(averaged, current, numAveraged)`: update every averaged tensor in place. */
export type MultiAvgFn = (averaged: Tensor[], current: Tensor[], numAveraged: number) => void;

/**
 * The running mean of SWA: `averaged + (current − averaged) / (n + 1)` (`get_swa_avg_fn`).
 * @example
 * const swa = new optim.swaUtils.AveragedModel(model, { avgFn: optim.swaUtils.getSwaAvgFn() });
 */
export function getSwaAvgFn(): AvgFn {
  return (averaged, current, n) => averaged.add(current.sub(averaged).div(n + 1));
}

/**
 * An exponential moving average: `decay·ema + (1 − decay)·current` (`get_ema_avg_fn`).
 * @example
 * const ema = new optim.swaUtils.AveragedModel(model, { avgFn: optim.swaUtils.getEmaAvgFn(0.999) });
 */
export function getEmaAvgFn(decay = 0.999): AvgFn {
  return (ema, current) => ema.mul(decay).add(current.mul(1 - decay));
}

/** `end` weighted by `w` into `start` in place, with torch.lerp's two formulas (exact at both ends). */
function lerpInPlace(start: Tensor, end: Tensor, w: number): void {
  if (start.device !== 'cpu' || end.device !== 'cpu') {
    // Off the CPU: the same formulas as tensor ops, written in place (nothing read back).
    scope(() => {
      const e = end.to(start.device);
      start.copy_(w < 0.5 ? start.add(e.sub(start).mul(w)) : e.sub(e.sub(start).mul(1 - w)));
    });
    return;
  }
  const e = readFloats(end);
  writeFloats([start], (s) => {
    for (let i = 0; i < s.length; i++) s[i] = w < 0.5 ? s[i]! + w * (e[i]! - s[i]!) : e[i]! - (e[i]! - s[i]!) * (1 - w);
  });
}

/**
 * The EMA over a list of tensors, in place: `ema = lerp(ema, current, 1 − decay)`
 * (`get_ema_multi_avg_fn`; integer tensors use `ema·decay + current·(1 − decay)`).
 * @example
 * const ema = new optim.swaUtils.AveragedModel(model, { multiAvgFn: optim.swaUtils.getEmaMultiAvgFn(0.999) });
 */
export function getEmaMultiAvgFn(decay = 0.999): MultiAvgFn {
  return (emas, currents) => {
    noGrad(() => emas.forEach((ema, i) => {
      const cur = currents[i]!;
      if (isFloating(ema.dtype)) lerpInPlace(ema, cur, 1 - decay);
      else ema.copy_(ema.mul(decay).add(cur.mul(1 - decay)));
    }));
  };
}

/**
 * The SWA running mean over a list of tensors, in place (`get_swa_multi_avg_fn`):
 * `lerp(averaged, current, 1/(n + 1))` for float tensors.
 */
export function getSwaMultiAvgFn(): MultiAvgFn {
  return (averaged, currents, n) => {
    noGrad(() => averaged.forEach((a, i) => {
      const cur = currents[i]!;
      if (isFloating(a.dtype)) lerpInPlace(a, cur, 1 / (n + 1));
      else a.copy_(a.add(cur.sub(a).mul(1.0 / (n + 1))));
    }));
  };
}

// ------------------------------------------------------------------ deep copy of a module

function copyTensor(t: Tensor, memo: Map<unknown, unknown>): Tensor {
  const hit = memo.get(t);
  if (hit instanceof Tensor) return hit;
  const requiresGrad = t.requiresGrad;
  const copy = (): Tensor => {
    const data = noGrad(() => t.clone());
    return keep(isParameter(t) ? new Parameter(data, requiresGrad) : data.requiresGrad_(requiresGrad));
  };
  // NOTE: off the CPU the copy is made in a scope, which releases the clone a Parameter wraps:
  // the copy is then its buffer's only owner, so disposing the copied module frees it.
  const out = t.device !== 'cpu' ? scope(copy) : copy();
  memo.set(t, out);
  return out;
}

function copyValue(v: unknown, memo: Map<unknown, unknown>): unknown {
  if (v instanceof Tensor) return copyTensor(v, memo);
  if (v instanceof Module) return copyModule(v as AnyModule, memo);
  if (Array.isArray(v)) return v.map((x: unknown) => copyValue(x, memo));
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyValue(x, memo)]));
  }
  return v;
}

/**
 * A deep copy of a module (Python's `copy.deepcopy` of an nn.Module): same class, parameters,
 * buffers (persistence kept) and children re-registered in order with copied tensors, other
 * attributes copied; shared tensors and modules stay shared. Hooks are not copied.
 */
function copyModule<M extends AnyModule>(m: M, memo: Map<unknown, unknown> = new Map()): M {
  const hit = memo.get(m);
  if (hit) return hit as M;
  // NOTE: only Module's constructor runs (the registry and its Proxy), with the subclass's
  // prototype, so subclass constructors with arguments need not be replayed.
  const copy = Reflect.construct(Module, [], m.constructor) as M;
  memo.set(m, copy);
  // NOTE: in a scope, which releases the state dict's detached aliases (owners of device buffers).
  const persistent = new Set(scope(() => Object.keys(m.stateDict())));
  for (const [name, p] of m.namedParameters('', false)) copy.registerParameter(name, copyTensor(p, memo));
  for (const [name, b] of m.namedBuffers('', false)) copy.registerBuffer(name, copyTensor(b, memo), { persistent: persistent.has(name) });
  for (const [name, child] of m.namedChildren()) copy.addModule(name, copyModule(child, memo));
  for (const [key, desc] of Object.entries(Object.getOwnPropertyDescriptors(m))) {
    if (Object.prototype.hasOwnProperty.call(copy, key) && key !== 'training') continue;
    Reflect.defineProperty(copy, key, 'value' in desc ? { ...desc, value: copyValue(desc.value, memo) } : desc);
  }
  return copy;
}

// ------------------------------------------------------------------ AveragedModel

/** Options of AveragedModel (PyTorch's arguments in camelCase; see the defaults). */
export interface AveragedModelOptions {
  /** Move the averaged copy to this device. */
  device?: Device;
  /** The averaging function per tensor (default: the SWA running mean). */
  avgFn?: AvgFn;
  /** An in-place averaging function over all tensors at once (takes precedence over `avgFn`). */
  multiAvgFn?: MultiAvgFn;
  /** Average buffers too (e.g. BatchNorm statistics) instead of copying them (default false). */
  useBuffers?: boolean;
}

/**
 * A copy of `model` whose parameters (and, with `useBuffers`, buffers) hold a running average
 * of `model`'s, updated by `updateParameters(model)` (torch.optim.swa_utils.AveragedModel; SWA,
 * Izmailov et al., arXiv:1803.05407). Without `useBuffers` the buffers are copied from `model`
 * at each update, as PyTorch 2.x does (1.13 left them at their initial values). `avgFn`
 * receives the number of models averaged so far as a number, from a host copy of `nAveraged`:
 * on the gpu device an update reads nothing back.
 * @example
 * const swa = new optim.swaUtils.AveragedModel(model);
 * // after each epoch from swaStart on:
 * swa.updateParameters(model);
 * optim.swaUtils.updateBn(loader, swa);
 */
/** The forward inputs and output of a module type. */
type InputsOf<M> = M extends Module<infer I, unknown> ? I : never;
type OutputOf<M> = M extends Module<infer _I, infer O> ? O : never;

export class AveragedModel<M extends AnyModule = AnyModule> extends Module<InputsOf<M>, OutputOf<M>> {
  /** The averaged copy of the model. */
  declare readonly module: M;
  /** How many models have been averaged (a 0-d int32 buffer, `n_averaged`). */
  declare nAveraged: Tensor;
  private readonly avgFn: AvgFn | null;
  private readonly multiAvgFn: MultiAvgFn | null;
  readonly useBuffers: boolean;
  /**
   * A host copy of `nAveraged` (the buffer it was taken from, and that buffer's version then), so
   * an update reads no device memory: only a write from elsewhere makes `updateParameters` read
   * the buffer back.
   */
  private counted: { tensor: Tensor; version: number; n: number } | null = null;

  constructor(model: M, options: AveragedModelOptions = {}) {
    super();
    this.addModule('module', copyModule(model));
    if (options.device) this.module.to(options.device);
    this.registerBuffer('nAveraged', keep(tensor(0, { dtype: 'int32', ...(options.device && { device: options.device }) })));
    this.avgFn = options.avgFn ?? null;
    this.multiAvgFn = options.multiAvgFn ?? null;
    this.useBuffers = options.useBuffers ?? false;
    this.noteCount(0);
  }

  /** `nAveraged` as a number: the host copy while the buffer is the one it was taken from, unchanged. */
  private numAveraged(): number {
    const t = this.nAveraged;
    const c = this.counted;
    if (c && c.tensor === t && c.version === t.storage.version) return c.n;
    return this.noteCount(t.item());
  }

  /** Record `n` as the value `nAveraged` holds now. */
  private noteCount(n: number): number {
    this.counted = { tensor: this.nAveraged, version: this.nAveraged.storage.version, n };
    return n;
  }

  /** Module's `to()`, keeping the host copy of `nAveraged` (the moved buffer holds the same count). */
  override to(target: DType | Device): this {
    const t = this.nAveraged;
    const c = this.counted;
    const n = c && c.tensor === t && c.version === t.storage.version ? c.n : null;
    super.to(target);
    if (n !== null) this.noteCount(n);
    return this;
  }

  /** Module's `loadStateDict()`, taking the host copy of `nAveraged` from a CPU checkpoint value. */
  override loadStateDict(stateDict: StateDict | ReadonlyMap<string, Tensor>, opts: { strict?: boolean } = {}): IncompatibleKeys {
    const out = super.loadStateDict(stateDict, opts);
    const src = stateDict instanceof Map ? stateDict.get('nAveraged') : (stateDict as StateDict)['nAveraged'];
    if (src instanceof Tensor && src.device === 'cpu' && src.numel() === 1) this.noteCount(Number(src.dataSync()[0]));
    return out;
  }

  override forward(...inputs: InputsOf<M>): OutputOf<M> {
    // NOTE: M's own forward signature, which TypeScript cannot see through the generic.
    return (this.module as unknown as Module<InputsOf<M>, OutputOf<M>>).call(...inputs);
  }

  /** Fold `model`'s current parameters (and buffers, with `useBuffers`) into the average. */
  updateParameters(model: M): void {
    const own = this.useBuffers ? [...this.module.parameters(), ...this.module.buffers()] : this.parameters();
    const theirs = this.useBuffers ? [...model.parameters(), ...model.buffers()] : model.parameters();
    const n = this.numAveraged();
    // NOTE: a scope frees the temporaries on the gpu device; every result is written in place.
    scope(() => noGrad(() => {
      const averaged: Tensor[] = [];
      const current: Tensor[] = [];
      own.forEach((a, i) => {
        const m = theirs[i];
        if (!m) return;
        const cur = m.detach().to(a.device);
        averaged.push(a.detach());
        current.push(cur);
        if (n === 0) a.detach().copy_(cur);
      });
      if (n > 0) {
        if (this.multiAvgFn) this.multiAvgFn(averaged, current, n);
        else if (this.avgFn) averaged.forEach((a, i) => a.copy_(this.avgFn!(a, current[i]!, n)));
        else {
          // NOTE: PyTorch 2.x uses the per-tensor SWA formula on the CPU (foreach lerp elsewhere).
          const swa = getSwaAvgFn();
          averaged.forEach((a, i) => a.copy_(swa(a, current[i]!, n)));
        }
      }
      if (!this.useBuffers) {
        const buffers = model.buffers();
        this.module.buffers().forEach((b, i) => {
          const src = buffers[i];
          if (src) b.detach().copy_(src.detach().to(b.device));
        });
      }
      this.nAveraged.add_(1);
    }));
    this.noteCount(n + 1);
  }
}

/**
 * Recompute the BatchNorm running statistics of `model` with one pass over `loader`
 * (torch.optim.swa_utils.update_bn): statistics reset, momentum set to a cumulative average,
 * forward in training mode, then momenta and mode restored. Batches that are arrays use their
 * first element as the input.
 * @example
 * optim.swaUtils.updateBn(trainLoader, swaModel);
 */
export function updateBn(loader: Iterable<Tensor | readonly unknown[]>, model: Module<[Tensor], unknown>, opts: { device?: Device } = {}): void {
  const momenta = new Map<BatchNormBase, number | null>();
  noGrad(() => {
    for (const m of model.modules()) {
      if (!(m instanceof BatchNormBase) || !m.runningMean || !m.runningVar) continue;
      m.runningMean = keep(zerosLike(m.runningMean));
      m.runningVar = keep(onesLike(m.runningVar));
      momenta.set(m, m.momentum);
    }
  });
  if (momenta.size === 0) return;
  const wasTraining = model.training;
  model.train();
  for (const m of momenta.keys()) {
    // NOTE: `momentum` is readonly on BatchNormBase; update_bn swaps it for a cumulative average
    // (off the CPU, BatchNorm takes 1/batches seen as a device tensor: nothing is read back).
    Object.assign(m, { momentum: null });
    noGrad(() => m.numBatchesTracked?.mul_(0));
  }
  try {
    noGrad(() => {
      for (const batch of loader) {
        const first: unknown = batch instanceof Tensor ? batch : batch[0];
        if (!(first instanceof Tensor)) throw new TypeError('updateBn: each batch must be a Tensor or an array whose first element is a Tensor');
        // The statistics are updated in place; the scope frees the forward's activations.
        scope(() => void model.call(opts.device ? first.to(opts.device) : first));
      }
    });
  } finally {
    for (const [m, momentum] of momenta) Object.assign(m, { momentum });
    model.train(wasTraining);
  }
}

// ------------------------------------------------------------------ SWALR

/** Options of SWALR (PyTorch's arguments in camelCase; see the defaults). */
export interface SWALROptions extends LRSchedulerOptions {
  /** The SWA learning rate to anneal to, for all groups or per group. */
  swaLr: number | readonly number[];
  /** Epochs of the annealing (default 10). */
  annealEpochs?: number;
  /** Annealing curve (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
}

interface SWALRConfig {
  annealEpochs: number;
  annealStrategy: 'cos' | 'linear';
}

/**
 * Anneal each group's lr to `swaLr` over `annealEpochs` epochs, then hold it
 * (torch.optim.swa_utils.SWALR).
 * @example
 * const swaSched = new optim.swaUtils.SWALR(opt, { swaLr: 0.05, annealEpochs: 5 });
 */
export class SWALR extends LRScheduler<SWALRConfig> {
  constructor(optimizer: SchedulerOptimizer, options: SWALROptions) {
    const swaLrs = perGroup('swa_lr', optimizer, options.swaLr);
    optimizer.paramGroups.forEach((g, i) => (g.swaLr = swaLrs[i]!));
    const annealStrategy = options.annealStrategy ?? 'cos';
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      throw new RangeError(`anneal_strategy must by one of 'cos' or 'linear', instead got ${String(annealStrategy)}`);
    }
    const annealEpochs = options.annealEpochs ?? 10;
    if (!Number.isInteger(annealEpochs) || annealEpochs < 0) throw new RangeError(`anneal_epochs must be equal or greater than 0, got ${annealEpochs}`);
    super(optimizer, options.lastEpoch ?? -1, { annealEpochs, annealStrategy });
  }

  getLr(): number[] {
    const { annealEpochs } = this.config;
    const anneal = this.config.annealStrategy === 'cos' ? rampCos : rampLinear;
    let step = this.stepCount - 1;
    if (annealEpochs === 0) step = Math.max(1, step);
    const prevT = Math.max(0, Math.min(1, (step - 1) / Math.max(1, annealEpochs)));
    const prevAlpha = anneal(prevT);
    const groups = this.optimizer.paramGroups;
    // The lr before this annealing step, solved from the last one (`_get_initial_lr`).
    const prevLrs = groups.map((g) => (prevAlpha === 1 ? g.swaLr! : (g.lr - prevAlpha * g.swaLr!) / (1 - prevAlpha)));
    const t = Math.max(0, Math.min(1, step / Math.max(1, annealEpochs)));
    const alpha = anneal(t);
    return groups.map((g, i) => g.swaLr! * alpha + prevLrs[i]! * (1 - alpha));
  }
}
