// Long-lived float32 buffers (parameters, optimizer state) can live inside the wasm memory so the
// fused kernels and the GEMM use them in place. These tests check the heap that hands out that
// memory, that in-place kernels never write past an array's end, that results are bit-identical
// to the copying path, and that optimizers move their parameters in without changing a value.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { adamStepF32 } from '../../src/tensor/backend/wasm/adam.js';
import { sgdStepF32 } from '../../src/tensor/backend/wasm/sgd.js';
import { allocResidentF32, createRuntimeForTest, heapOf, residentAddress, setWasmEnabled, wasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';

beforeAll(() => setWasmEnabled(true));
afterEach(() => setWasmEnabled(true));

const rand = (n: number, seed: number) => {
  tg.manualSeed(seed);
  return Float32Array.from(tg.randn([n]).dataSync());
};
/** A resident copy of `a`, or fail the test (the suite runs where memory is shared). */
function resident(a: Float32Array): Float32Array {
  const r = allocResidentF32(a.length);
  expect(r).not.toBeNull();
  r!.set(a);
  return r!;
}

describe('heap', () => {
  test('first fit, 64-byte alignment, coalescing: released blocks come back whole', () => {
    const rt = createRuntimeForTest({ fma: false, shared: true })!;
    const heap = heapOf(rt);
    const free0 = heap.freeBytes();
    const a = heap.alloc(100);
    const b = heap.alloc(5000);
    const c = heap.alloc(64);
    for (const at of [a, b, c]) expect(at % 64).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 128);
    expect(c).toBeGreaterThanOrEqual(b + 5056);
    heap.release(b, 5000);
    expect(heap.alloc(4000)).toBe(b); // first fit reuses the hole
    heap.release(b, 4000);
    heap.release(a, 100);
    heap.release(c, 64);
    expect(heap.freeBytes()).toBe(free0);
    // Growth: a block larger than the memory grows it and still comes back on release.
    const size = rt.memory.buffer.byteLength * 2;
    const big = heap.alloc(size);
    heap.release(big, size);
    expect(heap.freeBytes()).toBe(rt.memory.buffer.byteLength - 4096);
  });

  test('resident arrays are zero-filled, addressable and survive memory growth', () => {
    const rt = wasmRuntime()!;
    const a = allocResidentF32(1000)!;
    expect(Array.from(a.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    a[999] = 7;
    const at = residentAddress(rt, a)!;
    expect(at % 64).toBe(0);
    expect(residentAddress(rt, a.subarray(10))).toBe(at + 40);
    expect(residentAddress(rt, new Float32Array(4))).toBeNull();
    const grown = allocResidentF32(rt.memory.buffer.byteLength / 4 + 10)!; // forces growth
    expect(grown).not.toBeNull();
    expect(a[999]).toBe(7);
  });
});

describe('in-place optimizer kernels on resident arrays', () => {
  for (const n of [4, 7, 1001, 40000 + 3]) {
    test(`SGD and Adam, n=${n}: bit-identical to the copying path; neighbours untouched`, () => {
      const [p0, g0] = [rand(n, n), rand(n, n + 1)];
      // The parameter is a view in the middle of a larger resident block, with sentinels around it.
      const block = allocResidentF32(n + 16)!;
      block.fill(-123);
      const p = block.subarray(8, 8 + n);
      p.set(p0);
      const buf = resident(new Float32Array(n));
      const copyP = Float32Array.from(p0);
      const copyBuf = new Float32Array(n);
      for (let t = 0; t < 3; t++) {
        sgdStepF32(p, g0, buf, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, first: t === 0 });
        sgdStepF32(copyP, g0, copyBuf, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, first: t === 0 });
      }
      expect(Array.from(p)).toEqual(Array.from(copyP));
      expect(Array.from(buf)).toEqual(Array.from(copyBuf));
      expect(Array.from(block.subarray(0, 8))).toEqual(Array(8).fill(-123));
      expect(Array.from(block.subarray(8 + n))).toEqual(Array(8).fill(-123));

      const [m, v, vmax] = [resident(new Float32Array(n)), resident(new Float32Array(n)), resident(new Float32Array(n))];
      const [cm, cv, cvmax] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      const o = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, decoupledWeightDecay: true };
      for (let t = 1; t <= 3; t++) {
        adamStepF32(p, g0, m, v, { ...o, step: t, maxExpAvgSq: vmax });
        adamStepF32(copyP, g0, cm, cv, { ...o, step: t, maxExpAvgSq: cvmax });
      }
      expect(Array.from(p)).toEqual(Array.from(copyP));
      expect(Array.from(vmax)).toEqual(Array.from(cvmax));
      expect(Array.from(block.subarray(8 + n))).toEqual(Array(8).fill(-123));
    });
  }
});

describe('parameters and state in the wasm memory', () => {
  test('optimizers move float32 CPU parameters in (values, views and aliases unchanged) and keep state there', () => {
    const rt = wasmRuntime()!;
    tg.manualSeed(5);
    const lin = new tg.nn.Linear(40, 30);
    const before = Array.from(lin.weight.dataSync());
    const view = lin.weight.t();
    const alias = lin.weight.detach();
    const f64 = tg.randn([5], { dtype: 'float64' }).requiresGrad_();
    const opt = new tg.optim.SGD([...lin.parameters(), f64], { lr: 0.1, momentum: 0.9 });
    expect(residentAddress(rt, lin.weight.storage.data)).not.toBeNull();
    expect(residentAddress(rt, f64.storage.data)).toBeNull();
    expect(Array.from(lin.weight.dataSync())).toEqual(before);
    const x = tg.randn([8, 40]);
    lin.call(x).square().sum().add(f64.sum()).backward();
    opt.step();
    expect(Array.from(alias.dataSync())).toEqual(Array.from(lin.weight.dataSync()));
    expect(Array.from(view.t().dataSync())).toEqual(Array.from(lin.weight.dataSync()));
    const state = opt.state.get(lin.weight) as { momentumBuffer: tg.Tensor };
    expect(residentAddress(rt, state.momentumBuffer.storage.data)).not.toBeNull();
  });

  test('a model trained with resident parameters matches one trained with plain arrays, bit for bit', () => {
    const train = (resident: boolean) => {
      tg.manualSeed(9);
      const model = new tg.nn.Sequential(new tg.nn.Linear(30, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 5));
      const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
      if (!resident) {
        // Swap each parameter (and later the state) back to ordinary arrays before any step.
        for (const p of model.parameters()) (p.storage as { data: Float32Array }).data = Float32Array.from(p.storage.data as Float32Array);
      }
      const x = tg.randn([32, 30]);
      const y = tg.randint(0, 5, [32]);
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        tg.nn.functional.crossEntropy(model.call(x), y).backward();
        opt.step();
      }
      return model.parameters().map((p) => Array.from(p.dataSync()));
    };
    expect(train(true)).toEqual(train(false));
  });
});
