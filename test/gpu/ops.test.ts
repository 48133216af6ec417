/**
 * The same op tests on every device (describeEachDevice): elementwise with broadcasting and
 * strided operands, reductions, softmax family, matmul (transposed and batched), indexing,
 * in-place writes, casts, and gradients through them, each against a float64 CPU reference.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { checkOnDevice } from './check.js';
import { describeEachDevice } from './devices.js';

const UNARY = ['neg', 'abs', 'sign', 'exp', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'square', 'floor', 'ceil', 'round'] as const;
const POSITIVE = ['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal'] as const;

describeEachDevice('elementwise', (dev) => {
  it('unary ops', async () => {
    for (const op of UNARY) await checkOnDevice(dev, [{ shape: [3, 5] }], (x) => x[op]());
    for (const op of POSITIVE) await checkOnDevice(dev, [{ shape: [3, 5], lo: 0.05, hi: 3 }], (x) => x[op]());
    // expm1 / log1p / tanh near 0, where the naive formulas cancel.
    await checkOnDevice(dev, [{ shape: [7], lo: -1e-3, hi: 1e-3 }], (x) => [x.expm1(), x.log1p(), x.tanh()], { atol: 1e-10, rtol: 1e-5 });
  });

  it('erf (GELU\'s exact form) stays on the device: accurate near 0 and in the tails', async () => {
    const F = tg.nn.functional;
    await checkOnDevice(dev, [{ shape: [64], lo: -4, hi: 4 }], (x) => F.erf(x), { atol: 2e-7, rtol: 2e-6 }, { grad: true });
    await checkOnDevice(dev, [{ shape: [16], lo: -1e-3, hi: 1e-3 }], (x) => F.erf(x), { atol: 1e-12, rtol: 2e-6 });
    await checkOnDevice(dev, [{ shape: [16], lo: 0.45, hi: 0.55 }], (x) => [F.erf(x), F.erf(x.neg())], { atol: 2e-7, rtol: 2e-6 });
    await checkOnDevice(dev, [{ shape: [5, 7] }], (x) => F.gelu(x), { atol: 1e-6, rtol: 1e-5 }, { grad: true });
    if (dev.device === 'gpu') {
      const before = tg.gpu.stats().readbacks;
      F.erf(tg.randn([100]).to('gpu'));
      expect(tg.gpu.stats().readbacks).toBe(before);
    }
  });

  it('binary ops with broadcasting and strided operands', async () => {
    for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum', 'atan2'] as const) {
      await checkOnDevice(dev, [{ shape: [2, 3, 4] }, { shape: [3, 1] }], (a, b) => a[op](b));
    }
    await checkOnDevice(dev, [{ shape: [4, 3] }, { shape: [3, 4], lo: 0.5, hi: 2 }], (a, b) => a.div(b.t()));
    await checkOnDevice(dev, [{ shape: [5, 6], lo: 0.1, hi: 2 }, { shape: [6] }], (a, b) => a.pow(b).add(a.slice(1, 0, 6, 2).sum()));
    await checkOnDevice(dev, [{ shape: [4, 6] }], (a) => a.pow(2).sub(a.pow(3)).add(a.pow(-1).abs().clamp(0, 5)));
    await checkOnDevice(dev, [{ shape: [2, 3, 4] }, { shape: [4, 2] }], (a, b) => a.permute(2, 0, 1).mul(b.unsqueeze(2)).narrow(0, 1, 2));
  });

  it('comparisons, logical ops, where and maskedFill', async () => {
    await checkOnDevice(dev, [{ shape: [3, 4] }, { shape: [4] }], (a, b) => [a.lt(b), a.le(b), a.gt(b), a.ge(b), a.eq(a), a.ne(b), a.gt(0).logicalAnd(b.lt(0)), a.gt(0).logicalOr(b.lt(0)), a.gt(0).logicalNot()]);
    await checkOnDevice(dev, [{ shape: [3, 4] }, { shape: [3, 1] }], (a, b) => tg.where(a.gt(b), a, b.mul(2)), {}, { grad: true });
    await checkOnDevice(dev, [{ shape: [3, 4] }], (a) => a.maskedFill(a.lt(0), -1));
  });

  it('isfinite, isinf and isnan', async () => {
    const x = tg.tensor([1, Infinity, -Infinity, 0, -2], { device: dev.device });
    expect(await x.isfinite().array()).toEqual([true, false, false, true, true]);
    expect(await x.isinf().array()).toEqual([false, true, true, false, false]);
    expect(await x.isnan().array()).toEqual([false, false, false, false, false]);
  });

  it('casts between float32, int32, bool and float64', async () => {
    await checkOnDevice(dev, [{ shape: [2, 5], lo: -5, hi: 5 }], (a) => [a.int(), a.bool(), a.int().float().add(1)]);
    // float64 lives on the host (gpu.js is float32 only): a cast to it reads the device buffer back,
    // which WebGPU cannot do synchronously.
    if (dev.syncReadback) await checkOnDevice(dev, [{ shape: [2, 5], lo: -5, hi: 5 }], (a) => a.double().mul(3).float());
    else expect(() => tg.ones([3], { device: 'gpu' }).double()).toThrow(/await t\.data\(\)/);
    await checkOnDevice(dev, [{ shape: [6], dtype: 'int32', lo: -50, hi: 50 }], (a) => [a.add(a), a.mul(3), a.neg(), a.float().div(7)]);
  });
}, { asyncReadback: true });

describeEachDevice('reductions and softmax', (dev) => {
  it('sum, mean, prod, amax, amin over dims, keepdim, all elements', async () => {
    await checkOnDevice(dev, [{ shape: [3, 4, 5] }], (x) => [x.sum(), x.sum(1), x.sum([0, 2], true), x.mean(-1), x.amax(0), x.amin([1, 2])], {}, { grad: true });
    // prod's backward checks for zeros where it can read synchronously; on WebGPU it always takes
    // the zero-safe formula (product of the other elements).
    await checkOnDevice(dev, [{ shape: [3, 4, 5] }], (x) => x.prod(1), {}, { grad: true });
  });

  it('max/min with indices, argmax, all/any', async () => {
    await checkOnDevice(dev, [{ shape: [4, 6] }], (x) => {
      const [v, i] = x.max(1);
      const [w, j] = x.min(0, true);
      return [v, i, w, j, x.argmax(), x.argmin(1), x.gt(0).all(1), x.gt(1.5).any(0)];
    });
  });

  it('softmax, logSoftmax and logsumexp (values and gradients)', async () => {
    await checkOnDevice(dev, [{ shape: [5, 7], lo: -4, hi: 4 }], (x) => [x.softmax(1), x.logSoftmax(-1), x.logsumexp(1), x.softmax(0)], {}, { grad: true });
    // strided (transposed) and 3-D inputs, several logsumexp axes, large logits (the shift)
    await checkOnDevice(dev, [{ shape: [4, 3, 6], lo: -60, hi: 60 }], (x) => [x.transpose(0, 2).softmax(1), x.logSoftmax(1), x.logsumexp([0, 2]), x.logsumexp(2, true)], {}, { grad: true });
  });

  it('softmax and logSoftmax are two kernels on the device, logsumexp one; -inf logits as the CPU', async () => {
    const rows = [[1, 2, 3], [0, -Infinity, 5]];
    const x = tg.tensor(rows, { device: dev.device });
    for (const f of [(t: Tensor) => t.softmax(1), (t: Tensor) => t.logSoftmax(1), (t: Tensor) => t.logsumexp(1)]) {
      const want = Array.from(f(tg.tensor(rows)).dataSync());
      const got = Array.from(await f(x).data());
      got.forEach((v, i) => (Number.isFinite(want[i]!) ? expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5) : expect(v).toBe(want[i])));
    }
    if (dev.device !== 'gpu') return;
    const y = tg.randn([64, 10]).to('gpu');
    const launches = (f: () => Tensor) => {
      f();
      const before = tg.gpu.stats().launches;
      f();
      return tg.gpu.stats().launches - before;
    };
    expect(launches(() => y.softmax(1))).toBe(2);
    expect(launches(() => y.logSoftmax(1))).toBe(2);
    expect(launches(() => y.logsumexp(1))).toBe(1);
    // relu's backward (threshold_backward) is one kernel too
    const w = tg.randn([64, 10]).to('gpu').requiresGrad_();
    const r = w.relu();
    const g = tg.randn([64, 10]).to('gpu');
    expect(launches(() => tg.autograd.grad(r, w, { gradOutputs: g, retainGraph: true })[0]!)).toBe(1);
  });

  it('variance, norms and a reduction over a transposed view', async () => {
    await checkOnDevice(dev, [{ shape: [6, 5] }], (x) => [x.var(0), x.std(1), x.norm(), x.norm(1, 1), x.t().sum(1)], {}, { grad: true });
  });
}, { asyncReadback: true });

describeEachDevice('matmul', (dev) => {
  const tol = { atol: 1e-4, rtol: 1e-4 };
  it('2-D, transposed operands, vectors', async () => {
    await checkOnDevice(dev, [{ shape: [5, 7] }, { shape: [7, 3] }], (a, b) => a.matmul(b), tol, { grad: true });
    await checkOnDevice(dev, [{ shape: [7, 5] }, { shape: [3, 7] }], (a, b) => [a.t().matmul(b.t()), a.t().matmul(a)], tol, { grad: true });
    await checkOnDevice(dev, [{ shape: [4, 6] }, { shape: [6] }], (a, v) => [a.matmul(v), v.matmul(a.t()), v.dot(v)], tol, { grad: true });
  });

  it('batched, with broadcast batch dims', async () => {
    await checkOnDevice(dev, [{ shape: [3, 4, 5] }, { shape: [3, 5, 2] }], (a, b) => a.matmul(b), tol, { grad: true });
    await checkOnDevice(dev, [{ shape: [2, 1, 4, 5] }, { shape: [3, 5, 2] }], (a, b) => a.matmul(b), tol, { grad: true });
  });

  it('F.linear on a 2-D input: one fused addmm kernel (bias in the product), values and gradients', async () => {
    const F = tg.nn.functional;
    await checkOnDevice(dev, [{ shape: [6, 7] }, { shape: [5, 7] }, { shape: [5] }], (x, w, b) => F.linear(x, w, b), tol, { grad: true });
    await checkOnDevice(dev, [{ shape: [9, 16] }, { shape: [12, 16] }, { shape: [12] }], (x, w, b) => F.linear(x, w, b).relu(), tol, { grad: true });
    if (dev.device !== 'gpu') return;
    const [x, w, b] = [tg.randn([33, 40]), tg.randn([24, 40]), tg.randn([24])].map((t) => t.to(dev.device));
    const launches = (f: () => Tensor) => {
      const before = tg.gpu.stats().launches;
      f();
      return tg.gpu.stats().launches - before;
    };
    launches(() => F.linear(x!, w!, b!)); // compile and upload once
    launches(() => x!.matmul(w!.t()).add(b!));
    const fused = launches(() => F.linear(x!, w!, b!));
    expect(fused).toBe(launches(() => x!.matmul(w!.t()).add(b!)) - 1);
    expect(F.linear(x!, w!, b!).gradFn).toBeNull();
    expect(F.linear(x!, w!.requiresGrad_(), b!).gradFn!.name).toBe('AddmmBackward');
  });

  it('a 64x96 @ 96x80 product within float32 accumulation error', async () => {
    // notes §5.1: |err| <= 1e-6 · K · max|a| · max|b| held on every float32 backend
    await checkOnDevice(dev, [{ shape: [64, 96] }, { shape: [96, 80] }], (a, b) => a.matmul(b), { atol: 1e-6 * 96 * 4, rtol: 0 });
  });
}, { asyncReadback: true });

describeEachDevice('indexing, movement and in-place writes', (dev) => {
  it('gather, scatterAdd, indexSelect', async () => {
    const idx = (like: Tensor, shape: number[], vals: number[]) => tg.tensor(Int32Array.from(vals), { shape, device: like.device });
    await checkOnDevice(dev, [{ shape: [3, 4] }], (x) => x.gather(1, idx(x, [3, 2], [0, 3, 1, 1, 2, 0])), {}, { grad: true });
    await checkOnDevice(dev, [{ shape: [3, 4] }, { shape: [2, 4] }], (x, s) => x.scatterAdd(0, idx(x, [2, 4], [0, 2, 2, 1, 0, 0, 1, 2]), s), {}, { grad: true });
    await checkOnDevice(dev, [{ shape: [3, 4] }], (x) => x.scatter(1, idx(x, [3, 1], [2, 0, 3]), 7.5));
    await checkOnDevice(dev, [{ shape: [5, 3] }], (x) => x.indexSelect(0, idx(x, [4], [4, 0, 0, 2])), {}, { grad: true });
  });

  it('cat, stack, contiguous copies of permuted and sliced views', async () => {
    await checkOnDevice(dev, [{ shape: [2, 3] }, { shape: [4, 3] }, { shape: [1, 3] }], (a, b, c) => tg.cat([a, b, c, a], 0), {}, { grad: true });
    await checkOnDevice(dev, [{ shape: [2, 3] }], (a) => tg.cat(Array.from({ length: 11 }, () => a), 1));
    await checkOnDevice(dev, [{ shape: [2, 3] }, { shape: [2, 3] }], (a, b) => tg.stack([a, b], 1), {}, { grad: true });
    await checkOnDevice(dev, [{ shape: [3, 4, 5] }], (x) => [x.permute(2, 0, 1).contiguous(), x.slice(2, 1, 5, 2).reshape(-1), x.select(1, 2).flatten()], {}, { grad: true });
  });

  it('in-place writes into whole tensors and into strided views', async () => {
    await checkOnDevice(dev, [{ shape: [4, 5] }, { shape: [5] }], (a, b) => {
      const x = a.clone();
      tg.noGrad(() => {
        x.add_(b);
        x.narrow(0, 1, 2).mul_(10);
        x.select(1, 3).fill_(-1);
        x.t().narrow(0, 0, 1).copy_(tg.zeros([1, 4], { device: x.device, dtype: x.dtype }));
      });
      return x;
    });
    const z = tg.zeros([2, 3], { device: dev.device });
    z.fill_(2).mul_(z);
    expect(await z.array()).toEqual([[4, 4, 4], [4, 4, 4]]);
  });

  it('reads back with data(), array(), item() and moves between devices', async () => {
    const x = tg.tensor([[1, 2], [3, 4]], { device: dev.device });
    expect(Array.from(await x.data())).toEqual([1, 2, 3, 4]);
    expect(await x.t().array()).toEqual([[1, 3], [2, 4]]);
    const y = tg.tensor([5, 6]).to(dev.device);
    expect(y.device).toBe(dev.device);
    if (!dev.syncReadback) {
      // WebGPU: every synchronous read names the async call that works.
      for (const read of [() => x.sum().item(), () => x.toArray(), () => y.cpu(), () => x.toString()]) expect(read).toThrow(/await t\.data\(\)/);
      return;
    }
    expect(x.sum().item()).toBe(10);
    expect(y.cpu().device).toBe('cpu');
    expect(x.toString()).toBe(`tensor([[1., 2.],\n        [3., 4.]]${dev.device === 'gpu' ? ", device='gpu'" : ''})`);
  });
}, { asyncReadback: true });

describeEachDevice('autograd through a composite function', (dev) => {
  it('gradients of a small network agree with float64', async () => {
    await checkOnDevice(dev, [{ shape: [8, 5] }, { shape: [5, 6] }, { shape: [6] }, { shape: [6, 3] }], (x, w1, b1, w2) => {
      const h = x.matmul(w1).add(b1).tanh();
      const logits = h.matmul(w2);
      const target = tg.tensor(Int32Array.from([0, 2, 1, 1, 0, 2, 2, 0]), { device: x.device });
      const nll = logits.logSoftmax(1).gather(1, target.unsqueeze(1)).neg().mean();
      return [logits.sigmoid(), nll];
    }, { atol: 1e-4, rtol: 1e-4 }, { grad: true });
  });

  it('leaves accumulate gradients across backward calls', async () => {
    const w = tg.tensor([1, 2, 3], { device: dev.device, requiresGrad: true });
    w.mul(w).sum().backward();
    w.mul(3).sum().backward();
    expect(await (w.grad as Tensor).array()).toEqual([5, 7, 9]);
  });
}, { asyncReadback: true });
