import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConcatDataset, Dataset, getItem, randomSplit, Subset, TensorDataset } from '../../src/data/dataset.js';
import { arange, Generator, manualSeed, randn, tensor, zeros, type Tensor } from '../../src/index.js';

interface SplitCase {
  n: number;
  lengths: number[];
  seed: number;
  splits: number[][];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/data/sampler.json', import.meta.url), 'utf8')) as { random_split: SplitCase[] };

/** A dataset whose item i is i, as Python's range(n). */
class Range extends Dataset<number> {
  readonly n: number;
  constructor(n: number) {
    super();
    this.n = n;
  }
  get length(): number {
    return this.n;
  }
  get(i: number): number {
    if (i < 0 || i >= this.n) throw new RangeError(`range index ${i} out of range`);
    return i;
  }
}

describe('TensorDataset', () => {
  const x = arange(12).reshape([4, 3]).float();
  const y = tensor([0, 1, 0, 1], { dtype: 'int32' });
  const ds = new TensorDataset(x, y);

  it('indexes every tensor along the first dimension', () => {
    expect(ds.length).toBe(4);
    const [xi, yi] = ds.get(2);
    expect(xi.shape).toEqual([3]);
    expect(Array.from(xi.dataSync())).toEqual([6, 7, 8]);
    expect(yi.shape).toEqual([]);
    expect(yi.item()).toBe(0);
    expect(yi.dtype).toBe('int32');
    expect(Array.from(ds.get(-1)[0].dataSync())).toEqual([9, 10, 11]);
    expect(() => ds.get(4)).toThrow(/out of range/);
  });

  it('getBatch equals stacking the items (the DataLoader fast path)', () => {
    const [bx, by] = ds.getBatch([3, 0, 3]);
    expect(bx.shape).toEqual([3, 3]);
    expect(bx.toArray()).toEqual([[9, 10, 11], [0, 1, 2], [9, 10, 11]]);
    expect(Array.from(by.dataSync())).toEqual([1, 0, 1]);
    expect(by.dtype).toBe('int32');
  });

  it('getBatch matches indexSelect for every layout (row copy, views, autograd)', () => {
    const base = randn([6, 4, 3], { generator: new Generator(2) });
    const idx = [5, 0, 2, 2, -1];
    const rows = tensor([5, 0, 2, 2, 5], { dtype: 'int32' });
    const cases: Tensor[] = [
      base, // contiguous: row copy
      base.narrow(0, 1, 5).contiguous().narrow(0, 0, 5), // contiguous with an offset
      base.narrow(0, 0, 6).transpose(1, 2), // strided: indexSelect
      base.gt(0), // bool
      base.mul(10).int(), // int32
    ];
    for (const t of cases) {
      const valid = idx.map((i) => (i < 0 ? i + t.shape[0]! : i)).every((i) => i < t.shape[0]!);
      if (!valid) continue;
      const [got] = new TensorDataset(t).getBatch(idx);
      const want = t.indexSelect(0, rows.clamp(0, t.shape[0]! - 1));
      expect(got.dtype).toBe(t.dtype);
      expect(got.equal(want)).toBe(true);
    }
    const offset = base.narrow(0, 2, 3);
    expect(new TensorDataset(offset).getBatch([2, 0])[0].equal(offset.indexSelect(0, tensor([2, 0], { dtype: 'int32' })))).toBe(true);
    // A tensor that requires grad goes through indexSelect, so gradients flow back.
    const w = randn([4, 2], { generator: new Generator(3) }).requiresGrad_();
    const [bw] = new TensorDataset(w).getBatch([1, 1, 3]);
    bw.sum().backward();
    expect(w.grad!.toArray()).toEqual([[0, 0], [2, 2], [0, 0], [1, 1]]);
    expect(() => new TensorDataset(w).getBatch([4])).toThrow('index 4 is out of bounds for dimension 0 with size 4');
  });

  it('checks the first dimensions', () => {
    expect(() => new TensorDataset(zeros(3, 2), zeros(4))).toThrow('Size mismatch between tensors');
    expect(() => new TensorDataset()).toThrow(RangeError);
    expect(() => new TensorDataset(tensor(1))).toThrow(/no dimensions/);
  });
});

describe('Subset and ConcatDataset', () => {
  it('Subset maps indices (negative ones too) and keeps the fast path of its parent', () => {
    const ds = new TensorDataset(arange(10).float());
    const sub = new Subset(ds, [7, 2, 5]);
    expect(sub.length).toBe(3);
    expect(sub.get(0)[0].item()).toBe(7);
    expect(sub.get(-1)[0].item()).toBe(5);
    expect(() => sub.get(3)).toThrow('Subset index 3 is out of range for length 3');
    expect(sub.getBatch).toBeDefined();
    expect(Array.from(sub.getBatch!([2, 0])[0].dataSync())).toEqual([5, 7]);
    // A parent without getBatch: no fast path.
    expect(new Subset(new Range(5), [1]).getBatch).toBeUndefined();
    // Arrays work as datasets.
    expect(new Subset(['a', 'b', 'c'], [2, 0]).get(0)).toBe('c');
  });

  it('ConcatDataset chains datasets (bisect on cumulative sizes)', () => {
    const c = new ConcatDataset<number>([new Range(3), [100, 101], new Range(0), new Range(2)]);
    expect(c.length).toBe(7);
    expect(c.cumulativeSizes).toEqual([3, 5, 5, 7]);
    expect([...Array(7).keys()].map((i) => c.get(i))).toEqual([0, 1, 2, 100, 101, 0, 1]);
    expect(c.get(-1)).toBe(1);
    expect(c.get(-7)).toBe(0);
    expect(() => c.get(-8)).toThrow('absolute value of index should not exceed dataset length');
    expect(() => c.get(7)).toThrow(RangeError);
    expect(() => new ConcatDataset([])).toThrow('datasets should not be an empty iterable');
  });

  it('getItem reads arrays and datasets alike', () => {
    expect(getItem([5, 6], 1)).toBe(6);
    expect(getItem(new Range(4), 3)).toBe(3);
    expect(() => getItem([5, 6], 2)).toThrow('list index out of range');
  });
});

describe('randomSplit', () => {
  it('matches torch.utils.data.random_split (lengths and fractions, PyTorch 1.13 rounding)', () => {
    for (const c of fx.random_split) {
      const parts = randomSplit(new Range(c.n), c.lengths, { generator: new Generator(c.seed) });
      expect(parts.map((p) => [...p.indices])).toEqual(c.splits);
      expect(parts.map((p) => p.get(0))).toEqual(c.splits.map((s) => s[0]));
    }
  });

  it('fractions: floor, then the remainder round-robin from the first split', () => {
    expect(randomSplit(new Range(10), [0.33, 0.33, 0.34], { generator: new Generator(0) }).map((s) => s.length)).toEqual([4, 3, 3]);
    expect(randomSplit(new Range(5), [0.1, 0.2, 0.3, 0.4]).map((s) => s.length)).toEqual([1, 1, 1, 2]);
  });

  it('the parts are disjoint and cover the dataset', () => {
    const parts = randomSplit(new Range(100), [0.7, 0.2, 0.1], { generator: new Generator(1) });
    const all = parts.flatMap((p) => [...p.indices]).sort((a, b) => a - b);
    expect(all).toEqual([...Array(100).keys()]);
  });

  it('uses the default generator when none is given', () => {
    manualSeed(42);
    const a = randomSplit(new Range(10), [3, 7]).map((p) => [...p.indices]);
    expect(a).toEqual(fx.random_split[0]!.splits);
  });

  it('errors', () => {
    expect(() => randomSplit(new Range(10), [3, 6])).toThrow('Sum of input lengths does not equal the length of the input dataset!');
    expect(() => randomSplit(new Range(10), [1.5, -0.5])).toThrow('Fraction at index 0 is not between 0 and 1');
    expect(() => randomSplit(new Range(10), [0.5, 0.4])).toThrow('Sum of input lengths does not equal the length of the input dataset!');
    expect(() => randomSplit(new Range(10), [2.5, 7.5])).toThrow('random_split: lengths must be non-negative integers or fractions summing to 1, got 2.5, 7.5');
  });
});
