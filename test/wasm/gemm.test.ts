// The WebAssembly GEMM against the plain TypeScript matmul: odd sizes, every transpose, batches
// (broadcast too), sparse strided views, the threshold, and the relaxed-SIMD (FMA) variant.
//
// Tolerance: the wasm kernel accumulates in float32 (like BLAS), the plain kernel in float64, so
// each element may differ by the float32 worst-case dot-product bound k·2^-23·Σ|a_ip·b_pj|.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { ModuleBuilder } from '../../src/tensor/backend/wasm/emit.js';
import { matmulF32 } from '../../src/tensor/backend/wasm/gemm.js';
import { emitGemm } from '../../src/tensor/backend/wasm/gemm-kernels.js';
import { createRuntimeForTest, setWasmEnabled, wasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';

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

/** Compare wasm's `a @ b` with the plain kernel's, within the float32 dot-product bound. */
function expectGemmClose(got: Float32Array, a: Tensor, b: Tensor): void {
  const want = plain(() => a.matmul(b).dataSync());
  const bound = plain(() => a.abs().matmul(b.abs()).dataSync());
  const k = a.shape[a.ndim - 1]!;
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = k * 2 ** -23 * bound[i]! + 1e-30;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) expect.fail(`element ${i}: ${got[i]} vs ${want[i]} (tol ${tol})`);
  }
}

const rt = () => {
  const r = wasmRuntime();
  if (!r) throw new Error('wasm runtime unavailable');
  return r;
};

