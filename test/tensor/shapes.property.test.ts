// No op returns a silently wrong shape: result shapes against reference formulas (numpy/PyTorch
// rules) over random shapes, dims and keepdim, 0-d included; and strided (non-contiguous)
// inputs give the same values as their contiguous copies.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { broadcastPairArb, real, shapeArb, shapeWithDimArb, tensorArb } from '../helpers/arbitraries.js';
import { expectClose } from '../helpers/close.js';

const SEED = 99;
const RUNS = 60;
const prop = <T>(name: string, arb: fc.Arbitrary<T>, body: (v: T) => void): void => {
  test(name, () => fc.assert(fc.property(arb, (v) => { body(v); }), { numRuns: RUNS, seed: SEED }));
};

/** Reference broadcasting: align right, 1 stretches. */
function refBroadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}
/** Reference reduced shape over `dims` (normalised); 0-d stays 0-d. */
function refReduced(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  const r = shape.length;
  const set = new Set(dims.map((d) => (d < 0 ? d + Math.max(r, 1) : d)));
  return keepdim ? shape.map((s, i) => (set.has(i) ? 1 : s)) : shape.filter((_, i) => !set.has(i));
}

const ones = (shape: number[]): Tensor => tg.ones(shape, { dtype: 'float64' });
const dimCase = shapeWithDimArb().chain((c) => fc.boolean().map((keepdim) => ({ ...c, keepdim })));

describe('result shapes', () => {
  prop('binary ops broadcast to the reference shape', broadcastPairArb(), ([a, b]) => {
    const want = refBroadcast(a, b);
    for (const out of [ones(a).add(ones(b)), ones(a).mul(ones(b)), ones(a).pow(ones(b)), ones(a).lt(ones(b)), tg.where(ones(a).gt(0), ones(a), ones(b))]) {
      expect(out.shape).toEqual(want);
    }
  });

  prop('reductions over one dim, with and without keepdim, 0-d included', dimCase, ({ shape, dim, keepdim }) => {
    const want = refReduced(shape, [dim], keepdim);
    const x = ones(shape);
    const outs: Tensor[] = [x.sum(dim, keepdim), x.mean(dim, keepdim), x.prod(dim, keepdim), x.amax(dim, keepdim), x.amin(dim, keepdim),
      x.logsumexp(dim, keepdim), x.norm(2, dim, keepdim), x.var(dim, { keepdim }), x.std(dim, { correction: 0, keepdim }),
      x.max(dim, keepdim).values, x.max(dim, keepdim).indices, x.min(dim, keepdim).values, x.argmax(dim, keepdim), x.argmin(dim, keepdim),
      x.gt(0).all(dim, keepdim), x.gt(0).any(dim, keepdim)];
    for (const o of outs) expect(o.shape).toEqual(want);
    expect(x.max(dim, keepdim).indices.dtype).toBe('int32');
  });

  prop('reductions over a dim list and over everything', shapeArb({ minRank: 1 }).chain((shape) =>
    fc.tuple(fc.subarray([...shape.keys()]), fc.boolean()).map(([dims, keepdim]) => ({ shape, dims, keepdim }))), ({ shape, dims, keepdim }) => {
    const x = ones(shape);
    // an empty list reduces everything, as PyTorch 1.x
    const want = refReduced(shape, dims.length ? dims : [...shape.keys()], keepdim);
    for (const o of [x.sum(dims, keepdim), x.mean(dims, keepdim), x.amax(dims, keepdim), x.norm(1, dims, keepdim)]) expect(o.shape).toEqual(want);
    expect(x.sum().shape).toEqual([]);
    expect(x.argmax(null, true).shape).toEqual(shape.map(() => 1));
    expect(x.argmax().shape).toEqual([]);
  });

  prop('softmax, logSoftmax and elementwise ops keep the shape', shapeWithDimArb(), ({ shape, dim }) => {
    const x = ones(shape);
    for (const o of [x.softmax(dim), x.logSoftmax(dim), x.exp(), x.clamp(0, 1), x.relu(), x.maskedFill(x.gt(0), 2)]) expect(o.shape).toEqual(shape);
  });

  prop('matmul follows torch.matmul for every rank pair', fc.record({
    ra: fc.integer({ min: 1, max: 4 }), rb: fc.integer({ min: 1, max: 4 }), m: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }), batch: shapeArb({ minRank: 2, maxRank: 2 }), dropA: fc.boolean(),
  }), ({ ra, rb, m, k, n, batch, dropA }) => {
    // batch dims are right-aligned trailing parts of one batch shape, so they broadcast
    const ba = batch.slice(2 - Math.max(0, ra - 2)).map((d) => (dropA ? 1 : d));
    const bb = batch.slice(2 - Math.max(0, rb - 2));
    const sa = ra === 1 ? [k] : [...ba, m, k];
    const sb = rb === 1 ? [k] : [...bb, k, n];
    const out = ones(sa).matmul(ones(sb));
    const lead = refBroadcast(ra > 2 ? ba : [], rb > 2 ? bb : []);
    const want = [...lead, ...(ra === 1 ? [] : [m]), ...(rb === 1 ? [] : [n])];
    expect(out.shape).toEqual(want);
    expect(Array.from(out.dataSync()).every((v) => v === k)).toBe(true);
  });

  test('1-D matmul cases and max(dim) on 0-d (PyTorch shapes)', () => {
    expect(tg.ones(3).matmul(tg.ones(3)).shape).toEqual([]);
    expect(tg.ones(3).matmul(tg.ones(3, 2)).shape).toEqual([2]);
    expect(tg.ones(2, 3).matmul(tg.ones(3)).shape).toEqual([2]);
    expect(tg.ones(4, 2, 3).matmul(tg.ones(3)).shape).toEqual([4, 2]);
    expect(tg.ones(3).matmul(tg.ones(4, 3, 2)).shape).toEqual([4, 2]);
    expect(tg.ones(3).outer(tg.ones(2)).shape).toEqual([3, 2]);
    const z = tg.tensor(3);
    expect(z.max(0).values.shape).toEqual([]);
    expect(z.max(0, true).values.shape).toEqual([]); // keepdim on 0-d stays 0-d
    expect(z.max(-1).indices.item()).toBe(0);
    expect(z.sum(0, true).shape).toEqual([]);
    expect(z.argmax(0, true).shape).toEqual([]);
    expect(z.unsqueeze(0).shape).toEqual([1]);
    expect(z.flatten().shape).toEqual([1]);
    expect(z.expand(2, 3).shape).toEqual([2, 3]);
    expect(tg.stack([z, z]).shape).toEqual([2]);
    expect(z.gather(0, tg.tensor(0, { dtype: 'int32' })).shape).toEqual([]);
    expect(tg.ones(2).indexSelect(0, tg.tensor(1, { dtype: 'int32' })).shape).toEqual([1]);
  });
});

