// The sliding-window primitives behind conv2d and pooling (src/autograd/ops/conv.ts, CPU kernels in
// src/tensor/backend/cpu-conv.ts): PyTorch fixtures for unfold/fold/conv2d/pools, first and second
// order (scripts/torch_fixtures_conv.py), gradcheck and gradgradcheck properties, the gather/scatter
// composites that backends without the kernels run (the gpu device) against the kernels, float32
// against float64, strided inputs, and PyTorch's error messages.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type { Backend } from '../../src/tensor/backend/backend.js';
import { backendFor, registerBackend } from '../../src/tensor/backend/device.js';
import { closeMismatch } from '../helpers/close.js';
import { distinctValuesArb, real, valuesArb } from '../helpers/arbitraries.js';
import { fromFixture, type FixtureTensor } from '../helpers/oracle.js';

const F = nn.functional;
const SEED = 20241122;

// ------------------------------------------------------------------ PyTorch fixtures

interface ConvCase {
  fn: string;
  options: Record<string, unknown>;
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  gradOutputs: (FixtureTensor | null)[];
  grads: (FixtureTensor | null)[];
  gradGradOutputs?: FixtureTensor[];
  secondGrads?: FixtureTensor[];
}

const CASES = JSON.parse(readFileSync(new URL('../fixtures/conv/conv.json', import.meta.url), 'utf8')) as Record<string, ConvCase>;

type Size2 = number | [number, number];
const size2 = (v: unknown, dflt: Size2): Size2 => (v === undefined || v === null ? dflt : (v as Size2));
const window = (o: Record<string, unknown>) => ({ dilation: size2(o['dilation'], 1), padding: size2(o['padding'], 0), stride: size2(o['stride'], 1) });
const pool = (o: Record<string, unknown>) => ({
  ...(o['stride'] !== undefined && { stride: size2(o['stride'], 1) }), padding: size2(o['padding'], 0), ceilMode: o['ceilMode'] === true,
});

const IMPLS: Record<string, (xs: Tensor[], o: Record<string, unknown>) => Tensor | Tensor[]> = {
  unfold: ([x], o) => F.unfold(x!, o['kernelSize'] as Size2, window(o)),
  fold: ([x], o) => F.fold(x!, o['outputSize'] as Size2, o['kernelSize'] as Size2, window(o)),
  conv2d: ([x, w, b], o) => F.conv2d(x!, w!, b ?? null, { ...window(o), groups: (o['groups'] as number | undefined) ?? 1 }),
  max_pool2d_with_indices: ([x], o) => F.maxPool2dWithIndices(x!, o['kernelSize'] as Size2, { ...pool(o), dilation: size2(o['dilation'], 1) }),
  avg_pool2d: ([x], o) =>
    F.avgPool2d(x!, o['kernelSize'] as Size2, {
      ...pool(o), countIncludePad: o['countIncludePad'] !== false, divisorOverride: (o['divisorOverride'] as number | undefined) ?? null,
    }),
};

/**
 * Tolerances: float64 atol 1e-12 + rtol 1e-9 (the same sums as PyTorch, in another order);
 * float32 atol 1e-5 + rtol 1e-5 (conv sums up to 72 float32 products, in another order than
 * PyTorch's GEMM); int32 indices exactly.
 */
function expectMatches(what: string, got: Tensor, want: FixtureTensor): void {
  expect(got.dtype, what).toBe(want.dtype);
  const tol = want.dtype === 'float64' ? { atol: 1e-12, rtol: 1e-9 } : want.dtype === 'float32' ? { atol: 1e-5, rtol: 1e-5 } : { atol: 0, rtol: 0 };
  const msg = closeMismatch(got, fromFixture(want), tol);
  if (msg !== null) throw new Error(`${what}: ${msg}`);
}

