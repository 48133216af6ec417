/**
 * `DataLoader` (`torch.utils.data.DataLoader`, single process) and `defaultCollate`.
 */
import { tensor } from '../tensor/creation.js';
import { stack } from '../tensor/functional.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Dataset, getItem, type Collated, type DatasetLike } from './dataset.js';
import { BatchSampler, drawSeed, RandomSampler, SequentialSampler, type BatchSizeSource, type EpochStats, type IndexSource } from './sampler.js';

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'Object';
}

function isPlainObject(x: object): boolean {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function collateAny(batch: readonly unknown[]): unknown {
  const elem = batch[0];
  if (elem instanceof Tensor) {
    batch.forEach((b, i) => {
      if (!(b instanceof Tensor)) throw new TypeError(`default_collate: expected a Tensor at batch position ${i}, found ${typeName(b)}`);
    });
    return stack(batch as Tensor[], 0);
  }
  if (typeof elem === 'number') {
    const nums = batch as number[];
    // NOTE: JavaScript cannot tell 1 from 1.0. Python ints become int64 and floats float64; here a
    // batch of integer-valued numbers becomes int32 (class labels) and anything else float64.
    return tensor(nums, { dtype: nums.every(Number.isInteger) ? 'int32' : 'float64' });
  }
  if (typeof elem === 'boolean') return tensor(batch as boolean[], { dtype: 'bool' });
  if (typeof elem === 'string') return [...(batch as string[])];
  if (elem instanceof Float32Array || elem instanceof Float64Array || elem instanceof Int32Array) {
    // Typed arrays play the part of NumPy arrays: each becomes a tensor, then they are stacked.
    return collateAny(batch.map((b) => tensor(b as Float32Array | Float64Array | Int32Array)));
  }
  if (Array.isArray(elem)) {
    const size = elem.length;
    if (!batch.every((b) => Array.isArray(b) && b.length === size)) throw new RangeError('each element in list of batch should be of equal size');
    const arrays = batch as unknown[][];
    return elem.map((_, j) => collateAny(arrays.map((b) => b[j])));
  }
  if (typeof elem === 'object' && elem !== null && isPlainObject(elem)) {
    const records = batch as Record<string, unknown>[];
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(elem)) out[key] = collateAny(records.map((d) => d[key]));
    return out;
  }
  throw new TypeError(`default_collate: batch must contain tensors, typed arrays, numbers, booleans, strings, objects or arrays; found ${typeName(elem)}`);
}

/**
 * Put a list of samples together as a batch (`torch.utils.data.default_collate`): tensors are
 * stacked along a new first dimension, numbers become a tensor (int32 when all are integers,
 * float64 otherwise), booleans a bool tensor, Float32/Float64/Int32Arrays a stacked tensor,
 * strings stay a list, and arrays and plain objects are collated position by position / key by
 * key, recursively.
 * @example
 * defaultCollate([[tg.ones(2), 0], [tg.zeros(2), 1]]); // [tensor of shape [2, 2], int32 tensor [0, 1]]
 * defaultCollate([{ x: 1.5, name: 'a' }, { x: 2, name: 'b' }]); // { x: float64 [1.5, 2], name: ['a', 'b'] }
 */
export function defaultCollate<T>(batch: readonly T[]): Collated<T> {
  if (batch.length === 0) throw new RangeError('default_collate: cannot collate an empty batch');
  return collateAny(batch) as Collated<T>;
}

/** Options of {@link DataLoader}, e.g. `{ batchSize: 64, shuffle: true, dropLast: true }`. */
export interface DataLoaderOptions<T, B> {
  /**
   * Samples per batch (default 1), or a {@link BatchSizeSource} such as
   * `optim.BatchSizeScheduler`, read at the start of each epoch.
   */
  batchSize?: number | BatchSizeSource;
  /** Reshuffle every epoch (a RandomSampler over the dataset). Exclusive with `sampler`. */
  shuffle?: boolean;
  /** Where indices come from (a Sampler, or an array of indices). Exclusive with `shuffle`. */
  sampler?: IndexSource;
  /** Where whole batches of indices come from. Exclusive with batchSize, shuffle, sampler and dropLast. */
  batchSampler?: Iterable<readonly number[]> & { readonly length: number };
  /** Turns a list of samples into a batch (default {@link defaultCollate}). */
  collateFn?: (batch: T[]) => B;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** The generator for shuffling (default: the global one, via `tg.manualSeed`). */
  generator?: Generator;
}

