/**
 * Variance-reduced stochastic gradient methods for finite sums f(w) = (1/n)·Σᵢ fᵢ(w): SVRG,
 * SAG and SAGA. On strongly convex problems they converge linearly with a constant step size,
 * where SGD needs a decaying step and converges sublinearly.
 *
 * They need gradients of chosen samples, so `step` takes a *sample loss*: a function from sample
 * indices to the mean loss over those samples (built with autograd as usual, no `backward()`):
 * ```ts
 * const lossOf = (idx: readonly number[]) => F.binaryCrossEntropyWithLogits(X.indexSelect(0, ids(idx)).mv(w), y.indexSelect(0, ids(idx)));
 * const opt = new optim.SAGA([w], { lr: 0.1, numSamples: n, weightDecay: 1e-3 });
 * for (let k = 0; k < 10 * n; k++) opt.step(lossOf);          // draws one index uniformly
 * opt.step(lossOf, 17);                                        // or name the sample(s)
 * ```
 * `weightDecay` adds the exact gradient of (λ/2)·‖w‖² outside the estimator (not stored in the
 * tables), the usual way to handle the regulariser of a strongly convex finite sum.
 */
import { grad as autogradGrad } from '../autograd/engine.js';
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import { zeros } from '../tensor/creation.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative } from './check.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** The mean loss over the samples `indices` (a scalar tensor with a graph to the parameters). */
export type SampleLoss = (indices: readonly number[]) => Tensor;

/** Options shared by `SVRG`, `SAG` and `SAGA`. */
export interface VarianceReductionOptions extends OptimizerOptions {
  /** Step size (constant; default 1e-2). */
  lr: number;
  /** n, the number of samples in the finite sum (required). */
  numSamples: number;
  /** Samples drawn (uniformly, with replacement) per step when `step` is not given indices (default 1). */
  batchSize: number;
  /** λ of an L2 term (λ/2)·‖w‖², whose exact gradient is added to every step (default 0). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** Options of `SVRG` (defaults in `SVRG_DEFAULTS`). */
export interface SVRGOptions extends VarianceReductionOptions {
  /** Inner steps between snapshots, m; null for ⌈2n/batchSize⌉ (Johnson & Zhang's m = 2n) (default null). */
  updateFrequency: number | null;
  /** Samples per sample-loss call when computing the full gradient; null for all n at once (default null). */
  fullBatchSize: number | null;
}

/** Options of `SAGA` (defaults in `SAGA_DEFAULTS`). */
export interface SAGAOptions extends VarianceReductionOptions {
  /** The gradient table's start: 'zeros', or 'full' (∇fᵢ at the first iterate, n evaluations, as the paper) (default 'zeros'). */
  tableInit: 'zeros' | 'full';
}

/** Options of `SAG`. */
export type SAGOptions = VarianceReductionOptions;

/** Constructor options: the optimizer's, plus the generator that draws sample indices. */
export type VarianceReductionArgs<O> = Partial<O> & { numSamples: number; generator?: Generator };

const VR_DEFAULTS = { lr: 1e-2, batchSize: 1, weightDecay: 0, maximize: false };
/** `SVRG`'s default options. */
export const SVRG_DEFAULTS: Omit<SVRGOptions, 'numSamples'> = { ...VR_DEFAULTS, updateFrequency: null, fullBatchSize: null };
/** `SAG`'s default options. */
export const SAG_DEFAULTS: Omit<SAGOptions, 'numSamples'> = { ...VR_DEFAULTS };
/** `SAGA`'s default options. */
export const SAGA_DEFAULTS: Omit<SAGAOptions, 'numSamples'> = { ...VR_DEFAULTS, tableInit: 'zeros' };

/** Per-parameter state of `SVRG`. */
export interface SVRGState {
  /** Inner steps taken. */
  step: number;
  /** The snapshot w̃. */
  snapshot: Tensor;
  /** μ = ∇f(w̃), the full gradient at the snapshot. */
  fullGrad: Tensor;
}

/** Per-parameter state of `SAG`. */
export interface SAGState {
  step: number;
  /** The last gradient seen of every sample, shape [n, ...p.shape]. */
  table: Tensor;
  /** SAG: Σᵢ yᵢ; SAGA: (1/n)·Σᵢ yᵢ. */
  tableSum: Tensor;
  /** SAG: 1 for the samples seen so far, shape [n]. */
  seen?: Tensor;
}

/** Per-parameter state of `SAGA` (its table holds gradients; `tableSum` their mean). */
export type SAGAState = SAGState;

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new RangeError(`${name} should be a positive integer value, but got ${name}=${String(v)}`);
}

