// Reading values out: item, toArray, dataSync, and the async data()/array(), on contiguous
// tensors and on strided views (which must read in logical row-major order).
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';

describe('reading values', () => {
  test('item() on one-element tensors of any rank and dtype', () => {
    expect(tg.tensor(3.5).item()).toBe(3.5);
    expect(tg.tensor([[5]]).item()).toBe(5);
    expect(tg.tensor(3, { dtype: 'int32' }).item()).toBe(3);
    expect(tg.tensor(true).item()).toBe(1);
    expect(tg.tensor([0.1], { dtype: 'float64' }).item()).toBe(0.1);
    expect(() => tg.ones(2, 3).item()).toThrow('a Tensor with 6 elements cannot be converted to Scalar');
    expect(() => tg.zeros([0]).item()).toThrow('a Tensor with 0 elements cannot be converted to Scalar');
  });

  test('toArray() nests by shape; bools come back as booleans', () => {
    expect(tg.tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tg.tensor(2).toArray()).toBe(2);
    expect(tg.tensor([[true, false]]).toArray()).toEqual([[true, false]]);
    expect(tg.zeros(2, 0).toArray()).toEqual([[], []]);
    expect(tg.zeros(0, 2).toArray()).toEqual([]);
  });

  test('dataSync() is a row-major copy with the dtype\'s array type', () => {
    const x = tg.arange(6, { dtype: 'float32' }).reshape(2, 3);
    const d = x.dataSync();
    expect(d).toBeInstanceOf(Float32Array);
    d[0] = 42;
    expect(x.toArray()).toEqual([[0, 1, 2], [3, 4, 5]]); // a copy, not the storage
    expect(Array.from(x.t().dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(x.slice(1, 0, 3, 2).dataSync())).toEqual([0, 2, 3, 5]);
    expect(Array.from(x.expand(2, 2, 3).dataSync())).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(tg.ones([2], { dtype: 'float64' }).dataSync()).toBeInstanceOf(Float64Array);
    expect(tg.ones([2], { dtype: 'int32' }).dataSync()).toBeInstanceOf(Int32Array);
    expect(tg.tensor([true]).dataSync()).toBeInstanceOf(Uint8Array);
  });

  test('data() and array() resolve to the same values', async () => {
    const x = tg.arange(6, { dtype: 'float32' }).reshape(2, 3).t();
    expect(Array.from(await x.data())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(await x.array()).toEqual([[0, 3], [1, 4], [2, 5]]);
  });

  test('metadata: size, dim, numel, ndim', () => {
    const x = tg.zeros(2, 3, 4);
    expect([x.size(), x.size(-1), x.dim(), x.ndim, x.numel()]).toEqual([[2, 3, 4], 4, 3, 3, 24]);
    expect(() => x.size(3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
    expect(tg.tensor(1).size()).toEqual([]);
  });
});
