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
 *
 * Parameters off the CPU keep their gradients, tables and snapshots on their device and update
 * with tensor ops in place (nothing read back; each step's temporaries freed in a scope).
 */
import { grad as autogradGrad } from '../autograd/engine.js';
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import { zeros, zerosLike } from '../tensor/creation.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { keep, scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative } from './check.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** The mean loss over the samples `indices` (a scalar tensor with a graph to the parameters). */
export type SampleLoss = (indices: readonly number[]) => Tensor;

/**
 * One parameter's gradient (or update direction): flat values for a CPU parameter, a tensor on
 * the parameter's device otherwise, updated with tensor ops (WebGPU cannot read back
 * synchronously, and the other gpu backends would copy to and from the device at each step).
 */
type Grad = FloatArray | Tensor;

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

  /**
   * Run `fn` in a `tg.scope()` when a parameter is off the CPU, so a step frees the device
   * memory it made (graphs, gradients, temporaries) except what `fn` returns and the state; CPU
   * parameters alone run `fn` as is.
   */
  protected deviceScope<T>(fn: () => T): T {
    return this.params.some((p) => p.device !== 'cpu') ? scope(fn) : fn();
  }

  /** The mean loss over `indices` and its gradient for each parameter (flat for CPU parameters). */
  protected gradsAt(indices: readonly number[]): { loss: Tensor; grads: Grad[] } {
    const params = this.params;
    const fn = this.sampleLoss!;
    return enableGrad(() => {
      const loss = fn(indices);
      if (!(loss instanceof Tensor) || loss.numel() !== 1) throw new TypeError('the sample loss must return a scalar Tensor (the mean loss over the given samples)');
      const gs = loss.requiresGrad ? autogradGrad([loss], params, { allowUnused: true }) : params.map(() => null);
      this.gradientEvaluations += indices.length;
      const grads = gs.map((g, i): Grad => {
        const p = params[i]!;
        if (p.device !== 'cpu') return g ?? zerosLike(p);
        return g ? readFloats(g) : new Float64Array(p.numel());
      });
      return { loss: loss.detach(), grads };
    });
  }

  /** w ← w − lr·(±v + λ·w) for every parameter, `v` per parameter (in `params` order). */
  protected apply(v: readonly Grad[]): void {
    const params = this.params;
    noGrad(() => params.forEach((p, k) => {
      const group = this.groupOf(p);
      const sign = group.maximize ? -1 : 1;
      const vk = v[k]!;
      if (vk instanceof Tensor) {
        const dir = group.maximize ? vk.neg() : vk;
        p.sub_((group.weightDecay !== 0 ? dir.add(p.mul(group.weightDecay)) : dir).mul(group.lr));
        return;
      }
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
    this.deviceScope(() => {
      // μ per parameter: a flat sum for CPU parameters, a tensor on the device otherwise.
      const mu: (FloatArray | Tensor | null)[] = params.map((p) => (p.device !== 'cpu' ? null : new Float64Array(p.numel())));
      for (let start = 0; start < n; start += chunk) {
        const idx = Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
        const { grads } = this.gradsAt(idx);
        const weight = idx.length / n;
        grads.forEach((g, k) => {
          const m = mu[k]!;
          if (g instanceof Tensor) {
            mu[k] = m instanceof Tensor ? m.add(g.mul(weight)) : g.mul(weight);
            return;
          }
          const a = m as FloatArray;
          for (let i = 0; i < g.length; i++) a[i] = a[i]! + weight * g[i]!;
        });
      }
      noGrad(() => params.forEach((p, k) => {
        const m = mu[k]!;
        const old = this.state.get(p);
        if (m instanceof Tensor) {
          // On the device the snapshot and μ are overwritten in place once they exist.
          if (old) {
            old.snapshot.copy_(p);
            old.fullGrad.copy_(m);
          } else {
            this.state.set(p, { step: 0, snapshot: keep(p.clone()), fullGrad: stateZeros(p).copy_(m) });
          }
          return;
        }
        const fullGrad = stateZeros(p);
        writeFloats([fullGrad], (a) => a.set(m));
        this.state.set(p, { step: old?.step ?? 0, snapshot: keep(p.clone()), fullGrad });
      }));
    });
  }

  protected override runStep<L>(): L | undefined {
    const params = this.params;
    const b = this.defaults.batchSize;
    const m = this.defaults.updateFrequency ?? Math.ceil((2 * this.numSamples) / b);
    const s0 = this.state.get(params[0]!);
    if (!s0 || s0.step % m === 0) this.snapshot();
    return this.deviceScope(() => {
      const { loss, grads } = this.gradsAt(this.indices);
      const current = params.map((p): Grad => (p.device !== 'cpu' ? noGrad(() => p.clone()) : readFloats(p).slice()));
      noGrad(() => params.forEach((p) => {
        const snapshot = this.state.get(p)!.snapshot;
        if (p.device !== 'cpu') {
          p.copy_(snapshot);
          return;
        }
        const snap = readFloats(snapshot);
        writeFloats([p], (w) => w.set(snap));
      }));
      let atSnapshot: Grad[];
      try {
        atSnapshot = this.gradsAt(this.indices).grads;
      } finally {
        noGrad(() => params.forEach((p, k) => {
          const c = current[k]!;
          if (c instanceof Tensor) p.copy_(c);
          else writeFloats([p], (w) => w.set(c));
        }));
      }
      const v = params.map((p, k): Grad => {
        const s = this.state.get(p)!;
        s.step += 1;
        const g = grads[k]!;
        const gs = atSnapshot[k]!;
        if (g instanceof Tensor) return g.sub(gs as Tensor).add(s.fullGrad);
        const mu = readFloats(s.fullGrad);
        return Float64Array.from(g, (gi, i) => gi - (gs as FloatArray)[i]! + mu[i]!);
      });
      this.apply(v);
      return loss as unknown as L;
    });
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
    return this.deviceScope(() => {
      const losses: Tensor[] = [];
      for (const j of this.indices) {
        const { loss, grads } = this.gradsAt([j]);
        losses.push(loss);
        params.forEach((p, k) => {
          const s = this.state.get(p) ?? tableState(p, n, true);
          this.state.set(p, s);
          const g = grads[k]!;
          if (g instanceof Tensor) {
            // On the device: the same update as tensor ops on row j, in place.
            noGrad(() => {
              const row = s.table.select(0, j);
              s.tableSum.copy_(s.tableSum.sub(row).add(g));
              row.copy_(g);
              s.seen!.select(0, j).fill_(1);
            });
            return;
          }
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
      const v = params.map((p): Grad => {
        const s = this.state.get(p)!;
        s.step += 1;
        // m, the samples seen so far, stays a 0-d tensor on the device.
        if (p.device !== 'cpu') return s.tableSum.div(s.seen!.sum());
        let m = 0;
        for (const x of readFloats(s.seen!)) m += x;
        return Float64Array.from(readFloats(s.tableSum), (d) => d / m);
      });
      this.apply(v);
      return meanLoss(losses, params[0]!) as unknown as L;
    });
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
  private record(j: number, grads: readonly Grad[]): void {
    const n = this.numSamples;
    this.params.forEach((p, k) => {
      const s = this.state.get(p)!;
      const g = grads[k]!;
      if (g instanceof Tensor) {
        noGrad(() => {
          const row = s.table.select(0, j);
          s.tableSum.add_(g.sub(row).div(n));
          row.copy_(g);
        });
        return;
      }
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
      if (this.defaults.tableInit === 'full') for (let i = 0; i < n; i++) this.deviceScope(() => this.record(i, this.gradsAt([i]).grads));
    }
    return this.deviceScope(() => {
      const batch = this.indices;
      const v = params.map((p): Grad => {
        const sum = this.state.get(p)!.tableSum;
        return p.device !== 'cpu' ? sum.clone() : Float64Array.from(readFloats(sum));
      });
      const fresh: Grad[][] = [];
      const losses: Tensor[] = [];
      for (const j of batch) {
        const { loss, grads } = this.gradsAt([j]);
        losses.push(loss);
        fresh.push(grads);
        params.forEach((p, k) => {
          const g = grads[k]!;
          const vk = v[k]!;
          if (vk instanceof Tensor) {
            v[k] = vk.add((g as Tensor).sub(this.state.get(p)!.table.select(0, j)).div(batch.length));
            return;
          }
          const gk = g as FloatArray;
          const size = gk.length;
          const old = readFloats(this.state.get(p)!.table);
          for (let i = 0; i < size; i++) vk[i] = vk[i]! + (gk[i]! - old[j * size + i]!) / batch.length;
        });
      }
      batch.forEach((j, b) => this.record(j, fresh[b]!));
      for (const p of params) this.state.get(p)!.step += 1;
      this.apply(v);
      return meanLoss(losses, params[0]!) as unknown as L;
    });
  }
}

/**
 * The mean of the losses of a batch of separate evaluations, as a 0-d tensor: computed on the
 * host and typed like `like` for CPU losses, with tensor ops where they live otherwise (no
 * readback).
 */
function meanLoss(losses: readonly Tensor[], like: Tensor): Tensor {
  if (losses.some((l) => l.device !== 'cpu')) {
    const device = losses.find((l) => l.device !== 'cpu')!.device;
    return noGrad(() => losses.map((l) => l.to(device)).reduce((a, b) => a.add(b)).div(losses.length));
  }
  let sum = 0;
  for (const l of losses) sum += l.item();
  return zeros([], { dtype: like.dtype }).add(sum / losses.length);
}
