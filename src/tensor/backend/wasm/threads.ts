/**
 * A worker pool for the WebAssembly kernels. Each worker instantiates the same module on the same
 * shared `WebAssembly.Memory`, then sleeps in `Atomics.wait` on its slot of a control block at the
 * bottom of that memory. A parallel call writes each worker's function and i32 arguments into its
 * slot, wakes it, runs its own share on the calling thread, and waits for the workers' done
 * counters: no messages and no event-loop round trips, so a split costs tens of microseconds.
 *
 * Two kinds of worker run the same program:
 * - Node (>= 20.16, which has `process.getBuiltinModule`): `worker_threads`, created by the first
 *   parallel call after {@link setNumThreads}; that call waits (tens of milliseconds, once) for
 *   them to instantiate. They are `unref()`ed, so they never keep a process alive.
 * - Browsers, in a `crossOriginIsolated` page or a worker of one: Web Workers from a Blob URL,
 *   started by {@link setNumThreads}, with the module and memory sent by `postMessage`. Their
 *   start-up is asynchronous and may need the page's event loop, so nothing waits for it: calls
 *   run on the calling thread alone until every worker has reported ready ({@link threadsReady}).
 *   A page's main thread may not `Atomics.wait`, so the caller spins on the done counters.
 * Everywhere else (no shared memory: browsers without cross-origin isolation, wasm off)
 * everything runs on the calling thread. `setNumThreads(1)` terminates the workers.
 */
import { ARENA_BASE, wasmRuntime, type WasmRuntime } from './runtime.js';

/** Int32 slots per worker in the control block. */
const SLOT = 32;
const SEQ = 0;
const DONE = 1;
const FN = 2;
const ARGS = 3;
const MAX_ARGS = 13;
/** 0 while a worker starts, 1 once it has instantiated the module, -1 if that failed. */
const STATUS = 16;
/** Set by a worker whose job threw (the message cannot cross; the main thread reports it). */
const FAILED = 17;
/**
 * Milliseconds a thread polls a control word before sleeping in `Atomics.wait` (workers between
 * jobs, the caller for a worker's share). Waking a sleeping thread costs 80-170 us on this VM,
 * as much as a small matmul; polling this long covers the gaps inside a training step.
 */
const SPIN_MS = 1;
/** The id of the worker a slot belongs to (workers of a stopped pool may linger a moment). */
const OWNER = 18;
/** Workers that fit the control block below the arena. */
const MAX_WORKERS = Math.floor(ARENA_BASE / 4 / SLOT) - 1;

