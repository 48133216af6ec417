/**
 * Samplers (`torch.utils.data.sampler`): iterables of dataset indices, or of batches of indices.
 *
 * The random samplers draw from tensorgrad's mt19937 generators exactly as PyTorch 1.13 draws
 * from its CPU generator, so for the same seed they yield PyTorch's indices (recorded in
 * test/fixtures/data/sampler.json by scripts/data_fixtures.py).
 */
import { defaultGenerator, Generator, randintValues, randpermValues } from '../tensor/random.js';

/**
 * Anything with a length: a Dataset, an array, `range(n)`.
 * @example
 * new SequentialSampler([7, 8, 9]).length; // 3
 */
export interface Sized {
  readonly length: number;
}

/**
 * How many indices the current (or last) epoch of a sampler drew, and how many were distinct.
 * @example
 * const s = new RandomSampler(range(1000), { replacement: true });
 * [...s]; s.epochStats; // { drawn: 1000, distinct: ~632 }
 */
export interface EpochStats {
  drawn: number;
  distinct: number;
}

/**
 * Base class of all samplers (`torch.utils.data.Sampler`). Subclasses implement `sample()` (a
 * generator of indices, or of index batches) and `length`. Iterating a sampler runs one epoch
 * and keeps `epochStats` up to date, so after an epoch `sampler.epochStats.distinct` tells how
 * many different examples it visited (fewer than `drawn` when sampling with replacement).
 * @example
 * class EvenSampler extends Sampler {
 *   readonly n = 10;
 *   get length() { return Math.ceil(this.n / 2); }
 *   protected *sample() { for (let i = 0; i < this.n; i += 2) yield i; }
 * }
 * const s = new EvenSampler();
 * [...s];          // [0, 2, 4, 6, 8]
 * s.epochStats;    // { drawn: 5, distinct: 5 }
 */
export abstract class Sampler<T extends number | readonly number[] = number> implements Iterable<T> {
  private stats: EpochStats = { drawn: 0, distinct: 0 };

  /** The number of items one epoch yields (`len(sampler)`). */
  abstract get length(): number;

  /** One epoch of indices (or batches). Draws lazily, as PyTorch's generator-based `__iter__`. */
  protected abstract sample(): Iterator<T>;

  /** Indices drawn and distinct indices seen so far in the current (or most recent) epoch. */
  get epochStats(): EpochStats {
    return { ...this.stats };
  }

  *[Symbol.iterator](): Iterator<T> {
    const seen = new Set<number>();
    const stats: EpochStats = { drawn: 0, distinct: 0 };
    this.stats = stats;
    const it = this.sample();
    for (let r = it.next(); !r.done; r = it.next()) {
      const item: number | readonly number[] = r.value;
      if (typeof item === 'number') seen.add(item);
      else for (const i of item) seen.add(i);
      stats.drawn += typeof item === 'number' ? 1 : item.length;
      stats.distinct = seen.size;
      yield r.value;
    }
  }
}

/**
 * The number of distinct indices in one full pass over `sampler` (indices or batches of indices).
 * Runs a fresh epoch, so it advances a random sampler's generator.
 * @example
 * const s = new RandomSampler(range(100), { replacement: true, generator: new Generator(0) });
 * distinctCount(s); // about 63: sampling 100 with replacement misses ~1/e of the examples
 */
export function distinctCount(sampler: Iterable<number | readonly number[]>): number {
  const seen = new Set<number>();
  for (const item of sampler) {
    if (typeof item === 'number') seen.add(item);
    else for (const i of item) seen.add(i);
  }
  return seen.size;
}

function checkPositiveInt(value: unknown, name: string, err: 'TypeError' | 'RangeError' = 'RangeError'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    const msg = `${name} should be a positive integer value, but got ${name}=${String(value)}`;
    throw err === 'TypeError' ? new TypeError(msg) : new RangeError(msg);
  }
  return value;
}

