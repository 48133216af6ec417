// Property-based gradient checks: every differentiable op against central differences in
// float64 (tg.gradcheck: values, zero gradOutput -> zero grads, reproducible backward), and
// second derivatives (tg.gradgradcheck) for the smooth ones. Inputs stay at least ~1e-3 away
// from kinks and poles so finite differences are valid (gradcheck's eps is 1e-6).
// Elementwise, reductions and linear algebra live here; movement and index ops in
// gradcheck-movement.property.test.ts.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import {
  awayFrom, awayFromHalves, awayFromZero, broadcastTensorsArb, distinctBroadcastTensorsArb, distinctTensorArb, leaf,
  positive, real, shapeArb, shapeWithDimArb, tensorArb, valuesArb, type TensorSpec,
} from '../helpers/arbitraries.js';

// Fixed runs and seed: the suite is deterministic and fast on a shared 2-core machine.
const SEED = 20240607;
const RUNS = 40;
const GG_RUNS = 15;

type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

function prop<T>(name: string, arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns = RUNS): void {
  test(name, () => {
    fc.assert(fc.property(arb, (v) => { body(v); }), { numRuns, seed: SEED });
  });
}
/** gradcheck raises with both Jacobians on failure; the expect makes a `false` fail too. */
const gc = (fn: Fn, ...inputs: Tensor[]): void => void expect(tg.gradcheck(fn, inputs)).toBe(true);
const ggc = (fn: Fn, ...inputs: Tensor[]): void => void expect(tg.gradgradcheck(fn, inputs)).toBe(true);

/** Register gradcheck (and gradgradcheck when `gg`) properties for a one-tensor function. */
function unaryProps(name: string, arb: fc.Arbitrary<TensorSpec>, fn: (x: Tensor) => Tensor | readonly Tensor[], gg = false): void {
  prop(name, arb, (s) => gc(fn, leaf(s)));
  if (gg) prop(`${name} (gradgrad)`, arb, (s) => ggc(fn, leaf(s)), GG_RUNS);
}
function binaryProps(name: string, arb: fc.Arbitrary<[TensorSpec, TensorSpec]>, fn: (a: Tensor, b: Tensor) => Tensor, gg = false): void {
  prop(name, arb, ([a, b]) => gc(fn, leaf(a), leaf(b)));
  if (gg) prop(`${name} (gradgrad)`, arb, ([a, b]) => ggc(fn, leaf(a), leaf(b)), GG_RUNS);
}

const anyShape = shapeArb();
const smallShape = shapeArb({ maxDim: 2 });

describe('unary', () => {
  const cases: [string, (x: Tensor) => Tensor, fc.Arbitrary<number>, boolean][] = [
    ['neg', (x) => tg.neg(x), real(), false],
    ['abs', (x) => x.abs(), awayFromZero(), false],
    ['sign', (x) => x.sign(), awayFromZero(), false],
    ['exp', (x) => x.exp(), real(), true],
    ['expm1', (x) => tg.expm1(x), real(), true],
    ['log', (x) => x.log(), positive(), true],
    ['log1p', (x) => x.log1p(), real(-0.8, 2), true],
    ['sqrt', (x) => tg.sqrt(x), positive(), true],
    ['rsqrt', (x) => x.rsqrt(), positive(), true],
    ['square', (x) => x.square(), real(), true],
    ['sin', (x) => x.sin(), real(-3, 3), true],
    ['cos', (x) => tg.cos(x), real(-3, 3), true],
    ['tanh', (x) => x.tanh(), real(-3, 3), true],
    ['sigmoid', (x) => tg.sigmoid(x), real(-4, 4), true],
    // relu's gradgrad exercises thresholdBackward's own backward (the same mask on gradOutput).
    ['relu', (x) => x.relu(), awayFromZero(), true],
    ['reciprocal', (x) => x.reciprocal(), awayFromZero(0.3), true],
    ['floor', (x) => x.floor(), awayFromHalves(), false],
    ['ceil', (x) => tg.ceil(x), awayFromHalves(), false],
    ['round', (x) => x.round(), awayFromHalves(), false],
    ['clamp(min, max)', (x) => x.clamp(-0.5, 0.7), awayFrom([-0.5, 0.7]), false],
    ['clamp(min)', (x) => tg.clamp(x, -0.3), awayFrom([-0.3]), false],
    ['clamp(null, max)', (x) => x.clamp(null, 0.4), awayFrom([0.4]), false],
  ];
  for (const [name, fn, dom, gg] of cases) unaryProps(name, tensorArb(gg ? smallShape : anyShape, dom), fn, gg);
});