/** The worker's loop, shared by both kinds (plain JavaScript, so no file needs resolving). */
const WORKER_LOOP = `
function serve({ module, memory, slot, id, names }, started) {
  const ctrl = new Int32Array(memory.buffer, 0, ${ARENA_BASE / 4});
  const mine = () => Atomics.load(ctrl, slot + ${OWNER}) === id;
  let fns;
  try {
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    fns = names.map((n) => inst.exports[n]);
  } catch (e) {}
  if (!mine()) return;
  Atomics.store(ctrl, slot + ${STATUS}, fns ? 1 : -1);
  Atomics.notify(ctrl, slot + ${STATUS});
  started();
  let seen = 0;
  while (fns) {
    // Jobs come in bursts (a training step's matmuls): poll for ${SPIN_MS} ms before sleeping, since
    // waking from Atomics.wait costs about 100 us on a VM (measured), as much as a small job.
    const until = performance.now() + ${SPIN_MS};
    for (let k = 0; Atomics.load(ctrl, slot + ${SEQ}) === seen; k++) {
      if ((k & 63) === 0 && performance.now() > until) {
        Atomics.wait(ctrl, slot + ${SEQ}, seen);
        break;
      }
    }
    const seq = Atomics.load(ctrl, slot + ${SEQ});
    if (seq === seen) continue;
    seen = seq;
    const fn = Atomics.load(ctrl, slot + ${FN});
    // Leave when told to, or when a newer pool has taken the slot (this worker was stopped but
    // not yet terminated): loading OWNER last means SEQ and FN were not from the newer pool.
    if (fn < 0 || !mine()) break;
    const args = [];
    for (let i = 0; i < ${MAX_ARGS}; i++) args.push(ctrl[slot + ${ARGS} + i]);
    try {
      fns[fn](...args);
    } catch (e) {
      Atomics.store(ctrl, slot + ${FAILED}, 1);
    }
    Atomics.store(ctrl, slot + ${DONE}, seq);
    Atomics.notify(ctrl, slot + ${DONE});
  }
}
`;
/** A Node worker (CommonJS, run with `eval: true`) gets its start data as `workerData`. */
const NODE_WORKER_SOURCE = `${WORKER_LOOP}
serve(require('node:worker_threads').workerData, () => {});
`;
/** A Web Worker (classic script) gets it as its first message, and says when it has started. */
const WEB_WORKER_SOURCE = `${WORKER_LOOP}
onmessage = (e) => serve(e.data, () => postMessage('started'));
onmessageerror = () => postMessage('unreadable');
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', cb: (e: unknown) => void): unknown;
}
type NodeWorkerCtor = new (src: string, opts: { eval: true; workerData: unknown; execArgv: string[] }) => NodeWorker;

/** What a worker is told at start: the module, the memory, its slot, its id and the kernel names. */
interface StartData {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly slot: number;
  readonly id: number;
  readonly names: readonly string[];
}

interface Pool {
  readonly rt: WasmRuntime;
  readonly workers: { terminate(): unknown }[];
  readonly ctrl: Int32Array;
  readonly names: string[];
  /** Web Workers: never wait for start-up, and spin (not `Atomics.wait`) for done counters. */
  readonly web: boolean;
  /** Settles once every worker has reported (ready or failed) or the pool is shut down. */
  readonly started: Promise<void>;
  settle(): void;
  seq: number;
  ready: boolean;
  broken: boolean;
}

/** Starts one worker of a pool (the worker calls back by writing its status word). */
type Spawn = (data: StartData, pool: Pool) => { terminate(): unknown };

let requested = 1;
let pool: Pool | null = null;
let workerJobs = 0;
let lastWorkerId = 0;
let webWorkerUrl: string | null = null;
/**
 * How long the calling thread spins for a Web Worker's job after finishing its own share: this,
 * or ten times that share's time if longer (shares are equal bands, so a healthy worker is far
 * inside it; a stuck or killed one must not hang the page).
 */
let stallMs = 10_000;

/**
 * @internal Jobs handed to workers so far (tests check that the pool really ran).
 * @example
 * const before = workerJobCount();
 */
export function workerJobCount(): number {
  return workerJobs;
}

/**
 * @internal Change the spin limit for Web Worker jobs (tests provoke a stall).
 * @example
 * setStallLimitForTest(1);
 */
export function setStallLimitForTest(ms: number): void {
  stallMs = ms;
}

/** Node's worker_threads, on its main thread (workers spawn no pools of their own). */
function nodeSpawner(): Spawn | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; execArgv?: string[] } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as { Worker?: NodeWorkerCtor; isMainThread?: boolean } | undefined;
  const Worker = wt?.Worker && wt.isMainThread ? wt.Worker : null;
  if (!Worker) return null;
  // NOTE: the worker must not inherit flags such as --input-type=module (its source is
  // CommonJS) or loaders; only wasm feature flags matter, so it validates what we compiled.
  const execArgv = proc?.execArgv?.filter((a) => /^--(experimental-)?wasm/.test(a)) ?? [];
  return (workerData, p) => {
    const w = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData, execArgv });
    w.unref();
    w.on('error', () => {
      p.broken = true;
    });
    return w;
  };
}

/** Web Workers, where the context is cross-origin isolated (shared memory may be posted). */
function webSpawner(): Spawn | null {
  const g = globalThis as { Worker?: typeof Worker; crossOriginIsolated?: boolean };
  const WebWorker = g.Worker;
  if (typeof WebWorker !== 'function' || g.crossOriginIsolated !== true) return null;
  webWorkerUrl ??= URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
  const url = webWorkerUrl;
  return (data, p) => {
    const w = new WebWorker(url, { name: `tensorgrad worker ${data.slot / SLOT}` });
    const fail = () => {
      p.broken = true;
      p.settle();
    };
    // NOTE: 'unreadable' means the start message could not be deserialised (a worker outside
    // the page's cross-origin isolation cannot receive shared memory).
    w.onmessage = (e) => (e.data === 'started' ? checkStarted(p) : fail());
    w.onerror = fail;
    w.postMessage(data);
    return w;
  };
}

/**
 * Set how many threads large float32 matmuls use (default 1: the calling thread only), as
 * `torch.set_num_threads`. With n > 1, n - 1 workers share the WebAssembly memory and each
 * computes a band of the output; results are bit-identical to one thread.
 *
 * - Node >= 20.16: worker_threads, started by the first large matmul.
 * - Browsers: Web Workers, started now, only where shared memory exists, that is in a
 *   `crossOriginIsolated` page (served with `Cross-Origin-Opener-Policy: same-origin` and
 *   `Cross-Origin-Embedder-Policy: require-corp`) or a worker of one. They start asynchronously:
 *   `await tg.threadsReady()` before timing anything; until then kernels run single-threaded.
 * - Elsewhere (a page without cross-origin isolation, older Node) the call is accepted and
 *   kernels stay single-threaded.
 *
 * Calling it again restarts a pool whose workers failed.
 * @example
 * tg.setNumThreads(2);
 * await tg.threadsReady(); // browsers: workers up
 * const c = tg.randn([1024, 1024]).matmul(tg.randn([1024, 1024])); // both cores
 * tg.setNumThreads(1); // stops the workers
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Expected positive number of threads, but got ${n}`);
  requested = Math.min(n, MAX_WORKERS + 1);
  if (pool && (pool.broken || pool.workers.length !== requested - 1)) shutdown();
  // Browsers start their workers now: they need the event loop, which the caller is about to yield.
  if (requested > 1 && !nodeSpawner() && webSpawner()) {
    const rt = wasmRuntime();
    if (rt) activePool(rt);
  }
}

