import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataLoader, defaultCollate } from '../../src/data/dataloader.js';
import { Dataset, Subset, TensorDataset } from '../../src/data/dataset.js';
import { BatchSampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler } from '../../src/data/sampler.js';
import { arange, Generator, manualSeed, ones, randn, Tensor, tensor, zeros } from '../../src/index.js';

interface LoaderCase {
  n: number;
  batchSize: number;
  dropLast: boolean;
  seed: number;
  generator: boolean;
  len: number;
  epochs: number[][][];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/data/sampler.json', import.meta.url), 'utf8')) as { dataloader: LoaderCase[] };

const ints = (t: Tensor): number[] => Array.from(t.dataSync());

/** Items are [float features [2], int label] computed from the index; counts get() calls. */
class Toy extends Dataset<[Tensor, number]> {
  calls = 0;
  readonly n: number;
  constructor(n: number) {
    super();
    this.n = n;
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [Tensor, number] {
    this.calls++;
    return [tensor([i, i + 100]), i % 3];
  }
}

describe('DataLoader', () => {
  it('batches, shapes and length, with and without dropLast', () => {
    const ds = new Toy(10);
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map(([x]) => x.shape)).toEqual([[4, 2], [4, 2], [2, 2]]);
    expect(batches.map(([, y]) => y.dtype)).toEqual(['int32', 'int32', 'int32']);
    expect(ints(batches[2]![1])).toEqual([8 % 3, 9 % 3]);
    expect(batches[0]![0].toArray()).toEqual([[0, 100], [1, 101], [2, 102], [3, 103]]);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect([...dropped].map(([x]) => x.shape[0])).toEqual([4, 4]);
  });

  it('batchSize defaults to 1', () => {
    const loader = new DataLoader([5, 6, 7]);
    expect(loader.length).toBe(3);
    expect([...loader].map((b) => [b.shape, b.item()])).toEqual([[[1], 5], [[1], 6], [[1], 7]]);
  });

  it('shuffles reproducibly with a generator, and reshuffles every epoch', () => {
    const data = [...Array(20).keys()];
    const epoch = (l: DataLoader<number>) => [...l].flatMap(ints);
    const a = new DataLoader(data, { batchSize: 6, shuffle: true, generator: new Generator(3) });
    const b = new DataLoader(data, { batchSize: 6, shuffle: true, generator: new Generator(3) });
    const a1 = epoch(a);
    expect(epoch(b)).toEqual(a1);
    expect([...a1].sort((x, y) => x - y)).toEqual(data);
    expect(epoch(a)).not.toEqual(a1);
  });

  it('matches PyTorch DataLoader(shuffle=True) batch for batch (seeded generator or torch.manual_seed)', () => {
    for (const c of fx.dataloader) {
      const data = [...Array(c.n).keys()];
      let loader: DataLoader<number>;
      if (c.generator) {
        loader = new DataLoader(data, { batchSize: c.batchSize, shuffle: true, dropLast: c.dropLast, generator: new Generator(c.seed) });
      } else {
        manualSeed(c.seed);
        loader = new DataLoader(data, { batchSize: c.batchSize, shuffle: true, dropLast: c.dropLast });
      }
      expect(loader.length).toBe(c.len);
      expect([[...loader].map(ints), [...loader].map(ints)]).toEqual(c.epochs);
    }
  });

  it('TensorDataset takes the fast path: one indexSelect per tensor, same batches as stacking', () => {
    const x = randn([50, 3, 2], { generator: new Generator(0) });
    const y = arange(50);
    const ds = new TensorDataset(x, y);
    let gets = 0;
    const get = ds.get.bind(ds);
    ds.get = (i) => {
      gets++;
      return get(i);
    };
    const fast = [...new DataLoader(ds, { batchSize: 16, shuffle: true, generator: new Generator(1) })];
    expect(gets).toBe(0);
    const slow = [...new DataLoader(ds, { batchSize: 16, shuffle: true, generator: new Generator(1), collateFn: (b) => defaultCollate(b) })];
    expect(gets).toBe(50);
    expect(fast.map(([bx]) => bx.shape)).toEqual([[16, 3, 2], [16, 3, 2], [16, 3, 2], [2, 3, 2]]);
    fast.forEach(([bx, by], k) => {
      expect(bx.equal(slow[k]![0])).toBe(true);
      expect(by.equal(slow[k]![1])).toBe(true);
      expect(by.dtype).toBe('int32');
    });
  });

  it('a Subset of a TensorDataset keeps the fast path', () => {
    const ds = new TensorDataset(arange(10).float(), arange(10));
    const sub = new Subset(ds, [9, 8, 7, 6]);
    let gets = 0;
    sub.get = () => {
      gets++;
      throw new Error('not used');
    };
    const [[x, y]] = [...new DataLoader(sub, { batchSize: 4 })] as [[Tensor, Tensor]];
    expect(gets).toBe(0);
    expect(ints(x)).toEqual([9, 8, 7, 6]);
    expect(ints(y)).toEqual([9, 8, 7, 6]);
  });

  it('custom sampler, batchSampler and collateFn', () => {
    const ds = new Toy(6);
    const bySampler = new DataLoader(ds, { batchSize: 2, sampler: [5, 3, 1] });
    expect([...bySampler].map(([x]) => ints(x).filter((_, i) => i % 2 === 0))).toEqual([[5, 3], [1]]);
    const byBatch = new DataLoader(ds, { batchSampler: [[0, 1, 2], [4]] });
    expect(byBatch.batchSize).toBeNull();
    expect(byBatch.length).toBe(2);
    expect([...byBatch].map(([x]) => x.shape[0])).toEqual([3, 1]);
    const collated = new DataLoader(ds, { batchSize: 3, collateFn: (items) => items.map(([, y]) => y).join('') });
    expect([...collated]).toEqual(['012', '012']);
    const weighted = new DataLoader(ds, { batchSize: 3, sampler: new WeightedRandomSampler([0, 0, 0, 0, 0, 1], 6, { generator: new Generator(0) }) });
    expect([...weighted].flatMap(([, y]) => ints(y))).toEqual([2, 2, 2, 2, 2, 2]);
    const subsetRandom = new DataLoader(ds, { batchSize: 10, sampler: new SubsetRandomSampler([0, 2, 4], { generator: new Generator(0) }) });
    expect(ints([...subsetRandom][0]![1]).sort()).toEqual([0, 1, 2]);
    const withBatchSampler = new DataLoader(ds, { batchSampler: new BatchSampler(new SequentialSampler(ds), 4, true) });
    expect(withBatchSampler.length).toBe(1);
  });

  it('the sampler reports how many distinct samples an epoch saw', () => {
    const loader = new DataLoader(new Toy(100), { batchSize: 10, shuffle: true, generator: new Generator(0) });
    [...loader];
    const sampler = loader.sampler as SequentialSampler;
    expect(sampler.epochStats).toEqual({ drawn: 100, distinct: 100 });
  });

  it('draws the per-epoch base seed from its generator before shuffling, as PyTorch does', () => {
    const g = new Generator(0);
    const loader = new DataLoader([1, 2, 3], { generator: g });
    const before = g.getState();
    [...loader];
    const afterOne = new Generator(0);
    afterOne.random();
    afterOne.random();
    expect(g.getState()).toEqual(afterOne.getState());
    expect(g.getState()).not.toEqual(before);
  });

  it('rejects conflicting options with PyTorch messages', () => {
    const ds = new Toy(4);
    expect(() => new DataLoader(ds, { shuffle: true, sampler: [0, 1] })).toThrow('sampler option is mutually exclusive with shuffle');
    expect(() => new DataLoader(ds, { batchSampler: [[0]], batchSize: 2 })).toThrow('batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last');
    expect(() => new DataLoader(ds, { batchSampler: [[0]], dropLast: true })).toThrow('batch_sampler option is mutually exclusive');
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow('batch_size should be a positive integer value, but got batch_size=0');
  });
});

describe('defaultCollate', () => {
  it('stacks tensors and turns numbers and booleans into tensors', () => {
    const t = defaultCollate([ones(2, 3), zeros(2, 3)]);
    expect(t.shape).toEqual([2, 2, 3]);
    const labels = defaultCollate([3, 1, 2]);
    expect(labels.dtype).toBe('int32');
    expect(ints(labels)).toEqual([3, 1, 2]);
    const floats = defaultCollate([0.5, 1]);
    expect(floats.dtype).toBe('float64');
    expect(ints(floats)).toEqual([0.5, 1]);
    const flags = defaultCollate([true, false]);
    expect(flags.dtype).toBe('bool');
    expect(defaultCollate(['a', 'b'])).toEqual(['a', 'b']);
    const arrays = defaultCollate([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect(arrays.dtype).toBe('float32');
    expect(arrays.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('recurses into arrays and objects like PyTorch', () => {
    const batch = defaultCollate([
      { image: ones(2), label: 1, meta: { name: 'a', weight: 0.5 }, pair: [1, tensor([1, 1])] as [number, Tensor] },
      { image: zeros(2), label: 0, meta: { name: 'b', weight: 2 }, pair: [2, tensor([2, 2])] as [number, Tensor] },
    ]);
    expect(batch.image.shape).toEqual([2, 2]);
    expect(ints(batch.label)).toEqual([1, 0]);
    expect(batch.meta.name).toEqual(['a', 'b']);
    expect(batch.meta.weight.dtype).toBe('float64');
    expect(ints(batch.pair[0])).toEqual([1, 2]);
    expect(batch.pair[1].toArray()).toEqual([[1, 1], [2, 2]]);
  });

  it('errors', () => {
    expect(() => defaultCollate([[1, 2], [3]])).toThrow('each element in list of batch should be of equal size');
    expect(() => defaultCollate([ones(2), ones(3)])).toThrow(/stack expects each tensor to be equal size/);
    expect(() => defaultCollate([new Map(), new Map()])).toThrow('default_collate: batch must contain tensors, typed arrays, numbers, booleans, strings, objects or arrays; found Map');
    expect(() => defaultCollate([null])).toThrow(/found null/);
    expect(() => defaultCollate([ones(2), 1 as unknown as Tensor])).toThrow(/expected a Tensor at batch position 1/);
    expect(() => defaultCollate([])).toThrow(RangeError);
  });
});