/** The shared machinery: index handling, per-sample gradients, the parameter list. */
abstract class VarianceReduced<O extends VarianceReductionOptions, S> extends Optimizer<O, S> {
  /** Per-sample gradients evaluated so far (each index in a sample-loss call counts once). */
  gradientEvaluations = 0;
  /** The generator that draws sample indices. */
  readonly generator: Generator;
  private sampleLoss: SampleLoss | null = null;
  protected indices: number[] = [];

  constructor(params: ParamsArg<O>, options: VarianceReductionArgs<O>, defaults: Omit<O, 'numSamples'>) {
    const { generator, ...rest } = options;
    super(params, { ...defaults, ...rest } as unknown as O);
    this.generator = generator ?? defaultGenerator;
  }

  protected override checkOptions(o: O): O {
    checkLr(o.lr);
    positiveInt('num_samples', o.numSamples);
    positiveInt('batch_size', o.batchSize);
    checkNonNegative('weight_decay', o.weightDecay);
    return o;
  }

  /** n (optimizer-wide: read from the defaults). */
  get numSamples(): number {
    return this.defaults.numSamples;
  }

  /**
   * One step on the samples `indices` (default: `batchSize` indices drawn uniformly); returns
   * the mean loss over them. `sampleLoss(indices)` must return the mean loss over `indices`.
   */
  override step<L = Tensor>(sampleLoss?: (indices: readonly number[]) => L, indices?: number | readonly number[]): L | undefined {
    if (typeof sampleLoss !== 'function') {
      throw new TypeError(`${this.constructor.name}.step() requires a sample loss: a function from sample indices to the mean loss over them`);
    }
    const n = this.numSamples;
    const idx = indices === undefined
      ? Array.from({ length: this.defaults.batchSize }, () => Math.floor(this.generator.uniformDouble() * n))
      : typeof indices === 'number' ? [indices] : [...indices];
    if (idx.length === 0) throw new RangeError('step() needs at least one sample index');
    for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`sample index ${i} is out of range for numSamples=${n}`);
    this.sampleLoss = sampleLoss as unknown as SampleLoss;
    this.indices = idx;
    try {
      return super.step<L>();
    } finally {
      this.sampleLoss = null;
    }
  }

  /** The trainable parameters, over all groups. */
  protected get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params).filter((p) => p.requiresGrad);
  }

  /** The mean loss over `indices` and its gradient for each parameter (flat). */
  protected gradsAt(indices: readonly number[]): { loss: Tensor; grads: FloatArray[] } {
    const params = this.params;
    const fn = this.sampleLoss!;
    return enableGrad(() => {
      const loss = fn(indices);
      if (!(loss instanceof Tensor) || loss.numel() !== 1) throw new TypeError('the sample loss must return a scalar Tensor (the mean loss over the given samples)');
      const gs = loss.requiresGrad ? autogradGrad([loss], params, { allowUnused: true }) : params.map(() => null);
      this.gradientEvaluations += indices.length;
      return { loss: loss.detach(), grads: gs.map((g, i) => (g ? readFloats(g) : new Float64Array(params[i]!.numel()))) };
    });
  }

  /** w ← w − lr·(±v + λ·w) for every parameter, `v` flat per parameter (in `params` order). */
  protected apply(v: readonly FloatArray[]): void {
    const params = this.params;
    noGrad(() => params.forEach((p, k) => {
      const group = this.groupOf(p);
      const sign = group.maximize ? -1 : 1;
      const vk = v[k]!;
      writeFloats([p], (w) => {
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - group.lr * (sign * vk[i]! + group.weightDecay * w[i]!);
      });
    }));
  }

  protected groupOf(p: Tensor): ParamGroup<O> {
    return this.paramGroups.find((g) => g.params.includes(p))!;
  }
}

/**
 * SVRG (Johnson & Zhang, "Accelerating Stochastic Gradient Descent using Predictive Variance
 * Reduction", NeurIPS 2013), Option I (the snapshot is the last iterate):
 * ```
 * every m steps:  w̃ = w;  μ = ∇f(w̃) = (1/n)·Σᵢ ∇fᵢ(w̃)
 * v = ∇f_B(w) − ∇f_B(w̃) + μ;   w ← w − lr·(v + λ·w)
 * ```
 * Each step costs two mini-batch gradients; each snapshot n per-sample gradients.
 * @example
 * const opt = new optim.SVRG([w], { lr: 0.5, numSamples: n, weightDecay: 1e-3 });
 * for (let k = 0; k < 20 * n; k++) opt.step(lossOf);
 */
