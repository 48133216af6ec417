/**
 * The thread-pool suite that runs inside headless Chromium (run.mjs bundles it with esbuild).
 * `?mode=` picks what to check:
 * - `isolated`: a crossOriginIsolated page; Web Workers split large matmuls bit-identically to one
 *   thread, then the same checks run again from inside a Web Worker (`mode=worker`);
 * - `plain`: a page served without COOP/COEP; setNumThreads(2) is accepted and stays single-threaded.
 * Results land in `globalThis.__results` (a worker posts them) as { name, ok, error, ms, note }.
 */
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { arenaOf, wasmRuntime, type WasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';
import { runParallel, setStallLimitForTest, threadsFor, workerJobCount } from '../../src/tensor/backend/wasm/threads.js';

interface Result {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
  note?: string;
}

/**
 * Every pool worker this context created, and whether tensorgrad terminated it: the leak check
 * runs here, in the page, because Playwright may keep listing a worker that was terminated while
 * it was still starting (the resize test does that on purpose).
 */
const poolWorkers = new Map<Worker, boolean>();
const NativeWorker = globalThis.Worker as typeof Worker | undefined;
if (NativeWorker) {
  globalThis.Worker = class extends NativeWorker {
    constructor(url: string | URL, opts?: WorkerOptions) {
      super(url, opts);
      if (opts?.name?.startsWith('tensorgrad worker')) poolWorkers.set(this, false);
    }
    override terminate(): void {
      if (poolWorkers.has(this)) poolWorkers.set(this, true);
      super.terminate();
    }
  } as typeof Worker;
}

const mode = new URLSearchParams(location.search).get('mode') ?? 'isolated';
const inWorker = typeof document === 'undefined';
const tests: [string, () => Promise<string | void>][] = [];
const test = (name: string, fn: () => Promise<string | void>) => tests.push([name, fn]);

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

function runtime(): WasmRuntime {
  const rt = wasmRuntime();
  assert(rt !== null, 'the wasm runtime is missing');
  return rt!;
}

/** The products under test: square, wide (split by columns), batched, column-major B. */
function operands(): [Tensor, Tensor][] {
  tg.manualSeed(7);
  return [
    [tg.randn([512, 512]), tg.randn([512, 512])],
    [tg.randn([64, 784]), tg.randn([784, 512])],
    [tg.randn([3, 200, 180]), tg.randn([180, 190])],
    [tg.randn([150, 257]), tg.randn([301, 257]).t()],
  ];
}

const products = (cases: [Tensor, Tensor][]) => cases.map(([a, b]) => a.matmul(b).dataSync() as Float32Array);

/** Bit-for-bit equality (so -0 and NaN payloads count too). */
function assertSameBits(got: Float32Array[], want: Float32Array[]): void {
  got.forEach((g, i) => {
    const [x, y] = [new Uint32Array(g.buffer, g.byteOffset, g.length), new Uint32Array(want[i]!.buffer, want[i]!.byteOffset, want[i]!.length)];
    assert(x.length === y.length, `product ${i}: length ${x.length} != ${y.length}`);
    const bad = x.findIndex((v, k) => v !== y[k]);
    assert(bad < 0, `product ${i}: element ${bad} differs from one thread (${g[bad]} != ${want[i]![bad]})`);
  });
}

/** Products on `threads` threads (pool up), checked against `want` and for worker jobs. */
async function splitMatches(threads: number, cases: [Tensor, Tensor][], want: Float32Array[]): Promise<string> {
  tg.setNumThreads(threads);
  await withTimeout(tg.threadsReady(), 20_000, 'threadsReady()');
  assert(threadsFor(runtime()) === threads, `threadsFor = ${threadsFor(runtime())}, wanted ${threads}`);
  const before = workerJobCount();
  assertSameBits(products(cases), want);
  const jobs = workerJobCount() - before;
  assert(jobs >= cases.length * (threads - 1), `only ${jobs} worker jobs`);
  return `${jobs} worker jobs`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms))]);
}