/** Forward values, then first-order grads (createGraph), then second-order grads when recorded. */
function replay(c: ConvCase, impl: (xs: Tensor[]) => Tensor | Tensor[]): void {
  const leaves = c.inputs.map((t) => fromFixture(t, true));
  const outs = [impl(leaves)].flat();
  expect(outs.length).toBe(c.outputs.length);
  outs.forEach((o, k) => expectMatches(`output ${k}`, o, c.outputs[k]!));
  const diff = outs.flatMap((o, k) => (c.gradOutputs[k] ? [[o, fromFixture(c.gradOutputs[k])] as const] : []));
  const second = c.secondGrads !== undefined;
  const g1 = tg.autograd.grad(diff.map(([o]) => o), leaves, { gradOutputs: diff.map(([, g]) => g), createGraph: second, allowUnused: true });
  g1.forEach((g, i) => expectMatches(`grad of input ${i}`, g ?? leaves[i]!.mul(0), c.grads[i]!));
  if (!second) return;
  const vs = c.gradGradOutputs!.map((t) => fromFixture(t));
  const linked = g1.flatMap((g, i) => (g?.requiresGrad ? [g.mul(vs[i]!).sum()] : []));
  // NOTE: for linear ops (unfold, fold, pools) g1 no longer depends on the inputs: all zeros.
  const g2 = linked.length ? tg.autograd.grad([linked.reduce((a, b) => a.add(b))], leaves, { allowUnused: true }) : leaves.map(() => null);
  g2.forEach((g, i) => expectMatches(`second grad of input ${i}`, g ?? leaves[i]!.mul(0), c.secondGrads![i]!));
}

describe('PyTorch fixtures (test/fixtures/conv/conv.json)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(`${name} (${c.fn})`, () => replay(c, (xs) => IMPLS[c.fn]!(xs, c.options)));
  }
  // maxPool2d's own path (indices into the flattened input, a 1-D take) against the same cases.
  for (const [name, c] of Object.entries(CASES).filter(([, c]) => c.fn === 'max_pool2d_with_indices')) {
    const values: ConvCase = { ...c, outputs: c.outputs.slice(0, 1), gradOutputs: c.gradOutputs.slice(0, 1) };
    test(`${name} (maxPool2d)`, () => replay(values, ([x]) => F.maxPool2d(x!, c.options['kernelSize'] as Size2, { ...pool(c.options), dilation: size2(c.options['dilation'], 1) })));
  }
  test('every op is covered with float32 twins and second-order cases', () => {
    const fns = new Set(Object.values(CASES).map((c) => c.fn));
    expect([...fns].sort()).toEqual(Object.keys(IMPLS).sort());
    expect(Object.keys(CASES).filter((n) => n.endsWith('_f32')).length).toBeGreaterThanOrEqual(6);
    expect(Object.values(CASES).filter((c) => c.secondGrads).length).toBeGreaterThanOrEqual(6);
  });
});

// ------------------------------------------------------------------ gradcheck / gradgradcheck

const f64 = (data: number[], shape: number[]): Tensor => tg.tensor(data, { dtype: 'float64', shape, requiresGrad: true });
const valuesOf = (shape: number[]): fc.Arbitrary<number[]> => valuesArb(shape.reduce((a, b) => a * b, 1), real());
function prop<T>(name: string, arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns: number): void {
  test(name, () => fc.assert(fc.property(arb, (v) => void body(v)), { numRuns, seed: SEED }));
}