describe('strided inputs', () => {
  // each op on a transposed/sliced view must equal the op on its contiguous copy
  const ops: [string, (x: Tensor) => Tensor][] = [
    ['exp', (x) => x.exp()], ['add self', (x) => x.add(x.mul(2))], ['sum(0)', (x) => x.sum(0)], ['sum(-1, keepdim)', (x) => x.sum(-1, true)],
    ['amax(0)', (x) => x.amax(0)], ['prod(1)', (x) => x.prod(1)], ['softmax(-1)', (x) => x.softmax(-1)], ['matmul xᵀ', (x) => x.matmul(x.t())],
    ['argmax(0)', (x) => x.argmax(0)], ['gather', (x) => x.gather(0, tg.zeros(x.shape, { dtype: 'int32' }))], ['cat', (x) => tg.cat([x, x], 1)],
    ['where', (x) => tg.where(x.gt(0), x, 0)], ['reshape(-1)', (x) => x.reshape(-1)], ['var(1)', (x) => x.var(1)],
  ];
  const viewCase = tensorArb(shapeArb({ minRank: 2, maxRank: 2, minDim: 2 }), real()).chain((s) =>
    fc.constantFrom<[string, (x: Tensor) => Tensor]>(['transpose', (x) => x.t()], ['step slice', (x) => x.slice(0, 0, null, 2)],
      ['flip-free narrow', (x) => x.narrow(1, 1, x.shape[1]! - 1)], ['expand', (x) => x.select(0, 0).unsqueeze(0).expand(3, x.shape[1]!)])
      .map((view) => ({ s, view })));
  for (const [name, op] of ops) {
    prop(name, viewCase, ({ s, view }) => {
      const base = tg.tensor(s.data, { shape: s.shape, dtype: 'float64' });
      const v = view[1](base);
      expectClose(op(v), op(v.contiguous()), { atol: 1e-12, rtol: 1e-12 });
    });
  }
});

describe('empty tensors (PyTorch results)', () => {
  test('reductions over a non-empty dim of an empty tensor are empty, not errors', () => {
    const z = tg.zeros(0, 3);
    expect(z.amax(1).shape).toEqual([0]);
    expect(z.max(1).values.shape).toEqual([0]);
    expect(z.argmax(1).shape).toEqual([0]);
    expect(z.softmax(1).shape).toEqual([0, 3]);
    expect(z.logSoftmax(1).shape).toEqual([0, 3]);
    expect(z.logsumexp(1).shape).toEqual([0]);
    expect(z.sum(0).toArray()).toEqual([0, 0, 0]);
    expect(z.prod(0).toArray()).toEqual([1, 1, 1]);
    expect(() => z.amax(0)).toThrow('amax(): Expected reduction dim 0 to have non-zero size.');
    expect(() => z.argmax()).toThrow('argmax(): Expected reduction dim to be specified for input.numel() == 0.');
  });

  test('logsumexp over an empty dim is -inf; matmul with k = 0 is zeros', () => {
    expect(tg.zeros(2, 0).logsumexp(1).toArray()).toEqual([-Infinity, -Infinity]);
    expect(tg.zeros(2, 0).matmul(tg.zeros(0, 3)).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(tg.zeros(0, 2).matmul(tg.zeros(2, 3)).shape).toEqual([0, 3]);
    expect(Number.isNaN(tg.zeros(0).mean().item())).toBe(true);
  });

  test('backward through empty tensors gives empty gradients', () => {
    const x = tg.zeros([0, 3], { requiresGrad: true });
    x.mul(2).exp().softmax(1).sum().backward();
    expect(x.grad!.shape).toEqual([0, 3]);
  });
});