/**
 * The thread count set by {@link setNumThreads} (threads actually used can be fewer where the
 * platform has no workers).
 * @example
 * tg.setNumThreads(2);
 * tg.getNumThreads(); // 2
 */
export function getNumThreads(): number {
  return requested;
}

/**
 * Resolves once the workers asked for by {@link setNumThreads} have started, or once it is known
 * that they cannot (kernels then stay single-threaded); at once when single-threaded, and in Node,
 * whose workers start synchronously. Browsers start Web Workers asynchronously: await this after
 * `setNumThreads` so that the next large matmul is already split.
 * @example
 * tg.setNumThreads(2);
 * await tg.threadsReady();
 */
export function threadsReady(): Promise<void> {
  const rt = requested > 1 ? wasmRuntime() : null;
  if (rt) activePool(rt);
  return pool && pool.rt === rt ? pool.started : Promise.resolve();
}

/** Stop the pool; the next parallel call starts a fresh one if threads are still requested. */
function shutdown(): void {
  if (!pool) return;
  stopWorkers(pool);
  pool = null;
}

/** Tell each worker to exit, terminate it, and settle whoever awaits the pool's start. */
function stopWorkers(p: Pool): void {
  p.workers.forEach((w, i) => {
    const base = (i + 1) * SLOT;
    Atomics.store(p.ctrl, base + FN, -1);
    Atomics.store(p.ctrl, base + SEQ, ++p.seq);
    Atomics.notify(p.ctrl, base + SEQ);
    void w.terminate();
  });
  p.settle();
}

/** Start `requested - 1` workers for `rt`; null where the platform has no workers. */
function startPool(rt: WasmRuntime): Pool | null {
  const node = nodeSpawner();
  const spawn = node ?? webSpawner();
  if (!spawn) return null;
  let settle = () => {};
  const started = new Promise<void>((resolve) => (settle = resolve));
  const ctrl = new Int32Array(rt.memory.buffer, 0, ARENA_BASE / 4);
  const names = Object.keys(rt.kernels);
  const p: Pool = { rt, workers: [], ctrl, names, web: !node, started, settle, seq: 0, ready: false, broken: false };
  try {
    for (let i = 0; i < requested - 1; i++) {
      const slot = (i + 1) * SLOT;
      const id = ++lastWorkerId;
      // NOTE: OWNER first, so a lingering worker of a stopped pool that sees any of the zeroed
      // words also sees that the slot is no longer its own.
      Atomics.store(ctrl, slot + OWNER, id);
      for (let k = 0; k < SLOT; k++) if (k !== OWNER) Atomics.store(ctrl, slot + k, 0);
      p.workers.push(spawn({ module: rt.module, memory: rt.memory, slot, id, names }, p));
    }
  } catch {
    // NOTE: a Content-Security-Policy without `worker-src blob:` refuses the worker; so does a
    // memory that cannot be posted. Kernels then stay single-threaded.
    p.broken = true;
    p.settle();
  }
  return p;
}

/** Web pools: mark the pool ready (or broken) once every worker has written its status. */
function checkStarted(p: Pool): void {
  if (p.ready || p.broken) return;
  const status = p.workers.map((_, i) => Atomics.load(p.ctrl, (i + 1) * SLOT + STATUS));
  if (status.some((s) => s < 0)) p.broken = true;
  else if (status.every((s) => s === 1)) p.ready = true;
  else return;
  p.settle();
}

