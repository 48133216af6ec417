// Views: which ops share storage, that writes through a view are visible in its base, layout
// (strides, contiguity), contiguous() copying only when needed, and view()'s error on layouts
// that cannot be viewed, as PyTorch.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { shapeArb, tensorArb } from '../helpers/arbitraries.js';

const grid = (): Tensor => tg.arange(6, { dtype: 'float32' }).reshape(2, 3);
const shares = (a: Tensor, b: Tensor): boolean => a.storage === b.storage;

describe('which ops return views', () => {
  const viewOps: [string, (x: Tensor) => Tensor][] = [
    ['reshape of contiguous', (x) => x.reshape(3, 2)],
    ['view', (x) => x.view(6)],
    ['flatten', (x) => x.flatten()],
    ['unflatten', (x) => x.unflatten(1, [3, 1])],
    ['permute', (x) => x.permute(1, 0)],
    ['transpose', (x) => x.transpose(0, 1)],
    ['t', (x) => x.t()],
    ['mT', (x) => x.mT],
    ['expand', (x) => x.expand(4, 2, 3)],
    ['squeeze', (x) => x.unsqueeze(0).squeeze(0)],
    ['unsqueeze', (x) => x.unsqueeze(1)],
    ['narrow', (x) => x.narrow(1, 1, 2)],
    ['select', (x) => x.select(0, 1)],
    ['slice with step', (x) => x.slice(1, 0, 3, 2)],
    ['split / chunk / unbind pieces', (x) => x.split(1, 1)[1]!],
    ['detach', (x) => x.detach()],
  ];
  for (const [name, op] of viewOps) {
    test(`${name} is a view`, () => {
      const x = grid();
      expect(shares(x, op(x))).toBe(true);
    });
  }

  test('copies: clone, contiguous of a non-contiguous tensor, reshape that cannot view, arithmetic', () => {
    const x = grid();
    expect(shares(x, x.clone())).toBe(false);
    expect(shares(x, x.t().contiguous())).toBe(false);
    expect(shares(x, x.t().reshape(6))).toBe(false);
    expect(shares(x, x.mul(1))).toBe(false);
    expect(shares(x, tg.cat([x]))).toBe(false); // a new tensor even for one input, as torch.cat
    expect(shares(x, tg.stack([x]))).toBe(false);
    expect(shares(x, tg.cat([x, x]))).toBe(false);
  });
});

describe('writes through views', () => {
  test('select, strided slice, transpose and view write into the base', () => {
    const a = grid();
    a.select(0, 1).fill_(9);
    expect(a.toArray()).toEqual([[0, 1, 2], [9, 9, 9]]);
    const b = grid();
    b.slice(1, 0, 3, 2).mul_(10);
    expect(b.toArray()).toEqual([[0, 1, 20], [30, 4, 50]]);
    const c = grid();
    c.t().add_(1);
    expect(c.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const d = grid();
    d.view(3, 2).select(0, 0).zero_();
    expect(d.toArray()).toEqual([[0, 0, 2], [3, 4, 5]]);
    const e = grid();
    e.slice(1, 0, 3, 2).copy_(tg.tensor([[-1, -1], [-2, -2]]));
    expect(e.toArray()).toEqual([[-1, 1, -1], [-2, 4, -2]]);
  });

  test('the base sees writes and the view sees writes to the base (shared version counter)', () => {
    const a = grid();
    const v = a.narrow(1, 1, 1);
    const version = a.storage.version;
    a.fill_(7);
    expect(v.toArray()).toEqual([[7], [7]]);
    expect(v.storage.version).toBe(version + 1);
  });

  test('property: a permuted view reads the same elements as indexing the base', () => {
    fc.assert(fc.property(tensorArb(shapeArb({ minRank: 2 })), (s) => {
      const x = tg.tensor(s.data, { shape: s.shape, dtype: 'float64' });
      const y = x.transpose(0, -1);
      const r = s.shape.length;
      // element [i, ..., j] of the transpose is element [j, ..., i] of x
      const last = y.shape[0]! - 1;
      const first = y.shape[r - 1]! - 1;
      let yi: Tensor = y.select(0, last);
      let xi: Tensor = x.select(0, first);
      yi = yi.select(-1, first);
      xi = xi.select(-1, last);
      expect(Array.from(yi.dataSync())).toEqual(Array.from(xi.dataSync()));
      expect(shares(x, y)).toBe(true);
    }), { numRuns: 30, seed: 3 });
  });
});

describe('layout', () => {
  test('strides and contiguity', () => {
    const x = grid();
    expect([x.stride(), x.isContiguous()]).toEqual([[3, 1], true]);
    expect([x.t().stride(), x.t().isContiguous()]).toEqual([[1, 3], false]);
    expect([x.expand(4, 2, 3).stride(), x.expand(4, 2, 3).isContiguous()]).toEqual([[0, 3, 1], false]);
    expect([x.slice(1, 1).stride(), x.slice(1, 1).isContiguous()]).toEqual([[3, 1], false]);
    expect(x.slice(0, 1).isContiguous()).toBe(true);
    expect(x.unsqueeze(1).isContiguous()).toBe(true); // size-1 dims do not matter
    expect(x.stride(-1)).toBe(1);
  });

  test('contiguous() returns itself when already contiguous, else a row-major copy', () => {
    const x = grid();
    expect(x.contiguous()).toBe(x);
    const c = x.t().contiguous();
    expect([c.isContiguous(), c.stride(), c.toArray()]).toEqual([true, [2, 1], [[0, 3], [1, 4], [2, 5]]]);
    expect(Array.from(x.t().dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  test('view() needs a compatible layout; reshape() copies instead (PyTorch)', () => {
    const x = grid();
    const msg = "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.";
    expect(() => x.t().view(6)).toThrow(msg);
    expect(() => x.unsqueeze(1).expand(2, 4, 3).view(8, 3)).toThrow(msg);
    expect(x.t().reshape(6).toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(x.t().view(3, 2).shape).toEqual([3, 2]); // same shape: fine
    expect(x.t().unsqueeze(0).view(3, 1, 2).shape).toEqual([3, 1, 2]); // splitting a dim: fine
    expect(x.expand(4, 2, 3).view(4, 6).stride()).toEqual([0, 1]); // merging contiguous dims of an expand
  });

  test('Python slice semantics', () => {
    const a = tg.arange(10);
    expect(a.slice(0, -3).toArray()).toEqual([7, 8, 9]);
    expect(a.slice(0, 2, -2, 3).toArray()).toEqual([2, 5]);
    expect(a.slice(0, 20).toArray()).toEqual([]);
    expect(a.slice(0, 5, 2).toArray()).toEqual([]);
    expect(a.slice(0, -100, 3).toArray()).toEqual([0, 1, 2]);
    expect(a.slice(0, null, null, 4).toArray()).toEqual([0, 4, 8]);
    expect(() => a.slice(0, 0, 5, 0)).toThrow('slice step must be positive');
  });

  test('split, chunk and unbind pieces', () => {
    const x = grid();
    expect(x.split(2, 1).map((p) => p.shape)).toEqual([[2, 2], [2, 1]]);
    expect(x.split([1, 2], 1).map((p) => p.toArray())).toEqual([[[0], [3]], [[1, 2], [4, 5]]]);
    expect(x.chunk(2, 1).map((p) => p.shape)).toEqual([[2, 2], [2, 1]]);
    expect(tg.arange(5).chunk(3).map((p) => p.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(x.unbind(1).map((p) => p.toArray())).toEqual([[0, 3], [1, 4], [2, 5]]);
  });
});