export class SVRG extends VarianceReduced<SVRGOptions, SVRGState> {
  constructor(params: ParamsArg<SVRGOptions>, options: VarianceReductionArgs<SVRGOptions>) {
    super(params, options, SVRG_DEFAULTS);
  }

  protected override checkOptions(o: SVRGOptions): SVRGOptions {
    super.checkOptions(o);
    if (o.updateFrequency !== null) positiveInt('update_frequency', o.updateFrequency);
    if (o.fullBatchSize !== null) positiveInt('full_batch_size', o.fullBatchSize);
    return o;
  }

  /** Take a snapshot at the current weights and compute the full gradient there. */
  snapshot(): void {
    const params = this.params;
    const n = this.numSamples;
    const chunk = this.defaults.fullBatchSize ?? n;
    const mu = params.map((p) => new Float64Array(p.numel()));
    for (let start = 0; start < n; start += chunk) {
      const idx = Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
      const { grads } = this.gradsAt(idx);
      const weight = idx.length / n;
      grads.forEach((g, k) => {
        for (let i = 0; i < g.length; i++) mu[k]![i] = mu[k]![i]! + weight * g[i]!;
      });
    }
    noGrad(() => params.forEach((p, k) => {
      const step = this.state.get(p)?.step ?? 0;
      const fullGrad = stateZeros(p);
      writeFloats([fullGrad], (a) => a.set(mu[k]!));
      this.state.set(p, { step, snapshot: keep(p.detach().clone()), fullGrad });
    }));
  }

  protected override runStep<L>(): L | undefined {
    const params = this.params;
    const b = this.defaults.batchSize;
    const m = this.defaults.updateFrequency ?? Math.ceil((2 * this.numSamples) / b);
    const s0 = this.state.get(params[0]!);
    if (!s0 || s0.step % m === 0) this.snapshot();
    const { loss, grads } = this.gradsAt(this.indices);
    const current = params.map((p) => readFloats(p).slice());
    noGrad(() => params.forEach((p) => {
      const snap = readFloats(this.state.get(p)!.snapshot);
      writeFloats([p], (w) => w.set(snap));
    }));
    let atSnapshot: FloatArray[];
    try {
      atSnapshot = this.gradsAt(this.indices).grads;
    } finally {
      noGrad(() => params.forEach((p, k) => writeFloats([p], (w) => w.set(current[k]!))));
    }
    const v = params.map((p, k) => {
      const s = this.state.get(p)!;
      s.step += 1;
      const mu = readFloats(s.fullGrad);
      const g = grads[k]!;
      const gs = atSnapshot[k]!;
      return Float64Array.from(g, (gi, i) => gi - gs[i]! + mu[i]!);
    });
    this.apply(v);
    return loss as unknown as L;
  }
}

/** Per-parameter gradient tables, shared by SAG and SAGA. */
function tableState(p: Tensor, n: number, withSeen: boolean): SAGState {
  const opts = { dtype: p.dtype, device: p.device };
  return {
    step: 0,
    table: keep(zeros([n, ...p.shape], opts)),
    tableSum: stateZeros(p),
    ...(withSeen && { seen: keep(zeros([n], opts)) }),
  };
}

/**
 * SAG, the stochastic average gradient (Schmidt, Le Roux & Bach, "Minimizing Finite Sums with
 * the Stochastic Average Gradient", Math. Programming 2017), Algorithm 1 with the normalisation
 * by the number of samples seen so far:
 * ```
 * for j in B:  d ← d − y_j + ∇f_j(w);  y_j ← ∇f_j(w)      (the table starts at 0)
 * w ← w − lr·(d/m + λ·w),   m = samples seen so far (n once every sample was visited)
 * ```
 * Memory: one gradient per sample (n·#params numbers). The paper's step size is 1/(16L).
 * @example
 * const opt = new optim.SAG([w], { lr: 1 / (16 * L), numSamples: n });
 * for (let k = 0; k < 20 * n; k++) opt.step(lossOf);
 */
export class SAG extends VarianceReduced<SAGOptions, SAGState> {
  constructor(params: ParamsArg<SAGOptions>, options: VarianceReductionArgs<SAGOptions>) {
    super(params, options, SAG_DEFAULTS);
  }