/** Median wall time of `reps` runs of `fn` (after one warm-up run). */
function medianMs(fn: () => void, reps = 5): number {
  fn();
  const ms = Array.from({ length: reps }, () => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  return ms[Math.floor(reps / 2)]!;
}

tg.setWasmEnabled(true);
const cases = operands();
const single = products(cases);

if (mode === 'isolated' || mode === 'worker') {
  test('crossOriginIsolated, and the wasm memory is shared', async () => {
    assert(globalThis.crossOriginIsolated === true, `crossOriginIsolated is ${globalThis.crossOriginIsolated}`);
    assert(runtime().shared, 'the wasm memory is not shared');
  });

  test('setNumThreads(2) + threadsReady(): matmuls split over a worker, bit-identical to 1 thread', () => splitMatches(2, cases, single));

  test('a new pool runs on the calling thread until its workers report ready; then 3 threads', async () => {
    tg.setNumThreads(3);
    assert(threadsFor(runtime()) === 1, 'the pool was in use before its workers started');
    const before = workerJobCount();
    assertSameBits(products(cases.slice(0, 1)), single.slice(0, 1));
    const early = workerJobCount() - before;
    return `${early} worker jobs before ready; ${await splitMatches(3, cases, single)} after`;
  });

  test('resizing the pool back and forth: stopped workers never run a newer pool\'s jobs', async () => {
    let jobs = 0;
    for (let i = 0; i < 8; i++) {
      tg.setNumThreads(2 + (i % 2));
      await tg.threadsReady();
      const before = workerJobCount();
      assertSameBits(products(cases.slice(0, 2)), single.slice(0, 2));
      jobs += workerJobCount() - before;
    }
    assert(jobs >= 8 * 2, `only ${jobs} worker jobs`);
    return `${jobs} worker jobs over 8 pools`;
  });

  test('a job that traps on a worker is reported, and the pool keeps working', async () => {
    const rt = runtime();
    tg.setNumThreads(2);
    await tg.threadsReady();
    let message = '';
    try {
      // un_relu over 16 floats at an address past the memory's end traps on the worker.
      runParallel(rt, [{ fn: 'un_relu', args: [4096, 4096, 0] }, { fn: 'un_relu', args: [0xfffff000, 0xfffff000, 16] }]);
    } catch (e) {
      message = (e as Error).message;
    }
    assert(/worker thread failed while running un_relu/.test(message), `got "${message}"`);
    return splitMatches(2, cases, single);
  });

  test('a stalled worker gives an internal error (no hang); setNumThreads restarts the pool', async () => {
    const rt = runtime();
    tg.setNumThreads(2);
    await tg.threadsReady();
    // The slow job sums 64 MiB into one float written to slot 0 of the control block (the calling
    // thread's, unused): a worker not yet terminated must not write into memory that the arena
    // hands out again to the next products.
    const arena = arenaOf(rt);
    arena.reset();
    const at = arena.alloc(64 << 20);
    const out = 0;
    setStallLimitForTest(1);
    let message = '';
    try {
      runParallel(rt, [{ fn: 'sum_rows', args: [at, out, 1, 16] }, { fn: 'sum_rows', args: [at, out + 4, 1, 16 << 20] }]);
    } catch (e) {
      message = (e as Error).message;
    } finally {
      setStallLimitForTest(10_000);
    }
    assert(/worker thread 1 did not finish sum_rows; threads are off until the next setNumThreads/.test(message), `got "${message}"`);
    const before = workerJobCount();
    assertSameBits(products(cases), single);
    assert(workerJobCount() === before, 'a broken pool was used');
    return splitMatches(2, cases, single);
  });

  test('setNumThreads(1) stops the workers', async () => {
    tg.setNumThreads(1);
    await tg.threadsReady();
    const before = workerJobCount();
    assertSameBits(products(cases), single);
    assert(workerJobCount() === before, 'a worker ran a job');
    const alive = [...poolWorkers.values()].filter((terminated) => !terminated).length;
    assert(poolWorkers.size > 0 && alive === 0, `${alive} of ${poolWorkers.size} pool workers were never terminated`);
    return `${poolWorkers.size} pool workers created here, all terminated`;
  });

  test('timing: 1024x1024 @ 1024x1024 on 1 and 2 threads (median of 5)', async () => {
    const [a, b] = [tg.randn([1024, 1024]), tg.randn([1024, 1024])];
    const run = () => void a.matmul(b).dataSync();
    tg.setNumThreads(1);
    const one = medianMs(run);
    tg.setNumThreads(2);
    await tg.threadsReady();
    const before = workerJobCount();
    const two = medianMs(run);
    assert(workerJobCount() > before, 'no worker jobs');
    tg.setNumThreads(1);
    return `1 thread ${one.toFixed(1)} ms, 2 threads ${two.toFixed(1)} ms (x${(one / two).toFixed(2)})`;
  });
}

if (mode === 'isolated') {
  test('the same checks from inside a Web Worker (nested workers)', async () => {
    const w = new Worker(`/suite.js?mode=worker`, { type: 'module', name: 'suite in a worker' });
    try {
      const inner = await withTimeout(new Promise<Result[]>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<Result[]>) => resolve(e.data);
        w.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
      }), 40_000, 'the worker suite');
      for (const r of inner) results.push({ ...r, name: `in a worker: ${r.name}` });
      const failed = inner.filter((r) => !r.ok).length;
      assert(inner.length > 0 && failed === 0, `${failed} of ${inner.length} failed in the worker`);
      return `${inner.length} checks`;
    } finally {
      w.terminate();
    }
  });
}

if (mode === 'plain') {
  test('not crossOriginIsolated: no SharedArrayBuffer, an unshared wasm memory', async () => {
    assert(globalThis.crossOriginIsolated === false, `crossOriginIsolated is ${globalThis.crossOriginIsolated}`);
    assert(typeof SharedArrayBuffer === 'undefined', 'SharedArrayBuffer exists');
    assert(tg.isWasmEnabled() && !runtime().shared, 'expected wasm on an unshared memory');
  });

  test('setNumThreads(2) is accepted and stays single-threaded, bit-identical', async () => {
    tg.setNumThreads(2);
    assert(tg.getNumThreads() === 2, `getNumThreads() = ${tg.getNumThreads()}`);
    await withTimeout(tg.threadsReady(), 2_000, 'threadsReady()');
    assertSameBits(products(cases), single);
    assert(workerJobCount() === 0, `${workerJobCount()} worker jobs`);
    tg.setNumThreads(1);
  });
}

const results: Result[] = [];
for (const [name, fn] of tests) {
  const t0 = performance.now();
  try {
    const note = await fn();
    results.push({ name, ok: true, ms: performance.now() - t0, ...(note ? { note } : {}) });
  } catch (e) {
    results.push({ name, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e), ms: performance.now() - t0 });
  }
}
if (inWorker) postMessage(results);
else (globalThis as unknown as { __results: Result[] }).__results = results;
