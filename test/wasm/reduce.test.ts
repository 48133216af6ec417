// WebAssembly reductions and the fused (log)softmax against the plain TypeScript path.
// Sums accumulate in float64 on both paths (different order), so float32 results agree to 1 ulp;
// max is exact; (log)softmax differs only through exp (< 1 ulp), tolerances at each test.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { reduceF32, softmaxF32 } from '../../src/tensor/backend/wasm/elementwise.js';
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

/** |got - want| <= rel·|want| + abs elementwise, NaN matching NaN and infinities exact. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs = 0): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= rel * Math.abs(w) + abs;
    if (!ok) expect.fail(`element ${i}: ${g} vs ${w}`);
  }
}

const ULP = 2 ** -23;

describe('wasm reductions', () => {
  test('sum over trailing dims (rows), all dims, and leading dims (columns)', () => {
    for (const [shape, seed] of [[[67, 61], 1], [[3, 5, 1001], 2], [[40_000], 3], [[2, 30_000], 4], [[9000, 3], 5]] as const) {
      tg.manualSeed(seed);
      const x = tg.randn([...shape]).mul(10);
      const rank = shape.length;
      const cases: number[][] = [[rank - 1], Array.from({ length: rank }, (_, i) => i), [0]];
      if (rank === 3) cases.push([1, 2], [0, 1]);
      for (const axes of cases) {
        const got = reduceF32(rt(), 'sum', x, axes, true);
        expect(got, `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`).not.toBeNull();
        expectClose(got!, plain(() => x.sum(axes, true).dataSync()), ULP, 1e-6);
      }
    }
  });

  test('max over trailing dims, with NaN and -Infinity rows', () => {
    tg.manualSeed(6);
    const data = tg.randn([50, 37]).dataSync().slice();
    data[37 * 3 + 5] = NaN;
    data.fill(-Infinity, 37 * 7, 37 * 8);
    data[37 * 9 + 36] = Infinity;
    const x = tg.tensor(data).reshape([50, 37]);
    expectClose(reduceF32(rt(), 'max', x, [1], true)!, plain(() => x.amax(1).dataSync()), 0);
    expectClose(reduceF32(rt(), 'max', x, [0, 1], true)!, [NaN], 0);
  });

  test('declines what it does not cover; the routed Tensor ops agree with the plain path', () => {
    const x = tg.randn([64, 64]);
    expect(reduceF32(rt(), 'max', x, [0], true)).toBeNull(); // max over leading dims
    expect(reduceF32(rt(), 'prod', x, [1], true)).toBeNull();
    expect(reduceF32(rt(), 'sum', x.t(), [1], true)).toBeNull();
    expect(reduceF32(rt(), 'sum', tg.randn([3, 4, 5]), [1], true)).toBeNull(); // a middle dim
    for (const f of [(t: Tensor) => t.sum(1), (t: Tensor) => t.sum(0), (t: Tensor) => t.mean(), (t: Tensor) => t.amax(1), (t: Tensor) => t.amax(0)]) {
      expectClose(f(x).dataSync(), plain(() => f(x).dataSync()), ULP, 1e-6);
    }
  });
});

describe('wasm fused softmax / logSoftmax', () => {
  // logSoftmax = (x - max) - log(sum): exp's < 1 ulp error moves log(sum) by ~1e-7 absolute.
  test.each([[[8, 1]], [[5, 3]], [[33, 7]], [[4, 1000]], [[100, 10]], [[2, 20_000]], [[6, 2, 9]]])('logSoftmax and softmax on %j', (shape) => {
    tg.manualSeed(shape.reduce((a, b) => a * b, 1));
    const x = tg.randn(shape).mul(4);
    const last = shape.length - 1;
    expectClose(softmaxF32(rt(), x, last, true, true)!, plain(() => x.logSoftmax(-1).dataSync()), 4 * ULP, 4e-7);
    expectClose(softmaxF32(rt(), x, last, false, true)!, plain(() => x.softmax(-1).dataSync()), 4 * ULP, 1e-12);
  });

  test('rows with infinities and NaN behave like the composite', () => {
    const rows = [
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [Infinity, 1, 2, 3, 4],
      [NaN, 1, 2, 3, 4],
      [-Infinity, 0, 1, -Infinity, 2],
      [1e30, -1e30, 0, 5, 5],
    ];
    const x = tg.tensor(rows);
    for (const log of [true, false]) {
      const want = plain(() => (log ? x.logSoftmax(1) : x.softmax(1)).dataSync());
      expectClose(softmaxF32(rt(), x, 1, log, true)!, want, 4 * ULP, 4e-7);
    }
  });

  test('routing through Tensor.logSoftmax/softmax (forward and backward) matches the plain path', () => {
    const run = () => {
      tg.manualSeed(40);
      const x = tg.randn([300, 17], { requiresGrad: true });
      const w = tg.randn([300, 17]);
      const y = x.logSoftmax(1).mul(w).sum().add(x.softmax(-1).mul(w).sum());
      y.backward();
      return [x.logSoftmax(1).dataSync(), x.grad!.dataSync()] as const;
    };
    const [out, grad] = run();
    const [outP, gradP] = plain(run);
    expectClose(out, outP, 4 * ULP, 4e-7);
    expectClose(grad, gradP, 1e-5, 1e-6);
    // Other dims, float64 and tiny inputs keep the composite.
    const x = tg.randn([40, 60]);
    expect(softmaxF32(rt(), x, 0, true, true)).toBeNull();
    expect(softmaxF32(rt(), x.t(), 1, true, true)).toBeNull();
    const d = x.double();
    expect([...d.logSoftmax(0).dataSync()]).toEqual([...plain(() => d.logSoftmax(0).dataSync())]);
  });
});