/** Node pools: block until every worker has instantiated (once, tens of milliseconds). */
function waitStarted(p: Pool): void {
  for (let i = 0; i < p.workers.length && !p.broken; i++) {
    const at = (i + 1) * SLOT + STATUS;
    if (Atomics.load(p.ctrl, at) === 0) Atomics.wait(p.ctrl, at, 0, 10_000);
    if (Atomics.load(p.ctrl, at) !== 1) p.broken = true;
  }
  p.ready = !p.broken;
  p.settle();
}

/** The pool for `rt` with the requested size, started now if needed; null while single-threaded. */
function activePool(rt: WasmRuntime): Pool | null {
  if (requested <= 1 || !rt.shared) return null;
  if (pool && pool.rt !== rt) shutdown();
  pool ??= startPool(rt);
  if (!pool || pool.broken) return null;
  if (!pool.ready) (pool.web ? checkStarted : waitStarted)(pool);
  return pool.ready && !pool.broken ? pool : null;
}

/**
 * How many threads a parallel call on `rt` would use right now (1 when no pool, or while a
 * browser's workers start); starts the pool if threads were requested.
 * @example
 * threadsFor(rt); // 2 after setNumThreads(2) on Node >= 20.16
 */
export function threadsFor(rt: WasmRuntime): number {
  const p = activePool(rt);
  return p ? p.workers.length + 1 : 1;
}

/**
 * One kernel call: an exported function name and its i32 arguments.
 * @example
 * const job: Job = { fn: 'gemm', args: [a, ars, acs, b, bks, bns, c, ldc, m, n, k, pa, pb] };
 */
export interface Job {
  readonly fn: string;
  readonly args: readonly number[];
}

/**
 * Run `jobs` concurrently: the first on the calling thread, the rest on workers (at most one
 * each; pass no more than {@link threadsFor} jobs). Returns when all are done; throws if a
 * worker's job trapped, or (Web Workers) if a worker stalls far past the calling thread.
 * @example
 * runParallel(rt, [{ fn: 'gemm', args: top }, { fn: 'gemm', args: bottom }]);
 */
export function runParallel(rt: WasmRuntime, jobs: readonly Job[]): void {
  const p = jobs.length > 1 ? activePool(rt) : null;
  if (!p || jobs.length - 1 > p.workers.length) {
    for (const j of jobs) rt.kernels[j.fn]!(...j.args);
    return;
  }
  const seqs: number[] = [];
  for (let i = 1; i < jobs.length; i++) {
    const job = jobs[i]!;
    const base = i * SLOT;
    if (job.args.length > MAX_ARGS) throw new Error(`internal: ${job.fn} takes more than ${MAX_ARGS} arguments`);
    p.ctrl[base + FN] = p.names.indexOf(job.fn);
    job.args.forEach((a, k) => (p.ctrl[base + ARGS + k] = a));
    const seq = ++p.seq;
    seqs.push(seq);
    workerJobs++;
    Atomics.store(p.ctrl, base + SEQ, seq);
    Atomics.notify(p.ctrl, base + SEQ);
  }
  const first = jobs[0]!;
  const t0 = performance.now();
  rt.kernels[first.fn]!(...first.args);
  // NOTE: a page's main thread may not Atomics.wait (it throws), so Web Worker pools spin.
  const deadline = p.web ? performance.now() + Math.max(stallMs, 10 * (performance.now() - t0)) : 0;
  let failed = false;
  for (let i = 1; i < jobs.length; i++) {
    const at = i * SLOT + DONE;
    const seq = seqs[i - 1]!;
    // Node: poll first (the worker's share usually ends within its wake-up time), then sleep.
    const pollUntil = p.web ? 0 : performance.now() + SPIN_MS;
    for (let done = Atomics.load(p.ctrl, at), k = 0; done !== seq; done = Atomics.load(p.ctrl, at), k++) {
      if (p.web) {
        if (performance.now() > deadline) stalled(p, i, jobs[i]!.fn);
      } else if ((k & 63) === 0 && performance.now() > pollUntil) Atomics.wait(p.ctrl, at, done);
    }
    if (Atomics.exchange(p.ctrl, i * SLOT + FAILED, 0) !== 0) failed = true;
  }
  if (failed) throw new Error(`internal: a worker thread failed while running ${jobs[1]!.fn}`);
}

/** A worker never finished its job: stop its pool, which stays broken (single-threaded), and say so. */
function stalled(p: Pool, worker: number, fn: string): never {
  p.broken = true;
  stopWorkers(p);
  throw new Error(`internal: worker thread ${worker} did not finish ${fn}; threads are off until the next setNumThreads()`);
}
