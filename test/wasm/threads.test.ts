// The worker-thread pool: results bit-identical to one thread, workers really used, argument
// checks, clean shutdown, and a process that exits on its own with the pool alive.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { setWasmEnabled, wasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';
import { getNumThreads, runParallel, setNumThreads, threadsReady, workerJobCount } from '../../src/tensor/backend/wasm/threads.js';

// Turn the fast path on even where TENSORGRAD_WASM=0 turned it off for the rest of the suite.
beforeAll(() => setWasmEnabled(true));
afterEach(() => setNumThreads(1));

function product(): Float32Array {
  tg.manualSeed(11);
  const a = tg.randn([301, 257]);
  const b = tg.randn([257, 150]).t().contiguous().t(); // column-major B: the transposing pack
  return a.matmul(b).dataSync() as Float32Array;
}

function plainProduct(): Float32Array {
  setNumThreads(1);
  const p = product();
  setNumThreads(2);
  return p;
}

describe('thread pool', () => {
  test('2 threads give bit-identical results to 1 and really use a worker', () => {
    const one = product();
    setNumThreads(2);
    expect(getNumThreads()).toBe(2);
    const before = workerJobCount();
    const two = product();
    expect(workerJobCount()).toBeGreaterThan(before);
    expect(two).toEqual(one);
    // batched products split each batch's rows
    tg.manualSeed(12);
    const a = tg.randn([3, 200, 180]);
    const b = tg.randn([180, 190]);
    const batched = a.matmul(b).dataSync();
    setNumThreads(1);
    expect(a.matmul(b).dataSync()).toEqual(batched);
  });

  test('wide products split columns (n > m): bit-identical to one thread, 2 and 3 threads, odd sizes', () => {
    tg.manualSeed(13);
    const cases = [
      [tg.randn([150, 257]), tg.randn([301, 257]).t()], // column-major B, as x @ w.t()
      [tg.randn([64, 784]), tg.randn([784, 515])],
      [tg.randn([2, 37, 129]), tg.randn([129, 413])],
    ] as const;
    const one = cases.map(([a, b]) => a.matmul(b).dataSync());
    for (const threads of [2, 3]) {
      setNumThreads(threads);
      const before = workerJobCount();
      cases.forEach(([a, b], i) => expect(a.matmul(b).dataSync()).toEqual(one[i]));
      expect(workerJobCount()).toBeGreaterThan(before);
    }
  });

  test('small products stay on the calling thread', () => {
    setNumThreads(2);
    const before = workerJobCount();
    tg.randn([32, 32]).matmul(tg.randn([32, 32]));
    expect(workerJobCount()).toBe(before);
  });

  test('resizing the pool and stopping it', () => {
    setNumThreads(3);
    const three = product();
    setNumThreads(2);
    expect(product()).toEqual(three);
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    expect(product()).toEqual(three);
  });

  test('a job that traps on a worker is reported, and the pool keeps working', () => {
    setNumThreads(2);
    const rt = wasmRuntime()!;
    product(); // starts the pool
    // un_relu over 16 floats at an address past the memory's end traps on the worker.
    expect(() => runParallel(rt, [{ fn: 'un_relu', args: [4096, 4096, 0] }, { fn: 'un_relu', args: [0xfffff000, 0xfffff000, 16] }])).toThrow(/worker thread failed while running un_relu/);
    expect(product()).toEqual(plainProduct());
  });

  test('threadsReady resolves at once when single-threaded, and after start-up with a pool', async () => {
    await threadsReady();
    setNumThreads(2);
    await threadsReady(); // Node starts its workers synchronously: the pool is up now
    const before = workerJobCount();
    expect(product()).toEqual(plainProduct());
    expect(workerJobCount()).toBeGreaterThan(before);
    expect(tg.threadsReady).toBe(threadsReady);
  });

  test('rejects non-positive or fractional counts', () => {
    expect(() => setNumThreads(0)).toThrow(/Expected positive number of threads, but got 0/);
    expect(() => setNumThreads(1.5)).toThrow(RangeError);
    expect(getNumThreads()).toBe(1);
  });

  test('a process using the pool exits by itself (workers are unref()ed)', () => {
    const index = new URL('../../src/index.ts', import.meta.url).href;
    const threads = new URL('../../src/tensor/backend/wasm/threads.ts', import.meta.url).href;
    const script = `
      const tg = await import(${JSON.stringify(index)});
      const { setNumThreads, workerJobCount } = await import(${JSON.stringify(threads)});
      setNumThreads(2);
      const c = tg.randn([400, 300]).matmul(tg.randn([300, 400]));
      console.log('done', c.shape.join('x'), workerJobCount() > 0);
    `;
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TENSORGRAD_WASM: '1' } });
    expect(out).toContain('done 400x400 true');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