  protected override runStep<L>(): L | undefined {
    const params = this.params;
    const n = this.numSamples;
    let lossSum = 0;
    for (const j of this.indices) {
      const { loss, grads } = this.gradsAt([j]);
      lossSum += loss.item();
      params.forEach((p, k) => {
        const s = this.state.get(p) ?? tableState(p, n, true);
        this.state.set(p, s);
        const g = grads[k]!;
        const size = g.length;
        writeFloats([s.table, s.tableSum, s.seen!], (table, sum, seen) => {
          for (let i = 0; i < size; i++) {
            sum[i] = sum[i]! - table[j * size + i]! + g[i]!;
            table[j * size + i] = g[i]!;
          }
          seen[j] = 1;
        });
      });
    }
    const v = params.map((p) => {
      const s = this.state.get(p)!;
      s.step += 1;
      let m = 0;
      for (const x of readFloats(s.seen!)) m += x;
      return Float64Array.from(readFloats(s.tableSum), (d) => d / m);
    });
    this.apply(v);
    return lossValue(lossSum / this.indices.length, params[0]!) as unknown as L;
  }
}

/**
 * SAGA (Defazio, Bach & Lacoste-Julien, "SAGA: A Fast Incremental Gradient Method With Support
 * for Non-Strongly Convex Composite Objectives", NeurIPS 2014): an unbiased table-based
 * estimator, with the table starting at 0 (`tableInit: 'zeros'`) or at ∇fᵢ(w₀) ('full'):
 * ```
 * v = mean_{j∈B}(∇f_j(w) − y_j) + (1/n)·Σᵢ yᵢ;   y_j ← ∇f_j(w);   w ← w − lr·(v + λ·w)
 * ```
 * The paper's step size is 1/(3L). Memory: one gradient per sample.
 * @example
 * const opt = new optim.SAGA([w], { lr: 1 / (3 * L), numSamples: n, weightDecay: 1e-3 });
 * for (let k = 0; k < 20 * n; k++) opt.step(lossOf);
 */
export class SAGA extends VarianceReduced<SAGAOptions, SAGAState> {
  constructor(params: ParamsArg<SAGAOptions>, options: VarianceReductionArgs<SAGAOptions>) {
    super(params, options, SAGA_DEFAULTS);
  }

  protected override checkOptions(o: SAGAOptions): SAGAOptions {
    super.checkOptions(o);
    if (o.tableInit !== 'zeros' && o.tableInit !== 'full') throw new RangeError(`tableInit should be 'zeros' or 'full', got ${String(o.tableInit)}`);
    return o;
  }

  /** Store ∇f_j(w) in row j of the tables, keeping the mean in step. */
  private record(j: number, grads: readonly FloatArray[]): void {
    const n = this.numSamples;
    this.params.forEach((p, k) => {
      const s = this.state.get(p)!;
      const g = grads[k]!;
      const size = g.length;
      writeFloats([s.table, s.tableSum], (table, mean) => {
        for (let i = 0; i < size; i++) {
          mean[i] = mean[i]! + (g[i]! - table[j * size + i]!) / n;
          table[j * size + i] = g[i]!;
        }
      });
    });
  }

  protected override runStep<L>(): L | undefined {
    const params = this.params;
    const n = this.numSamples;
    if (!this.state.has(params[0]!)) {
      for (const p of params) this.state.set(p, tableState(p, n, false));
      if (this.defaults.tableInit === 'full') for (let i = 0; i < n; i++) this.record(i, this.gradsAt([i]).grads);
    }
    const batch = this.indices;
    const v = params.map((p) => Float64Array.from(readFloats(this.state.get(p)!.tableSum)));
    const fresh: FloatArray[][] = [];
    let lossSum = 0;
    for (const j of batch) {
      const { loss, grads } = this.gradsAt([j]);
      lossSum += loss.item();
      fresh.push(grads);
      params.forEach((p, k) => {
        const size = grads[k]!.length;
        const old = readFloats(this.state.get(p)!.table);
        for (let i = 0; i < size; i++) v[k]![i] = v[k]![i]! + (grads[k]![i]! - old[j * size + i]!) / batch.length;
      });
    }
    batch.forEach((j, b) => this.record(j, fresh[b]!));
    for (const p of params) this.state.get(p)!.step += 1;
    this.apply(v);
    return lossValue(lossSum / batch.length, params[0]!) as unknown as L;
  }
}

/** A 0-d tensor holding `x`, typed like `like` (the mean loss of a batch of separate evaluations). */
function lossValue(x: number, like: Tensor): Tensor {
  return zeros([], { dtype: like.dtype }).add(x);
}