/**
 * Iterate over a dataset in batches (`torch.utils.data.DataLoader`, `num_workers=0`). Each
 * `for … of` is one epoch; `length` is the number of batches per epoch.
 *
 * Batches are made by `collateFn` from the samples of each index batch. With the default collate,
 * datasets that implement `getBatch` (TensorDataset, Subsets of it, MNIST without transforms)
 * build a batch at once (one `indexSelect` per tensor) instead of sample by sample.
 *
 * Shuffling draws exactly as PyTorch 1.13 does: each epoch first takes a 64-bit "base seed" from
 * the loader's generator (PyTorch's worker base seed), then the RandomSampler permutes, so
 * `tg.manualSeed(s)` (or `generator: new tg.Generator(s)`) gives PyTorch's batch order for `s`.
 * @example
 * const ds = new TensorDataset(tg.randn(100, 3), tg.randint(0, 2, [100]));
 * const loader = new DataLoader(ds, { batchSize: 32, shuffle: true, generator: new tg.Generator(0) });
 * for (const [x, y] of loader) console.log(x.shape, y.shape); // [32, 3] [32] … [4, 3] [4]
 * loader.length; // 4
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B> {
  readonly dataset: DatasetLike<T>;
  readonly dropLast: boolean;
  /** The index sampler (a RandomSampler when `shuffle`). */
  readonly sampler: IndexSource;
  /** The batch sampler every epoch iterates. */
  readonly batchSampler: Iterable<readonly number[]> & { readonly length: number };
  readonly collateFn: (batch: T[]) => B;
  readonly generator: Generator | undefined;
  private readonly fastPath: ((indices: readonly number[]) => B) | undefined;
  private readonly batchSizeOpt: number | BatchSizeSource | null;
  private stats: EpochStats = { drawn: 0, distinct: 0 };

  constructor(dataset: DatasetLike<T>, opts: DataLoaderOptions<T, B> = {}) {
    this.dataset = dataset;
    const shuffle = opts.shuffle ?? false;
    const dropLast = opts.dropLast ?? false;
    let batchSize: number | BatchSizeSource | null = opts.batchSize ?? 1;
    if (opts.sampler !== undefined && shuffle) throw new RangeError('sampler option is mutually exclusive with shuffle');
    if (opts.batchSampler !== undefined) {
      if (batchSize !== 1 || shuffle || opts.sampler !== undefined || dropLast) {
        throw new RangeError('batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last');
      }
      batchSize = null;
    }
    this.generator = opts.generator;
    this.sampler = opts.sampler ?? (shuffle ? new RandomSampler(dataset, opts.generator ? { generator: opts.generator } : {}) : new SequentialSampler(dataset));
    this.batchSampler = opts.batchSampler ?? new BatchSampler(this.sampler, batchSize!, dropLast);
    this.batchSizeOpt = batchSize;
    this.dropLast = opts.batchSampler !== undefined ? false : dropLast;
    if (opts.collateFn !== undefined) {
      this.collateFn = opts.collateFn;
    } else {
      // Without a collateFn, B is Collated<T> (the class default).
      this.collateFn = defaultCollate as unknown as (batch: T[]) => B;
      if (dataset instanceof Dataset && dataset.getBatch !== undefined) {
        this.fastPath = dataset.getBatch.bind(dataset) as (indices: readonly number[]) => B;
      }
    }
  }

  /** Samples per batch (a schedule's current value); null when a `batchSampler` was given. */
  get batchSize(): number | null {
    if (this.batchSizeOpt === null) return null;
    return typeof this.batchSizeOpt === 'number' ? this.batchSizeOpt : this.batchSizeOpt.batchSize;
  }

  /**
   * Samples drawn and distinct samples seen in the current (or last) epoch: with a sampler that
   * draws with replacement, `distinct` falls short of `drawn` (about 63% for one pass of n
   * draws over n samples).
   * @example
   * for (const batch of loader) train(batch);
   * loader.epochStats; // { drawn: 60000, distinct: 37930 } with replacement
   */
  get epochStats(): EpochStats {
    return { ...this.stats };
  }

  /** Batches per epoch (`len(loader)`). */
  get length(): number {
    return this.batchSampler.length;
  }

  /** One epoch of batches. */
  [Symbol.iterator](): Iterator<B> {
    // PyTorch's _BaseDataLoaderIter draws a base seed (for worker seeding) when the epoch's
    // iterator is created, before the sampler draws anything; keep the same random stream.
    drawSeed(this.generator ?? defaultGenerator);
    return this.batches();
  }

  private *batches(): IterableIterator<B> {
    const seen = new Set<number>();
    const stats: EpochStats = { drawn: 0, distinct: 0 };
    this.stats = stats;
    for (const indices of this.batchSampler) {
      for (const i of indices) seen.add(i);
      stats.drawn += indices.length;
      stats.distinct = seen.size;
      if (this.fastPath) yield this.fastPath(indices);
      else yield this.collateFn(indices.map((i) => getItem(this.dataset, i)));
    }
  }
}