describe('binary with broadcasting', () => {
  const r = real();
  binaryProps('add', broadcastTensorsArb(r), (a, b) => a.add(b));
  binaryProps('add alpha', broadcastTensorsArb(r), (a, b) => tg.add(a, b, { alpha: -1.5 }));
  binaryProps('sub', broadcastTensorsArb(r), (a, b) => a.sub(b));
  binaryProps('sub alpha', broadcastTensorsArb(r), (a, b) => a.sub(b, { alpha: 2 }));
  binaryProps('mul', broadcastTensorsArb(r), (a, b) => tg.mul(a, b), true);
  binaryProps('div', broadcastTensorsArb(r, awayFromZero(0.3)), (a, b) => a.div(b), true);
  binaryProps('pow', broadcastTensorsArb(positive(0.3, 2), real(-2, 2)), (a, b) => tg.pow(a, b), true);
  binaryProps('maximum', distinctBroadcastTensorsArb(), (a, b) => a.maximum(b));
  binaryProps('minimum', distinctBroadcastTensorsArb(), (a, b) => tg.minimum(a, b));
  binaryProps('max(other)', distinctBroadcastTensorsArb(), (a, b) => a.max(b));
  // atan2 is smooth away from the origin and its branch cut (y = 0, x < 0).
  binaryProps('atan2', broadcastTensorsArb(awayFromZero(0.2), real()), (y, x) => y.atan2(x), true);
});

describe('scalar operands (both sides)', () => {
  const scalarCases: [string, (x: Tensor) => Tensor, fc.Arbitrary<number>, boolean][] = [
    ['tg.add(2, x)', (x) => tg.add(2, x), real(), false],
    ['tg.add(x, 2.5)', (x) => tg.add(x, 2.5), real(), false],
    ['tg.sub(2, x)', (x) => tg.sub(2, x), real(), false],
    ['tg.sub(x, 2)', (x) => tg.sub(x, 2), real(), false],
    ['x.rsub(3)', (x) => x.rsub(3), real(), false],
    ['tg.mul(2.5, x)', (x) => tg.mul(2.5, x), real(), false],
    ['tg.div(2, x)', (x) => tg.div(2, x), awayFromZero(0.3), true],
    ['tg.div(x, 4)', (x) => tg.div(x, 4), real(), false],
    ['x.rdiv(3)', (x) => x.rdiv(3), awayFromZero(0.3), false],
    ['tg.pow(2, x)', (x) => tg.pow(2, x), real(), true],
    ['x.rpow(0.5)', (x) => x.rpow(0.5), real(), false],
    ['tg.pow(x, 2)', (x) => tg.pow(x, 2), real(), true],
    ['x.pow(3) (negative bases)', (x) => x.pow(3), real(), true],
    ['x.pow(0.5)', (x) => x.pow(0.5), positive(), true],
    ['x.pow(-1.5)', (x) => x.pow(-1.5), positive(), false],
    ['x.pow(0)', (x) => x.pow(0), real(), false],
  ];
  for (const [name, fn, dom, gg] of scalarCases) unaryProps(name, tensorArb(gg ? smallShape : anyShape, dom), fn, gg);
});

describe('where / maskedFill', () => {
  // cond, a and b broadcast together; cond takes its shape from the pair (a random subset of it).
  const triple = broadcastTensorsArb(real()).chain(([a, b]) => {
    const out = tg.broadcastShapes(a.shape, b.shape);
    return fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: 27, maxLength: 27 }))
      .map(([drop, bits]) => {
        const shape = out.slice(drop);
        const n = shape.reduce((p, d) => p * d, 1);
        return { a, b, cond: tg.tensor(bits.slice(0, n), { shape }) };
      });
  });
  prop('where(cond, a, b)', triple, ({ a, b, cond }) => gc((x, y) => tg.where(cond, x, y), leaf(a), leaf(b)));
  prop('where (gradgrad)', triple, ({ a, b, cond }) => ggc((x, y) => tg.where(cond, x.mul(y), y), leaf(a), leaf(b)), GG_RUNS);
  prop('where(cond, x, 0) and x.where(cond, 1.5)', triple, ({ a, cond }) => {
    gc((x) => tg.where(cond, x, 0), leaf(a));
    gc((x) => x.where(cond, 1.5), leaf(a));
  });
  prop('maskedFill', triple, ({ a, b, cond }) => {
    // the mask must broadcast to x's shape: use b's shape broadcast with cond's for x
    const shape = tg.broadcastShapes(a.shape, tg.broadcastShapes(b.shape, cond.shape));
    const x = leaf(a).detach().expand(shape).contiguous().requiresGrad_(true);
    gc((t) => t.maskedFill(cond, -2), x);
    gc((t) => tg.maskedFill(t, cond, 3.5), x);
  });
});

