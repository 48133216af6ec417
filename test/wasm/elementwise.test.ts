// WebAssembly elementwise kernels against the plain TypeScript kernels. IEEE single operations
// (neg, abs, sqrt, square, reciprocal, relu, add, sub, mul, div) must agree bit for bit; exp and
// sigmoid are polynomial approximations with the error bounds stated at their tests.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { binaryF32, unaryF32 } from '../../src/tensor/backend/wasm/elementwise.js';
import { WASM_BINARY, WASM_UNARY } from '../../src/tensor/backend/wasm/elementwise-kernels.js';
import { setWasmEnabled, wasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';

// Turn the fast path on even where TENSORGRAD_WASM=0 turned it off for the rest of the suite.
beforeAll(() => setWasmEnabled(true));
afterEach(() => setWasmEnabled(true));

function plain<T>(fn: () => T): T {
  setWasmEnabled(false);
  try {
    return fn();
  } finally {
    setWasmEnabled(true);
  }
}

const rt = () => wasmRuntime()!;
const f32 = (xs: readonly number[]) => tg.tensor(Float32Array.from(xs));
const SPECIAL = [0, -0, 1, -1, 0.5, 1e-40, -1e-40, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 88.5, -88.5, 1e-8, 7.25];

/** Bitwise equality, treating every NaN as equal (payloads may differ). */
function expectSameBits(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!ok) expect.fail(`element ${i}: ${got[i]} vs ${want[i]}`);
  }
}

/** Random float32 values over [-span, span] plus the special values, `n` in all. */
function sample(n: number, span: number, seed: number): Tensor {
  tg.manualSeed(seed);
  const r = tg.rand([n]).mul(2 * span).sub(span).dataSync();
  const out = Float32Array.from(r);
  out.set(SPECIAL.slice(0, Math.min(n, SPECIAL.length)));
  return tg.tensor(out);
}

describe('wasm unary kernels', () => {
  test.each(WASM_UNARY.filter((op) => op !== 'exp' && op !== 'sigmoid'))('%s is bit-identical to the plain kernel', (op) => {
    for (const n of [1, 3, 4, 5, 67, 40_000]) {
      const x = sample(n, 50, n);
      expectSameBits(unaryF32(rt(), op, x, true)!, plain(() => x[op]().dataSync()));
    }
  });

  // exp: Cody-Waite reduction + Cephes' degree-7 polynomial. A sweep over every 61st float32 in
  // [-104, 88.72] measured a max relative error of 8.1e-8 (0.97 ulp against the exact value);
  // subnormal results are within 0.66·2^-149. The test allows 1.2e-7 relative (1 ulp).
  test('exp: within 1.2e-7 relative of Math.exp over [-87, 88.7]; special values exact', () => {
    tg.manualSeed(9);
    const x = tg.rand([200_000]).mul(175.7).sub(87).dataSync();
    const y = unaryF32(rt(), 'exp', tg.tensor(x), true)!;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i]! - Math.exp(x[i]!)) / Math.exp(x[i]!));
    expect(worst).toBeLessThan(1.2e-7);
    const s = unaryF32(rt(), 'exp', f32([0, -0, NaN, Infinity, -Infinity, 89, 88.72, -104, -120, 1]), true)!;
    expectSameBits(s.subarray(0, 6), [1, 1, NaN, Infinity, 0, Infinity]);
    expect(Math.abs(s[6]! - Math.exp(Math.fround(88.72))) / Math.exp(Math.fround(88.72))).toBeLessThan(1.2e-7);
    expect(s[8]).toBe(0);
    expect(s[9]).toBe(Math.fround(Math.E));
  });

  test('exp: subnormal results are scaled correctly (within 2^-149 of Math.exp)', () => {
    const xs = Array.from({ length: 300 }, (_, i) => -87.4 - i * 0.055);
    const y = unaryF32(rt(), 'exp', f32(xs), true)!;
    xs.forEach((x, i) => expect(Math.abs(y[i]! - Math.exp(Math.fround(x)))).toBeLessThanOrEqual(2 ** -149));
  });

  // sigmoid = 1/(1+e) or e/(1+e) with e = exp(-|x|): measured max 1.73e-7 relative (2.3 ulp).
  test('sigmoid: within 2.5e-7 relative of the float64 formula, saturating at ±Infinity', () => {
    tg.manualSeed(10);
    const x = tg.rand([100_000]).mul(60).sub(30).dataSync();
    const y = unaryF32(rt(), 'sigmoid', tg.tensor(x), true)!;
    for (let i = 0; i < x.length; i++) {
      const want = 1 / (1 + Math.exp(-x[i]!));
      if (Math.abs(y[i]! - want) > 2.5e-7 * want) expect.fail(`sigmoid(${x[i]}) = ${y[i]}, want ${want}`);
    }
    expectSameBits(unaryF32(rt(), 'sigmoid', f32([Infinity, -Infinity, NaN, 0]), true)!, [1, 0, NaN, 0.5]);
  });

  test('fallbacks: small, strided, float64 and unsupported ops run the plain path', () => {
    const x = tg.randn([64, 64]);
    expect(unaryF32(rt(), 'exp', tg.randn([10]))).toBeNull(); // below ELEMENTWISE_MIN
    expect(unaryF32(rt(), 'exp', x.t(), true)).toBeNull(); // not contiguous
    expect(unaryF32(rt(), 'tanh', x, true)).toBeNull(); // no kernel
    expectSameBits(x.t().relu().dataSync(), plain(() => x.t().relu().dataSync()));
    const d = x.double();
    expectSameBits(d.exp().dataSync(), plain(() => d.exp().dataSync()));
  });
});

