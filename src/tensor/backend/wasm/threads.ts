/**
 * A worker-thread pool for the WebAssembly kernels (Node only). Each worker instantiates the same
 * module on the same shared `WebAssembly.Memory`, then sleeps in `Atomics.wait` on its slot of a
 * control block at the bottom of that memory. A parallel call writes each worker's function and
 * i32 arguments into its slot, wakes it, runs its own share on the calling thread, and waits for
 * the workers' done counters: no messages and no event-loop round trips, so a split costs tens
 * of microseconds.
 *
 * Workers are created lazily by the first parallel call after {@link setNumThreads}, are
 * `unref()`ed (they never keep a process alive) and are terminated by `setNumThreads(1)`.
 * Browsers (and Node < 20.16, which lacks `process.getBuiltinModule`) run single-threaded.
 */
import { ARENA_BASE, type WasmRuntime } from './runtime.js';

/** Int32 slots per worker in the control block. */
const SLOT = 32;
const SEQ = 0;
const DONE = 1;
const FN = 2;
const ARGS = 3;
const MAX_ARGS = 13;
const STATUS = 16;
/** Set by a worker whose job threw (the message cannot cross; the main thread reports it). */
const FAILED = 17;
/** Workers that fit the control block below the arena. */
const MAX_WORKERS = Math.floor(ARENA_BASE / 4 / SLOT) - 1;

/** The worker's whole program (CommonJS, run with `eval: true`, so no file needs resolving). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, slot, names } = workerData;
const ctrl = new Int32Array(memory.buffer, 0, ${ARENA_BASE / 4});
let fns;
try {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  fns = names.map((n) => inst.exports[n]);
  Atomics.store(ctrl, slot + ${STATUS}, 1);
} catch (e) {
  Atomics.store(ctrl, slot + ${STATUS}, -1);
}
Atomics.notify(ctrl, slot + ${STATUS});
let seen = 0;
while (fns) {
  Atomics.wait(ctrl, slot + ${SEQ}, seen);
  const seq = Atomics.load(ctrl, slot + ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  const fn = ctrl[slot + ${FN}];
  if (fn < 0) break;
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
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', cb: (e: unknown) => void): unknown;
}
type WorkerCtor = new (src: string, opts: { eval: true; workerData: unknown; execArgv: string[] }) => NodeWorker;

interface Pool {
  readonly rt: WasmRuntime;
  readonly workers: NodeWorker[];
  readonly ctrl: Int32Array;
  readonly names: string[];
  seq: number;
  broken: boolean;
}

let requested = 1;
let pool: Pool | null = null;
let workerJobs = 0;

/**
 * @internal Jobs handed to workers so far (tests check that the pool really ran).
 * @example
 * const before = workerJobCount();
 */
export function workerJobCount(): number {
  return workerJobs;
}

/** The Worker constructor where the platform has one we can use synchronously. */
function workerCtor(): WorkerCtor | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as { Worker?: WorkerCtor; isMainThread?: boolean } | undefined;
  return wt?.Worker && wt.isMainThread ? wt.Worker : null;
}

/**
 * Set how many threads large float32 matmuls use (default 1: the calling thread only). With
 * n > 1, n - 1 worker threads share the WebAssembly memory and each computes a block of output
 * rows; results are bit-identical to one thread. Workers need Node >= 20.16; elsewhere (browsers
 * included) the call is accepted and kernels stay single-threaded.
 * @example
 * tg.setNumThreads(2);
 * const c = tg.randn([1024, 1024]).matmul(tg.randn([1024, 1024])); // both cores
 * tg.setNumThreads(1); // stops the workers
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Expected positive number of threads, but got ${n}`);
  requested = Math.min(n, MAX_WORKERS + 1);
  if (pool && pool.workers.length !== requested - 1) shutdown();
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

function shutdown(): void {
  if (!pool) return;
  const p = pool;
  pool = null;
  p.workers.forEach((w, i) => {
    const base = (i + 1) * SLOT;
    Atomics.store(p.ctrl, base + FN, -1);
    Atomics.store(p.ctrl, base + SEQ, ++p.seq);
    Atomics.notify(p.ctrl, base + SEQ);
    void w.terminate();
  });
}

/** The pool for `rt` with the requested size, started now if needed; null when single-threaded. */
function activePool(rt: WasmRuntime): Pool | null {
  if (requested <= 1 || !rt.shared) return null;
  if (pool && pool.rt !== rt) shutdown();
  if (!pool) {
    const Worker = workerCtor();
    if (!Worker) return null;
    const ctrl = new Int32Array(rt.memory.buffer, 0, ARENA_BASE / 4);
    const names = Object.keys(rt.kernels);
    const created: Pool = { rt, workers: [], ctrl, names, seq: 0, broken: false };
    for (let i = 0; i < requested - 1; i++) {
      const slot = (i + 1) * SLOT;
      ctrl.fill(0, slot, slot + SLOT);
      // NOTE: the worker must not inherit flags such as --input-type=module (its source is
      // CommonJS) or loaders; only wasm feature flags matter, so it validates what we compiled.
      const execArgv = (globalThis as { process?: { execArgv?: string[] } }).process?.execArgv?.filter((a) => /^--(experimental-)?wasm/.test(a)) ?? [];
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: rt.module, memory: rt.memory, slot, names }, execArgv });
      w.unref();
      w.on('error', () => {
        created.broken = true;
      });
      created.workers.push(w);
    }
    pool = created;
  }
  if (pool.broken) return null;
  // Block until every worker has instantiated (once, tens of milliseconds at pool start).
  for (let i = 0; i < pool.workers.length; i++) {
    const at = (i + 1) * SLOT + STATUS;
    if (Atomics.load(pool.ctrl, at) === 0) Atomics.wait(pool.ctrl, at, 0, 10_000);
    if (Atomics.load(pool.ctrl, at) !== 1) {
      pool.broken = true;
      return null;
    }
  }
  return pool;
}

/**
 * How many threads a parallel call on `rt` would use right now (1 when no pool); starts the
 * pool if threads were requested.
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
 * worker's job trapped.
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
  rt.kernels[first.fn]!(...first.args);
  let failed = false;
  for (let i = 1; i < jobs.length; i++) {
    const at = i * SLOT + DONE;
    const seq = seqs[i - 1]!;
    for (let done = Atomics.load(p.ctrl, at); done !== seq; done = Atomics.load(p.ctrl, at)) Atomics.wait(p.ctrl, at, done);
    if (Atomics.exchange(p.ctrl, i * SLOT + FAILED, 0) !== 0) failed = true;
  }
  if (failed) throw new Error(`internal: a worker thread failed while running ${jobs[1]!.fn}`);
}