describe('reductions', () => {
  const withDims = shapeWithDimArb({ minRank: 1 }).chain(({ shape, dim }) =>
    fc.tuple(valuesArb(shape.reduce((p, d) => p * d, 1), real()), fc.boolean()).map(([data, keepdim]) => ({ s: { shape, data }, dim, keepdim })));
  const distinctWithDims = shapeWithDimArb().chain(({ shape, dim }) =>
    fc.tuple(distinctTensorArb(fc.constant(shape)), fc.boolean()).map(([s, keepdim]) => ({ s, dim, keepdim })));
  // a subset of dims (possibly empty: PyTorch 1.x reduces everything for dim=[])
  const dimList = shapeArb({ minRank: 1 }).chain((shape) =>
    fc.tuple(fc.subarray(shape.map((_, i) => i - (i % 2) * shape.length)), fc.boolean(), valuesArb(shape.reduce((p, d) => p * d, 1), real()))
      .map(([dims, keepdim, data]) => ({ s: { shape, data }, dims, keepdim })));

  unaryProps('sum()', tensorArb(anyShape), (x) => x.sum());
  prop('sum(dim, keepdim)', withDims, ({ s, dim, keepdim }) => gc((x) => x.sum(dim, keepdim), leaf(s)));
  prop('sum(dims[], keepdim)', dimList, ({ s, dims, keepdim }) => gc((x) => tg.sum(x, dims, keepdim), leaf(s)));
  unaryProps('mean()', tensorArb(anyShape), (x) => x.mean(), true);
  prop('mean(dim, keepdim)', withDims, ({ s, dim, keepdim }) => gc((x) => x.mean(dim, keepdim), leaf(s)));
  prop('mean(dims[], keepdim)', dimList, ({ s, dims, keepdim }) => gc((x) => tg.mean(x, dims, keepdim), leaf(s)));
  unaryProps('prod()', tensorArb(anyShape), (x) => x.prod(), true);
  prop('prod(dim, keepdim)', withDims, ({ s, dim, keepdim }) => gc((x) => x.prod(dim, keepdim), leaf(s)));
  // prod with exact zeros takes the product-of-others path (PyTorch's prod_backward)
  const withZeros = tensorArb(shapeArb({ minRank: 1 }), fc.oneof(real(), fc.constant(0)));
  unaryProps('prod() with zeros', withZeros, (x) => x.prod(), true);
  prop('prod(dim) with zeros', withZeros.chain((s) => fc.integer({ min: 0, max: s.shape.length - 1 }).map((d) => ({ s, d }))),
    ({ s, d }) => gc((x) => x.prod(d, true), leaf(s)));

  unaryProps('max()', distinctTensorArb(anyShape), (x) => x.max());
  unaryProps('min()', distinctTensorArb(anyShape), (x) => tg.min(x));
  prop('max(dim, keepdim) values', distinctWithDims, ({ s, dim, keepdim }) => gc((x) => x.max(dim, keepdim).values, leaf(s)));
  prop('min(dim, keepdim) values', distinctWithDims, ({ s, dim, keepdim }) => gc((x) => tg.min(x, dim, keepdim)[0], leaf(s)));
  prop('amax(dim, keepdim)', distinctWithDims, ({ s, dim, keepdim }) => gc((x) => x.amax(dim, keepdim), leaf(s)));
  prop('amin(dim, keepdim)', distinctWithDims, ({ s, dim, keepdim }) => gc((x) => tg.amin(x, dim, keepdim), leaf(s)));
  unaryProps('amax()', distinctTensorArb(anyShape), (x) => x.amax());
  // ties split the gradient evenly: x.amax() on constant rows has subgradient 1/n each
  test('amax ties share the gradient (PyTorch)', () => {
    const x = tg.tensor([[1, 3, 3], [2, 2, 2]], { dtype: 'float64', requiresGrad: true });
    x.amax(1).sum().backward();
    expect(x.grad!.toArray()).toEqual([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]);
  });

  // var/std over all dims or a dim, corrections 0, 1, 2; skip N <= correction (inf/nan by design)
  const varCase = distinctWithDims.chain((c) =>
    fc.tuple(fc.constantFrom(0, 1, 2), fc.boolean()).map(([correction, full]) => ({ ...c, correction, full })));
  const reducedN = (c: { s: TensorSpec; dim: number; full: boolean }) =>
    c.full ? c.s.data.length : (c.s.shape[c.dim < 0 ? c.dim + c.s.shape.length : c.dim] ?? 1);
  for (const [name, op] of [['var', 'var'], ['std', 'std']] as const) {
    prop(`${name}(dim, { correction, keepdim })`, varCase, (c) => {
      fc.pre(reducedN(c) > c.correction && reducedN(c) >= 2);
      const fn = (x: Tensor) => (c.full ? x[op](null, { correction: c.correction }) : x[op](c.dim, { correction: c.correction, keepdim: c.keepdim }));
      gc(fn, leaf(c.s));
    });
    prop(`${name} (gradgrad)`, varCase, (c) => {
      fc.pre(reducedN(c) > c.correction && reducedN(c) >= 2 && c.s.data.length <= 8);
      ggc((x) => (c.full ? x[op]() : x[op](c.dim, { correction: c.correction, keepdim: c.keepdim })), leaf(c.s));
    }, GG_RUNS);
  }

  prop('logsumexp(dim, keepdim)', withDims, ({ s, dim, keepdim }) => gc((x) => x.logsumexp(dim, keepdim), leaf(s)));
  prop('logsumexp(dims[])', dimList, ({ s, dims, keepdim }) => { fc.pre(dims.length > 0); gc((x) => tg.logsumexp(x, dims, keepdim), leaf(s)); });
  prop('logsumexp (gradgrad)', withDims, ({ s, dim, keepdim }) => ggc((x) => x.logsumexp(dim, keepdim), leaf(s)), GG_RUNS);

  // |x| distinct and away from 0 (distinct values are never opposite: see distinctValuesArb)
  for (const p of [1, 2, 3, Infinity, -Infinity, 'fro'] as const) {
    prop(`norm(p=${String(p)})`, distinctWithDims, ({ s, dim, keepdim }) => {
      gc((x) => x.norm(p), leaf(s));
      if (s.shape.length > 0) gc((x) => tg.norm(x, p, dim, keepdim), leaf(s));
    });
  }
  for (const p of [2, 3]) {
    prop(`norm(p=${p}) (gradgrad)`, distinctWithDims, ({ s, dim, keepdim }) => ggc((x) => x.norm(p, dim, keepdim), leaf(s)), GG_RUNS);
  }
  prop('norm(p=2) at zero has zero grad (PyTorch norm_backward)', shapeArb({ minRank: 1 }), (shape) => {
    const x = tg.zeros(shape, { dtype: 'float64', requiresGrad: true });
    x.norm().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(new Array(x.numel()).fill(0));
  }, 5);

  for (const [name, op] of [['softmax', 'softmax'], ['logSoftmax', 'logSoftmax']] as const) {
    prop(`${name}(dim)`, withDims, ({ s, dim }) => gc((x) => x[op](dim), leaf(s)));
    prop(`${name} (gradgrad)`, withDims, ({ s, dim }) => ggc((x) => tg[op](x, dim), leaf(s)), GG_RUNS);
  }
});