describe('wasm binary kernels', () => {
  const shapes: [number[], number[]][] = [
    [[5000], [5000]], // vv
    [[3, 1337], []], // scalar b
    [[], [2, 2049]], // scalar a (swapped)
    [[67, 61], [61]], // row vector b
    [[61], [67, 61]], // row vector a (swapped)
    [[67, 61], [67, 1]], // column vector b
    [[67, 1], [67, 61]], // column vector a (swapped)
    [[3, 700, 9], [1, 1, 9]], // row vector after merging dims
    [[9000, 3], [9000, 1]], // column with a short row (the last vector spills into the next row)
  ];
  test.each(WASM_BINARY)('%s is bit-identical to the plain kernel for every pattern', (op) => {
    shapes.forEach(([sa, sb], i) => {
      tg.manualSeed(20 + i);
      const a = tg.randn(sa).mul(3);
      const b = tg.randn(sb).add(op === 'div' ? 0.5 : 0);
      const shape = tg.broadcastShapes(sa, sb);
      const [ea, eb] = [a.expand(shape), b.expand(shape)];
      const got = binaryF32(rt(), op, ea, eb, true);
      expect(got, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`).not.toBeNull();
      expectSameBits(got!, plain(() => a[op](b).dataSync()));
      expectSameBits(a[op](b).dataSync(), plain(() => a[op](b).dataSync()));
    });
  });

  test('special values propagate as IEEE says', () => {
    const a = f32(SPECIAL.flatMap((v) => SPECIAL.map(() => v)));
    const b = f32(SPECIAL.flatMap(() => SPECIAL));
    for (const op of WASM_BINARY) expectSameBits(binaryF32(rt(), op, a, b, true)!, plain(() => a[op](b).dataSync()));
  });

  test('uncovered layouts decline and the plain path runs', () => {
    tg.manualSeed(30);
    const a = tg.randn([20, 30, 40]);
    const b = tg.randn([20, 1, 40]).expand([20, 30, 40]); // a broadcast middle dim
    expect(binaryF32(rt(), 'add', a, b, true)).toBeNull();
    expect(binaryF32(rt(), 'add', a.transpose(0, 2), a.transpose(0, 2), true)).toBeNull();
    expect(binaryF32(rt(), 'pow', a, a, true)).toBeNull();
    expectSameBits(a.add(b).dataSync(), plain(() => a.add(b).dataSync()));
  });

  test('in-place updates (SGD-style) agree with the plain path', () => {
    const step = () => {
      tg.manualSeed(31);
      const p = tg.randn([300, 70]);
      const buf = tg.randn([300, 70]);
      const g = tg.randn([300, 70]);
      tg.noGrad(() => {
        buf.mul_(0.9).add_(g);
        p.add_(buf, { alpha: -0.01 });
      });
      return p.dataSync();
    };
    expectSameBits(step(), plain(step));
  });
});

describe('thresholdBackward (relu backward)', () => {
  test('the SIMD kernel is bit-identical to the composite where(x <= t, 0, g), NaN and -0 included', async () => {
    const { thresholdBackwardF32 } = await import('../../src/tensor/backend/wasm/elementwise.js');
    tg.manualSeed(11);
    const n = 16384 * 2 + 13;
    const xs = Array.from(tg.randn([n]).dataSync());
    xs.splice(0, SPECIAL.length, ...SPECIAL);
    const x = f32(xs);
    const g = tg.randn([n]);
    for (const t of [0, 0.5, -1]) {
      const got = thresholdBackwardF32(rt(), g, x, t, true)!;
      const want = plain(() => tg.where(x.le(t), 0, g)).dataSync();
      expectSameBits(got, want);
    }
  });

  test('relu backward gives the same gradient with and without wasm (float32 and float64)', () => {
    tg.manualSeed(12);
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tg.randn([64, 80], { dtype }).requiresGrad_();
      const g = tg.randn([64, 80], { dtype });
      x.relu().backward(g);
      const fast = Array.from(x.grad!.dataSync());
      x.grad = null;
      plain(() => x.relu().backward(g));
      expectSameBits(fast, x.grad!.dataSync());
      const want = Array.from(x.dataSync(), (v, i) => (v > 0 ? g.dataSync()[i]! : 0));
      expectSameBits(fast, Float64Array.from(want));
    }
  });
});