/**
 * Yields `0, 1, …, n-1` in order (`torch.utils.data.SequentialSampler`).
 * @example
 * [...new SequentialSampler([10, 20, 30])]; // [0, 1, 2]
 */
export class SequentialSampler extends Sampler {
  readonly dataSource: Sized;
  constructor(dataSource: Sized) {
    super();
    this.dataSource = dataSource;
  }
  get length(): number {
    return this.dataSource.length;
  }
  protected *sample(): Iterator<number> {
    const n = this.dataSource.length;
    for (let i = 0; i < n; i++) yield i;
  }
}

/** Options of {@link RandomSampler}, e.g. `{ replacement: true, numSamples: 500, generator }`. */
export interface RandomSamplerOptions {
  /** Draw with replacement (default false: a shuffled pass). */
  replacement?: boolean;
  /** Indices per epoch; default `dataSource.length`. */
  numSamples?: number;
  /** The generator to draw from; default: a fresh one seeded from the default generator each epoch. */
  generator?: Generator;
}

/**
 * PyTorch's `torch.empty((), dtype=torch.int64).random_(generator=g)`: one 64-bit draw, as
 * RandomSampler and the DataLoader take seeds. Returns its low 32 bits.
 * @example
 * const child = new Generator(drawSeed(tg.defaultGenerator)); // what RandomSampler does per epoch
 */
export function drawSeed(gen: Generator = defaultGenerator): number {
  // random_() on int64 takes random64() % 2^63, random64 = (hi << 32) | lo. Only the low word is
  // returned: seeding mt19937 uses `seed & 0xffffffff`, so it alone determines the stream.
  gen.random(); // hi
  return gen.random(); // lo
}

/**
 * Random order (`torch.utils.data.RandomSampler`). Without replacement: a random permutation per
 * `length` indices (`randperm`), the last one truncated. With replacement: `randint(0, n)` in
 * chunks of 32, as PyTorch draws them. Without a generator, each epoch seeds a fresh generator
 * from the default one (so `tg.manualSeed(s)` fixes the order, and it matches PyTorch's for `s`).
 * @example
 * const s = new RandomSampler(range(5), { generator: new tg.Generator(0) });
 * [...s]; // a permutation of 0..4
 */
export class RandomSampler extends Sampler {
  readonly dataSource: Sized;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly numSamplesOpt: number | undefined;

  constructor(dataSource: Sized, opts: RandomSamplerOptions = {}) {
    super();
    this.dataSource = dataSource;
    this.replacement = opts.replacement ?? false;
    if (typeof this.replacement !== 'boolean') {
      throw new TypeError(`replacement should be a boolean value, but got replacement=${String(this.replacement)}`);
    }
    this.numSamplesOpt = opts.numSamples;
    this.generator = opts.generator;
    checkPositiveInt(this.numSamples, 'num_samples');
  }

  /** Indices per epoch (`num_samples`): the option, or the dataset's current length. */
  get numSamples(): number {
    return this.numSamplesOpt ?? this.dataSource.length;
  }
  get length(): number {
    return this.numSamples;
  }

  protected *sample(): Iterator<number> {
    const n = this.dataSource.length;
    const gen = this.generator ?? new Generator(drawSeed(defaultGenerator));
    const total = this.numSamples;
    if (this.replacement) {
      for (let k = 0; k < Math.floor(total / 32); k++) yield* randintValues(32, 0, n, gen);
      yield* randintValues(total % 32, 0, n, gen);
    } else {
      for (let k = 0; k < Math.floor(total / n); k++) yield* randpermValues(n, gen);
      // NOTE: PyTorch draws this last permutation even when it keeps none of it.
      yield* randpermValues(n, gen).subarray(0, total % n);
    }
  }
}

/**
 * A random permutation of the given indices (`torch.utils.data.SubsetRandomSampler`).
 * @example
 * [...new SubsetRandomSampler([5, 3, 9], { generator: new tg.Generator(0) })]; // e.g. [9, 5, 3]
 */