describe('wasm gemm', () => {
  test('odd sizes 1..67 with every transpose combination', () => {
    tg.manualSeed(1);
    const sizes = [1, 2, 3, 5, 6, 7, 8, 9, 13, 17, 31, 64, 67];
    for (const [m, k, n] of sizes.map((m, i) => [m, sizes[(i + 3) % sizes.length]!, sizes[(i + 7) % sizes.length]!] as const)) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = ta ? tg.randn([k, m]).t() : tg.randn([m, k]);
          const b = tb ? tg.randn([n, k]).t() : tg.randn([k, n]);
          expectGemmClose(matmulF32(rt(), a, b, true)!, a, b);
        }
      }
    }
  });

  test('k spanning several k blocks, m spanning several row blocks', () => {
    tg.manualSeed(2);
    const a = tg.randn([250, 600]);
    const b = tg.randn([600, 45]);
    expectGemmClose(matmulF32(rt(), a, b, true)!, a, b);
    expectGemmClose(matmulF32(rt(), b.t(), a.t(), true)!, b.t(), a.t());
  });

  test('batched, broadcast batch (stride 0) and permuted batches', () => {
    tg.manualSeed(3);
    const a = tg.randn([3, 2, 9, 11]);
    const b = tg.randn([2, 11, 5]).unsqueeze(0).expand([3, 2, 11, 5]);
    expectGemmClose(matmulF32(rt(), a, b, true)!, a, b);
    const p = tg.randn([9, 4, 11]).permute(1, 0, 2); // batch stride is not the outermost
    const q = tg.randn([4, 5, 11]).transpose(1, 2);
    expectGemmClose(matmulF32(rt(), p, q, true)!, p, q);
  });

  test('sparse strided views are gathered first', () => {
    tg.manualSeed(4);
    const big = tg.randn([40, 90]);
    const a = big.slice(0, 3, 40, 4).slice(1, 0, 90, 5); // [10, 18], every 4th row and 5th column
    const b = tg.randn([18, 7]);
    expectGemmClose(matmulF32(rt(), a, b, true)!, a, b);
  });

  test('empty and zero-depth products', () => {
    expect(matmulF32(rt(), tg.zeros([0, 4]), tg.zeros([4, 3]), true)!.length).toBe(0);
    expect([...matmulF32(rt(), tg.zeros([2, 0]), tg.zeros([0, 3]), true)!]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test('routing: Tensor.matmul uses wasm above the threshold and matches the plain path', () => {
    tg.manualSeed(5);
    const a = tg.randn([33, 70]);
    const b = tg.randn([70, 20]);
    // Below GEMM_MIN_WORK the hook declines and the plain kernel runs: bit-identical results.
    const small = tg.randn([4, 5]);
    expect(matmulF32(rt(), small, small.t())).toBeNull();
    expect([...small.matmul(small.t()).dataSync()]).toEqual([...plain(() => small.matmul(small.t()).dataSync())]);
    expectGemmClose(a.matmul(b).dataSync() as Float32Array, a, b);
    // float64 never goes to wasm: exactly the plain result.
    const a64 = a.double();
    const b64 = b.double();
    expect([...a64.matmul(b64).dataSync()]).toEqual([...plain(() => a64.matmul(b64).dataSync())]);
  });

  test('gradients through the wasm matmul match the plain path', () => {
    tg.manualSeed(6);
    const run = () => {
      tg.manualSeed(7);
      const x = tg.randn([16, 40]);
      const w = tg.randn([24, 40], { requiresGrad: true });
      x.matmul(w.t()).relu().sum().backward();
      return w.grad!.dataSync();
    };
    const got = run();
    const want = plain(run);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[i]!)));
  });

  test('the other tile shapes the emitter offers (6×8, unrolled, other blocks) compute the same product', () => {
    for (const opts of [{ mr: 6, unroll: 4, mc: 120 }, { mr: 4, unroll: 3, mc: 64, kc: 100 }]) {
      const m = new ModuleBuilder({ initial: 1, maximum: 65536, shared: false });
      emitGemm(m, { fma: false, ...opts });
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
      const gemm = new WebAssembly.Instance(new WebAssembly.Module(m.bytes() as BufferSource), { env: { memory } }).exports['gemm'] as (...args: number[]) => void;
      tg.manualSeed(10);
      for (const [rows, depth, cols, ta, tb] of [[13, 300, 19, false, true], [61, 259, 67, true, false], [1, 1, 1, false, false], [12, 8, 16, true, true]] as const) {
        // Operands stay in their stored layout: transposed ones reach the packing with their strides.
        const aBase = ta ? tg.randn([depth, rows]) : tg.randn([rows, depth]);
        const bBase = tb ? tg.randn([cols, depth]) : tg.randn([depth, cols]);
        const [a, b] = [ta ? aBase.t() : aBase, tb ? bBase.t() : bBase];
        const [ars, acs] = ta ? [4, rows * 4] : [depth * 4, 4];
        const [bks, bns] = tb ? [4, depth * 4] : [cols * 4, 4];
        const heap = new Float32Array(memory.buffer);
        const [pa, pb, pc] = [4096, 4096 + rows * depth * 4 + 64, 4096 + (rows + cols) * depth * 4 + 128];
        heap.set(aBase.dataSync() as Float32Array, pa / 4);
        heap.set(bBase.dataSync() as Float32Array, pb / 4);
        const ldc = Math.ceil(cols / 8) * 8 * 4;
        const scratch = pc + Math.ceil(rows / opts.mr) * opts.mr * ldc + 64;
        gemm(pa, ars, acs, pb, bks, bns, pc, ldc, rows, cols, depth, scratch, scratch + 256 * 1024 * 4);
        const got = new Float32Array(rows * cols);
        for (let i = 0; i < rows; i++) got.set(heap.subarray(pc / 4 + (i * ldc) / 4, pc / 4 + (i * ldc) / 4 + cols), i * cols);
        expectGemmClose(got, a, b);
      }
    }
  });

  test('an unshared memory (browsers without cross-origin isolation) grows and stays correct', () => {
    const rt2 = createRuntimeForTest({ fma: false, shared: false })!;
    expect(rt2.shared).toBe(false);
    const before = rt2.memory.buffer.byteLength;
    tg.manualSeed(9);
    for (const n of [40, 300, 41]) {
      // 300x300 operands outgrow the initial 1 MiB, detaching the old ArrayBuffer.
      const a = tg.randn([n, n]);
      const b = tg.randn([n, n]);
      expectGemmClose(matmulF32(rt2, a, b, true)!, a, b);
    }
    expect(rt2.memory.buffer.byteLength).toBeGreaterThan(before);
  });

  test('the non-FMA and FMA runtimes agree (FMA checked in a child with relaxed SIMD on)', () => {
    tg.manualSeed(8);
    const noFma = createRuntimeForTest({ fma: false, shared: true })!;
    expect(noFma.fma).toBe(false);
    const a = tg.randn([20, 37]);
    const b = tg.randn([37, 19]);
    expectGemmClose(matmulF32(noFma, a, b, true)!, a, b);
    // Node 20 validates relaxed SIMD only behind a flag; run the FMA kernel there and compare.
    const runtimeUrl = new URL('../../src/tensor/backend/wasm/runtime.ts', import.meta.url).href;
    const gemmUrl = new URL('../../src/tensor/backend/wasm/gemm.ts', import.meta.url).href;
    const script = `
      const { createRuntimeForTest } = await import(${JSON.stringify(runtimeUrl)});
      const { matmulF32 } = await import(${JSON.stringify(gemmUrl)});
      const rt = createRuntimeForTest({ fma: true, shared: true });
      const view = (data, shape) => ({ storage: { data, device: 'cpu', version: 0 }, shape, strides: [shape[1], 1], offset: 0, dtype: 'float32' });
      const A = new Float32Array(${JSON.stringify([...a.dataSync()])});
      const B = new Float32Array(${JSON.stringify([...b.dataSync()])});
      const c = matmulF32(rt, view(A, [20, 37]), view(B, [37, 19]), true);
      console.log(JSON.stringify({ fma: rt.fma, c: [...c] }));
    `;
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TENSORGRAD_WASM: '1' } });
    const res = JSON.parse(out.trim().split('\n').pop()!) as { fma: boolean; c: number[] };
    expect(res.fma).toBe(true);
    expectGemmClose(Float32Array.from(res.c), a, b);
  });
});