describe('linear algebra', () => {
  // matmul over every rank combination, with broadcast batch dims of size 1 or missing
  const dim = fc.integer({ min: 1, max: 3 });
  const matmulCase = fc.record({
    ra: fc.integer({ min: 1, max: 3 }), rb: fc.integer({ min: 1, max: 3 }),
    m: dim, k: dim, n: dim, batch: fc.integer({ min: 1, max: 2 }), oneA: fc.boolean(), oneB: fc.boolean(),
  }).chain(({ ra, rb, m, k, n, batch, oneA, oneB }) => {
    const sa = ra === 1 ? [k] : ra === 2 ? [m, k] : [oneA ? 1 : batch, m, k];
    const sb = rb === 1 ? [k] : rb === 2 ? [k, n] : [oneB ? 1 : batch, k, n];
    return fc.tuple(tensorArb(fc.constant(sa)), tensorArb(fc.constant(sb)));
  });
  binaryProps('matmul (all rank combos, broadcast batch)', matmulCase, (a, b) => a.matmul(b));
  prop('matmul (gradgrad)', matmulCase, ([a, b]) => {
    fc.pre(a.data.length + b.data.length <= 14);
    ggc((x, y) => tg.matmul(x, y), leaf(a), leaf(b));
  }, GG_RUNS);
  const mat = (r: number, c: number) => tensorArb(fc.constant([r, c]));
  const mmCase = fc.tuple(dim, dim, dim).chain(([m, k, n]) => fc.tuple(mat(m, k), mat(k, n)));
  binaryProps('mm', mmCase, (a, b) => a.mm(b));
  const bmmCase = fc.tuple(dim, dim, dim, fc.integer({ min: 1, max: 2 }))
    .chain(([m, k, n, b]) => fc.tuple(tensorArb(fc.constant([b, m, k])), tensorArb(fc.constant([b, k, n]))));
  binaryProps('bmm', bmmCase, (a, b) => tg.bmm(a, b));
  const mvCase = fc.tuple(dim, dim).chain(([m, k]) => fc.tuple(mat(m, k), tensorArb(fc.constant([k]))));
  binaryProps('mv', mvCase, (a, v) => a.mv(v));
  const vecPair = dim.chain((k) => fc.tuple(tensorArb(fc.constant([k])), tensorArb(fc.constant([k]))));
  binaryProps('dot', vecPair, (a, b) => a.dot(b), true);
  const outerCase = fc.tuple(dim, dim).chain(([m, n]) => fc.tuple(tensorArb(fc.constant([m])), tensorArb(fc.constant([n]))));
  binaryProps('outer', outerCase, (a, b) => tg.outer(a, b), true);
});