/** A window geometry small enough for finite differences, with every option in play. */
const geometryArb = fc.record({
  c: fc.integer({ min: 1, max: 2 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 2 }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 3 }), dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
  ph: fc.integer({ min: 0, max: 1 }), pw: fc.integer({ min: 0, max: 2 }), extraH: fc.integer({ min: 0, max: 2 }), extraW: fc.integer({ min: 0, max: 2 }),
}).map((g) => ({ ...g, h: g.dh * (g.kh - 1) + 1 + g.extraH, w: g.dw * (g.kw - 1) + 1 + g.extraW }));
type Geometry = typeof geometryArb extends fc.Arbitrary<infer G> ? G : never;
const opts = (g: Geometry) => ({ stride: [g.sh, g.sw] as [number, number], dilation: [g.dh, g.dw] as [number, number], padding: [g.ph, g.pw] as [number, number] });
const blocks = (g: Geometry): number =>
  (Math.floor((g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh) + 1) * (Math.floor((g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw) + 1);

describe('gradcheck and gradgradcheck', () => {
  const withImage = geometryArb.chain((g) => fc.tuple(fc.constant(g), valuesOf([2, g.c, g.h, g.w])));
  const withCols = geometryArb.chain((g) => fc.tuple(fc.constant(g), valuesOf([2, g.c * g.kh * g.kw, blocks(g)])));
  const unfold = (g: Geometry) => (x: Tensor) => F.unfold(x, [g.kh, g.kw], opts(g));
  const fold = (g: Geometry) => (x: Tensor) => F.fold(x, [g.h, g.w], [g.kh, g.kw], opts(g));
  prop('unfold', withImage, ([g, d]) => expect(tg.gradcheck(unfold(g), [f64(d, [2, g.c, g.h, g.w])])).toBe(true), 12);
  prop('unfold (gradgrad: its backward is fold)', withImage, ([g, d]) => expect(tg.gradgradcheck(unfold(g), [f64(d, [2, g.c, g.h, g.w])])).toBe(true), 6);
  prop('fold', withCols, ([g, d]) => expect(tg.gradcheck(fold(g), [f64(d, [2, g.c * g.kh * g.kw, blocks(g)])])).toBe(true), 12);
  prop('fold (gradgrad: its backward is unfold)', withCols, ([g, d]) =>
    expect(tg.gradgradcheck(fold(g), [f64(d, [2, g.c * g.kh * g.kw, blocks(g)])])).toBe(true), 6);

  const convArb = fc.tuple(geometryArb, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })).chain(([g, groups, outPerGroup]) =>
    fc.tuple(fc.constant({ ...g, groups, o: groups * outPerGroup }), valuesOf([1, g.c * groups, g.h, g.w]), valuesOf([groups * outPerGroup, g.c, g.kh, g.kw]), valuesOf([groups * outPerGroup])));
  const conv = (g: Geometry & { groups: number }) => (x: Tensor, w: Tensor, b: Tensor) => F.conv2d(x, w, b, { ...opts(g), groups: g.groups });
  const convInputs = (g: Geometry & { groups: number; o: number }, x: number[], w: number[], b: number[]) =>
    [f64(x, [1, g.c * g.groups, g.h, g.w]), f64(w, [g.o, g.c, g.kh, g.kw]), f64(b, [g.o])];
  prop('conv2d', convArb, ([g, x, w, b]) => expect(tg.gradcheck(conv(g), convInputs(g, x, w, b))).toBe(true), 10);
  prop('conv2d (gradgrad)', convArb, ([g, x, w, b]) => expect(tg.gradgradcheck(conv(g), convInputs(g, x, w, b))).toBe(true), 4);

  const poolArb = fc.record({
    k: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), dilation: fc.integer({ min: 1, max: 2 }), ceilMode: fc.boolean(),
    h: fc.integer({ min: 5, max: 6 }), w: fc.integer({ min: 5, max: 6 }), countIncludePad: fc.boolean(),
  }).chain((c) => fc.tuple(fc.constant(c), fc.integer({ min: 0, max: Math.floor(c.k / 2) }), distinctValuesArb(2 * c.h * c.w, 0.01)));
  const maxPool = (c: { k: number; stride: number; dilation: number; ceilMode: boolean }, padding: number) => (x: Tensor) =>
    F.maxPool2d(x, c.k, { stride: c.stride, padding, dilation: c.dilation, ceilMode: c.ceilMode });
  const avgPool = (c: { k: number; stride: number; ceilMode: boolean; countIncludePad: boolean }, padding: number) => (x: Tensor) =>
    F.avgPool2d(x, c.k, { stride: c.stride, padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad });
  // Distinct values keep every window's max away from a tie, where the gradient jumps.
  prop('maxPool2d (dilation, ceilMode)', poolArb, ([c, p, d]) => expect(tg.gradcheck(maxPool(c, p), [f64(d, [1, 2, c.h, c.w])])).toBe(true), 10);
  prop('maxPool2d (gradgrad: take and put)', poolArb, ([c, p, d]) => expect(tg.gradgradcheck(maxPool(c, p), [f64(d, [1, 2, c.h, c.w])])).toBe(true), 4);
  prop('avgPool2d', poolArb, ([c, p, d]) => expect(tg.gradcheck(avgPool(c, p), [f64(d, [1, 2, c.h, c.w])])).toBe(true), 10);
  prop('avgPool2d (gradgrad)', poolArb, ([c, p, d]) => expect(tg.gradgradcheck(avgPool(c, p), [f64(d, [1, 2, c.h, c.w])])).toBe(true), 4);
});