export class SubsetRandomSampler extends Sampler {
  readonly indices: readonly number[];
  readonly generator: Generator | undefined;
  constructor(indices: readonly number[], opts: { generator?: Generator } = {}) {
    super();
    this.indices = indices;
    this.generator = opts.generator;
  }
  get length(): number {
    return this.indices.length;
  }
  protected *sample(): Iterator<number> {
    for (const i of randpermValues(this.indices.length, this.generator ?? defaultGenerator)) yield this.indices[i]!;
  }
}

/**
 * Draw `numSamples` category indices with probabilities proportional to `weights`
 * (`torch.multinomial` on a 1-D float64 tensor, CPU), with or without replacement.
 *
 * PyTorch's two algorithms are reproduced draw for draw:
 * - with replacement: normalised cumulative sums, then one uniform double per sample and a
 *   binary search for the first bucket whose cumulative weight is not below it (the last bucket
 *   is forced to 1);
 * - without replacement: the exponential race (Gumbel top-k),
 *   `argmax/topk(w / E)` with `E ~ Exp(1)` drawn as `-log(1 - u)` per weight (PyTorch's CPU
 *   kernel without MKL). Ties (only possible among zero weights) go to the lower index.
 * @example
 * multinomial([0.1, 0.9], 5, true, new tg.Generator(0)); // Int32Array of 0s and (mostly) 1s
 */