describe('dtype casts', () => {
  // float32 rounding (~6e-8 relative) is far below tolerance with eps 1e-2 on linear maps
  prop('to(float32) and back', tensorArb(anyShape), (s) => {
    expect(tg.gradcheck((x) => x.to('float32').mul(3).to('float64'), [leaf(s)], { eps: 1e-2 })).toBe(true);
    expect(tg.gradcheck((x) => x.float().add(1).double().mul(x), [leaf(s)], { eps: 1e-2, atol: 1e-4 })).toBe(true);
  });
  prop('to(float64) on float64 is identity', tensorArb(anyShape), (s) => gc((x) => x.to('float64').mul(2), leaf(s)));
  test('the gradient through a cast has the leaf dtype', () => {
    const x = tg.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    x.float().mul(2).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    const y = tg.tensor([1, 2], { requiresGrad: true });
    y.double().pow(2).sum().backward();
    expect(y.grad!.dtype).toBe('float32');
    expect(y.grad!.toArray()).toEqual([2, 4]);
  });
});

describe('gradcheck itself', () => {
  // A check that cannot fail proves nothing: a hook that scales the gradient must be caught.
  prop('detects a wrong gradient', tensorArb(shapeArb(), awayFromZero()), (s) => {
    const wrong = (x: Tensor) => {
      const y = x.mul(2);
      y.registerHook((g) => g.mul(3));
      return y;
    };
    expect(tg.gradcheck(wrong, [leaf(s)], { raiseException: false })).toBe(false);
    expect(() => tg.gradcheck(wrong, [leaf(s)])).toThrow(/Jacobian mismatch for output 0 with respect to input 0/);
  }, 5);
  test('detects a backward that ignores gradOutput', () => {
    const x = tg.tensor([0.5, 1.5], { dtype: 'float64', requiresGrad: true });
    // Jacobian right (one-hot gradOutputs pass through), but a zero gradOutput gives ones
    const ignoring = (t: Tensor) => {
      const y = t.mul(1);
      y.registerHook((g) => (g.eq(0).all().item() ? tg.onesLike(g) : g));
      return y;
    };
    expect(() => tg.gradcheck(ignoring, [x])).toThrow(/backward not multiplied by grad_output/);
  });
  test('needs float64 inputs', () => {
    expect(() => tg.gradcheck((x) => x.exp(), [tg.tensor([1], { requiresGrad: true })])).toThrow(/float64/);
  });
});