// ------------------------------------------------------------------ composites (backends without kernels)

describe('gather/scatter composites (what the gpu device runs) match the CPU kernels', () => {
  const kernels = backendFor('cpu');
  afterEach(() => registerBackend(kernels));
  /** The CPU backend without its optional sliding-window kernels. */
  function plainCpu(): Backend {
    const { unfold2d: _u, fold2d: _f, maxPool2dIndices: _m, ...plain } = kernels;
    return plain;
  }
  /** Outputs and input grads of `fn` (float64, fixed gradOutputs) on the current CPU backend. */
  function run(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): number[][] {
    const xs = inputs.map((x) => x.detach().requiresGrad_());
    const out = fn(...xs);
    tg.manualSeed(3);
    out.backward(tg.randn(out.shape, { dtype: 'float64' }));
    return [Array.from(out.dataSync()), ...xs.map((x) => Array.from(x.grad!.dataSync()))];
  }
  const cases: [string, (...xs: Tensor[]) => Tensor, number[][]][] = [
    ['unfold', (x) => F.unfold(x, [3, 2], { padding: [1, 2], stride: [2, 1], dilation: [1, 2] }), [[2, 3, 7, 6]]],
    ['fold', (x) => F.fold(x, [5, 6], [2, 3], { padding: 1, stride: [1, 2] }), [[2, 12, 18]]],
    ['conv2d', (x, w, b) => F.conv2d(x, w, b, { padding: 'same', dilation: 2 }), [[2, 4, 6, 5], [3, 4, 3, 3], [3]]],
    ['maxPool2d', (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [[2, 3, 8, 7]]],
    ['avgPool2d', (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [[2, 3, 8, 7]]],
  ];
  for (const [name, fn, shapes] of cases) {
    test(name, () => {
      tg.manualSeed(11);
      const inputs = shapes.map((s) => tg.randn(s, { dtype: 'float64' }));
      const fast = run(fn, inputs);
      registerBackend(plainCpu());
      const composite = run(fn, inputs);
      composite.forEach((v, i) => expect(closeMismatch(v, fast[i]!, { atol: 1e-12, rtol: 1e-12 })).toBeNull());
    });
  }
  test('maxPool2dWithIndices: same indices, including ties and -inf windows', () => {
    const x = tg.tensor([[[[1, 1, -Infinity], [0, 1, -Infinity], [-Infinity, -Infinity, -Infinity]]]], { dtype: 'float64' });
    const want = F.maxPool2dWithIndices(x, 2, { stride: 1, padding: 1 })[1].toArray();
    registerBackend(plainCpu());
    expect(F.maxPool2dWithIndices(x, 2, { stride: 1, padding: 1 })[1].toArray()).toEqual(want);
  });
});

// ------------------------------------------------------------------ dtypes, layouts, errors

describe('float32 and float64 agree; strided inputs; errors', () => {
  test('a conv-pool-linear network gives the same loss and gradients in float32 and float64', () => {
    tg.manualSeed(5);
    const net = new nn.Sequential(
      new nn.Conv2d(2, 6, 3, { padding: 1 }), new nn.MaxPool2d(2), new nn.ReLU(),
      new nn.Conv2d(6, 4, 3, { stride: 2, groups: 2 }), new nn.AvgPool2d(2, { ceilMode: true }), new nn.Flatten(), new nn.Linear(4, 3),
    );
    const x = tg.randn([5, 2, 12, 12]);
    const y = tg.tensor([0, 1, 2, 1, 0], { dtype: 'int32' });
    const lossAndGrads = (dtype: 'float32' | 'float64'): number[][] => {
      net.to(dtype);
      net.zeroGrad();
      const loss = F.crossEntropy(net.call(x.to(dtype)), y);
      loss.backward();
      return [[loss.item()], ...net.parameters().map((p) => Array.from(p.grad!.dataSync()))];
    };
    const single = lossAndGrads('float32');
    const double = lossAndGrads('float64');
    // float32 rounding through two convs and a pool: 1e-5 relative is ample and still catches a wrong index.
    single.forEach((v, i) => expect(closeMismatch(v, double[i]!, { atol: 1e-5, rtol: 1e-4 })).toBeNull());
  });

  test('strided (transposed, sliced) inputs give the contiguous results', () => {
    tg.manualSeed(9);
    const base = tg.randn([2, 3, 9, 8], { dtype: 'float64' });
    const strided = base.transpose(2, 3).slice(2, 1, 8, 1).slice(1, 0, 3, 2);   // [2, 2, 7, 9], non-contiguous
    const copy = strided.contiguous();
    expect(strided.isContiguous()).toBe(false);
    const w = tg.randn([4, 2, 3, 2], { dtype: 'float64' });
    expect(F.unfold(strided, 3, { padding: 1, stride: 2 }).equal(F.unfold(copy, 3, { padding: 1, stride: 2 }))).toBe(true);
    expect(F.conv2d(strided, w, null, { padding: 1 }).equal(F.conv2d(copy, w, null, { padding: 1 }))).toBe(true);
    expect(F.maxPool2d(strided, 2, { ceilMode: true }).equal(F.maxPool2d(copy, 2, { ceilMode: true }))).toBe(true);
    const [, idx] = F.maxPool2dWithIndices(strided, 3, { stride: 2, padding: 1 });
    expect(idx.equal(F.maxPool2dWithIndices(copy, 3, { stride: 2, padding: 1 })[1])).toBe(true);
  });

  test('fold inverts unfold for non-overlapping windows; fold(unfold(x)) counts overlaps', () => {
    const x = tg.randn([2, 3, 6, 4]);
    expect(F.fold(F.unfold(x, 2, { stride: 2 }), [6, 4], 2, { stride: 2 }).equal(x)).toBe(true);
    const counts = F.fold(F.unfold(tg.ones([1, 1, 3, 3]), 2), [3, 3], 2);
    expect(counts.toArray()).toEqual([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]);
  });

  test('nn.Unfold and nn.Fold wrap the functions', () => {
    const x = tg.randn([2, 3, 5, 4]);
    const un = new nn.Unfold([2, 3], { padding: 1, stride: [2, 1] });
    const cols = un.call(x);
    expect(cols.equal(F.unfold(x, [2, 3], { padding: 1, stride: [2, 1] }))).toBe(true);
    const fo = new nn.Fold([5, 4], [2, 3], { padding: 1, stride: [2, 1] });
    expect(fo.call(cols).equal(F.fold(cols, [5, 4], [2, 3], { padding: 1, stride: [2, 1] }))).toBe(true);
    expect(String(un)).toBe('Unfold(kernelSize=2,3, dilation=1, padding=1, stride=2,1)');
    expect(String(fo)).toBe('Fold(outputSize=5,4, kernelSize=2,3, dilation=1, padding=1, stride=2,1)');
  });

  test('unbatched inputs, and empty batches', () => {
    expect(F.unfold(tg.randn([2, 4, 5]), 2).shape).toEqual([8, 12]);
    expect(F.fold(tg.randn([8, 12]), [4, 5], 2).shape).toEqual([2, 4, 5]);
    expect(F.unfold(tg.randn([0, 2, 3, 3]), 2).shape).toEqual([0, 8, 4]);
    expect(F.conv2d(tg.randn([0, 1, 3, 3]), tg.randn([2, 1, 2, 2])).shape).toEqual([0, 2, 2, 2]);
    expect(F.maxPool2d(tg.randn([0, 2, 3, 3]), 2).shape).toEqual([0, 2, 1, 1]);
  });

  test("errors are worded as PyTorch's", () => {
    expect(() => F.unfold(tg.randn([3, 4]), 2)).toThrow('Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [3, 4]');
    expect(() => F.unfold(tg.randn([1, 1, 2, 2]), 3))
      .toThrow('Given input with spatial size (2, 2), kernel_size=(3, 3), dilation=(1, 1), padding=(0, 0), calculated shape of the array of sliding blocks as (0, 0), but its components must be at least one.');
    expect(() => F.unfold(tg.randn([1, 1, 4, 4]), 2, { stride: 0 })).toThrow('stride should be greater than zero, but got stride_height: 0 stride_width: 0');
    expect(() => F.unfold(tg.randn([1, 1, 4, 4]), 2, { dilation: 0 })).toThrow('dilation should be greater than zero, but got dilation_height: 0 dilation_width: 0');
    expect(() => F.unfold(tg.randn([1, 1, 4, 4]), 2, { padding: -1 })).toThrow('padding should be non-negative, but got pad_height: -1 pad_width: -1');
    expect(() => F.unfold(tg.randn([1, 1, 4, 4]), 0)).toThrow('kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0');
    expect(() => F.unfold(tg.ones([1, 1, 4, 4], { dtype: 'int32' }), 2)).toThrow(`"im2col_out_cpu" not implemented for 'int32'`);
    expect(() => F.fold(tg.randn([1, 8, 8]), [4, 4], 2))
      .toThrow("Given output_size=(4, 4), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size of input's dimension 2 to match the calculated number of sliding blocks 3 * 3 = 9, but got input.size(2)=8.");
    expect(() => F.fold(tg.randn([1, 5, 9]), [4, 4], 2))
      .toThrow("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=5 and kernel_size=(2, 2).");
    expect(() => F.fold(tg.randn([8]), [4, 4], 2)).toThrow('Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: [8]');
    expect(() => F.conv2d(tg.randn([1, 1, 3, 3]), tg.randn([1, 1, 2, 2]), null, { stride: 0 })).toThrow('non-positive stride is not supported');
    expect(() => F.conv2d(tg.randn([1, 1, 3, 3]), tg.randn([1, 1, 2, 2]), null, { padding: -1 })).toThrow('negative padding is not supported');
    expect(() => F.conv2d(tg.randn([1, 1, 3, 3]), tg.randn([1, 1, 2, 2]), null, { dilation: 0 })).toThrow('dilation should be greater than zero, but got [0, 0]');
    expect(() => F.maxPool2d(tg.randn([1, 1, 4, 4]), 2, { stride: 0 })).toThrow('stride should not be zero');
    expect(() => F.maxPool2d(tg.randn([1, 1, 4, 4]), 2, { dilation: 0 })).toThrow('dilation should be greater than zero, but got dilationH: 0 dilationW: 0');
    expect(() => F.maxPool2d(tg.randn([1, 2, 0, 3]), 1)).toThrow('Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[1, 2, 0, 3]');
    expect(() => F.avgPool2d(tg.randn([1, 1, 4, 4]), 2, { padding: -1 })).toThrow('pad must be non-negative, but got pad: -1');
  });
});