export function multinomial(weights: ArrayLike<number>, numSamples: number, replacement = false, generator: Generator = defaultGenerator): Int32Array {
  const n = weights.length;
  if (n === 0) throw new RangeError('cannot sample from an empty probability distribution');
  if (!Number.isInteger(numSamples) || numSamples <= 0) throw new RangeError('cannot sample n_sample <= 0 samples');
  if (!replacement && numSamples > n) throw new RangeError('cannot sample n_sample > prob_dist.size(-1) samples without replacement');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || w === Infinity) throw new RangeError('probability tensor contains either `inf`, `nan` or element < 0');
    sum += w;
  }
  if (!(sum > 0)) throw new RangeError('invalid multinomial distribution (sum of probabilities <= 0)');
  const out = new Int32Array(numSamples);

  if (!replacement) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = weights[i]! / -Math.log(1 - generator.uniformDouble());
    const order = Array.from({ length: n }, (_, i) => i);
    // Descending keys; NaN (0 / 0, a zero weight meeting E = 0) sorts as the smallest.
    const key = (i: number): number => (Number.isNaN(keys[i]!) ? -Infinity : keys[i]!);
    order.sort((a, b) => (key(a) > key(b) ? -1 : key(a) < key(b) ? 1 : a - b));
    for (let k = 0; k < numSamples; k++) out[k] = order[k]!;
    return out;
  }

  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += weights[i]!;
    cum[i] = acc;
  }
  for (let i = 0; i < n; i++) cum[i]! /= acc;
  cum[n - 1] = 1;
  for (let k = 0; k < numSamples; k++) {
    const u = generator.uniformDouble();
    let lo = 0;
    let hi = n;
    while (hi > lo) {
      const mid = lo + ((hi - lo) >> 1);
      if (cum[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[k] = lo;
  }
  return out;
}

/** Options of {@link WeightedRandomSampler}, e.g. `{ replacement: false, generator }`. */
export interface WeightedRandomSamplerOptions {
  /** Draw with replacement (default true). */
  replacement?: boolean;
  generator?: Generator;
}

/**
 * Indices `0..weights.length-1` drawn with probabilities proportional to `weights`
 * (`torch.utils.data.WeightedRandomSampler`, via {@link multinomial}). Handy for rebalancing
 * classes: weight each example by the inverse frequency of its class.
 * @example
 * const s = new WeightedRandomSampler([0.1, 0.9, 0.4], 5, { generator: new tg.Generator(0) });
 * [...s]; // five indices, mostly 1
 */
export class WeightedRandomSampler extends Sampler {
  readonly weights: Float64Array;
  readonly numSamples: number;
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  constructor(weights: ArrayLike<number>, numSamples: number, opts: WeightedRandomSamplerOptions = {}) {
    super();
    this.numSamples = checkPositiveInt(numSamples, 'num_samples');
    this.replacement = opts.replacement ?? true;
    if (typeof this.replacement !== 'boolean') {
      throw new TypeError(`replacement should be a boolean value, but got replacement=${String(this.replacement)}`);
    }
    this.weights = Float64Array.from(weights);
    this.generator = opts.generator;
  }
  get length(): number {
    return this.numSamples;
  }
  protected *sample(): Iterator<number> {
    yield* multinomial(this.weights, this.numSamples, this.replacement, this.generator ?? defaultGenerator);
  }
}

/**
 * Something a BatchSampler (or DataLoader) can take indices from: a Sampler, or an array of indices.
 * @example
 * new DataLoader(ds, { sampler: [3, 1, 2], batchSize: 2 });
 */
export type IndexSource = Iterable<number> & Sized;

/**
 * A batch size that may change between epochs: anything with a current `batchSize`, such as
 * `optim.BatchSizeScheduler`. BatchSampler and DataLoader read it when an epoch starts.
 * @example
 * const growing = { batchSize: 8 };
 * const loader = new DataLoader(ds, { batchSize: growing });
 * growing.batchSize = 16; // the next epoch uses batches of 16
 */
export interface BatchSizeSource {
  readonly batchSize: number;
}

/**
 * Groups the indices of another sampler into batches (`torch.utils.data.BatchSampler`). The
 * batch size may be a {@link BatchSizeSource}, read at the start of each epoch (a batch-size
 * schedule).
 * @example
 * [...new BatchSampler(new SequentialSampler(range(10)), 3, false)]; // [[0,1,2],[3,4,5],[6,7,8],[9]]
 * [...new BatchSampler(new SequentialSampler(range(10)), 3, true)];  // [[0,1,2],[3,4,5],[6,7,8]]
 */
export class BatchSampler extends Sampler<number[]> {
  readonly sampler: IndexSource;
  readonly dropLast: boolean;
  private readonly size: number | BatchSizeSource;
  constructor(sampler: IndexSource, batchSize: number | BatchSizeSource, dropLast: boolean) {
    super();
    this.size = typeof batchSize === 'object' && batchSize !== null ? batchSize : checkPositiveInt(batchSize, 'batch_size');
    if (typeof dropLast !== 'boolean') throw new TypeError(`drop_last should be a boolean value, but got drop_last=${String(dropLast)}`);
    this.sampler = sampler;
    this.dropLast = dropLast;
    if (typeof this.size !== 'number') checkPositiveInt(this.size.batchSize, 'batch_size'); // validate now, as a number is
  }
  /** The current batch size (a schedule's current value when it follows one). */
  get batchSize(): number {
    return typeof this.size === 'number' ? this.size : checkPositiveInt(this.size.batchSize, 'batch_size');
  }
  get length(): number {
    const n = this.sampler.length;
    const size = this.batchSize;
    return this.dropLast ? Math.floor(n / size) : Math.ceil(n / size);
  }
  protected *sample(): Iterator<number[]> {
    const size = this.batchSize; // fixed for the whole epoch
    let batch: number[] = [];
    for (const idx of this.sampler) {
      batch.push(idx);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}

/**
 * `{ length: n }`: a stand-in dataset of size `n` for samplers (Python's `range(n)` as a sized object).
 * @example
 * [...new SequentialSampler(range(3))]; // [0, 1, 2]
 */
export function range(n: number): Sized {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`range(): expected a non-negative integer, got ${n}`);
  return { length: n };
}
