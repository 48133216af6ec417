/**
 * The WebAssembly runtime behind the fast CPU path: it assembles every kernel into one module
 * (at first use, never on import), owns the single linear memory the kernels work in, and hands
 * out scratch space from a bump arena that each operation resets.
 *
 * The memory is shared (`SharedArrayBuffer`-backed) where the platform allows it, so worker
 * threads can run the same module on the same memory; elsewhere it is a plain memory and
 * everything runs on the calling thread. When WebAssembly SIMD is missing, or the user turns the
 * path off, {@link wasmRuntime} returns null and the plain TypeScript kernels run instead.
 */
import { ModuleBuilder } from './emit.js';
import { emitGemm } from './gemm-kernels.js';
import { emitElementwise } from './elementwise-kernels.js';
import { emitReductions } from './reduce-kernels.js';
import { emitOptimizers } from './optim-kernels.js';
import { inScope } from '../../scope.js';

const PAGE = 65536;
/**
 * Bytes [0, ARENA_BASE) hold the thread pool's control block; the arena starts here.
 * @example
 * arenaOf(rt).alloc(16) >= ARENA_BASE; // true
 */
export const ARENA_BASE = 4096;
/** 4 GiB, wasm32's limit: shared memories must declare a maximum (address space only). */
const MAX_PAGES = 65536;

/**
 * A kernel export: every argument is an i32 (addresses in bytes, sizes in elements) or an f32.
 * @example
 * rt.kernels['un_exp']!(src, dst, n);
 */
export type Kernel = (...args: number[]) => number | undefined;

/**
 * The compiled kernels, their memory and the features they were built with.
 * @example
 * const rt = wasmRuntime();
 * if (rt) console.log(rt.shared, rt.fma);
 */
export interface WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly kernels: Readonly<Record<string, Kernel>>;
  /** True when `memory` is shared, so worker threads can join in. */
  readonly shared: boolean;
  /** True when the GEMM micro-kernel uses relaxed-SIMD fused multiply-add. */
  readonly fma: boolean;
}

/**
 * Build the module: every kernel family in one binary.
 * @example
 * WebAssembly.validate(buildModule({ shared: false, fma: false })); // true
 */
export function buildModule(opts: { shared: boolean; fma: boolean }): Uint8Array {
  const m = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared: opts.shared });
  emitGemm(m, { fma: opts.fma });
  emitElementwise(m);
  emitReductions(m);
  emitOptimizers(m);
  return m.bytes();
}

/** Whether the engine validates a module using `op` (feature detection, as wasm-feature-detect does). */
function validates(op: 'f32x4.sqrt' | 'f32x4.relaxed_madd'): boolean {
  const m = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  m.fn('probe', ['v128'], ['v128'], (f) => {
    f.get(0);
    if (op === 'f32x4.relaxed_madd') f.get(0).get(0);
    f.op(op);
  });
  return WebAssembly.validate(m.bytes() as BufferSource);
}

let enabled = readEnvSwitch();
let runtime: WasmRuntime | null | undefined;

function readEnvSwitch(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.['TENSORGRAD_WASM'];
  return !(v === '0' || v === 'false' || v === 'off');
}

/**
 * Whether the engine can run the kernels at all (WebAssembly with SIMD).
 * @example
 * wasmSupported(); // true on Node 20+, Chrome 91+, Firefox 89+, Safari 16.4+
 */
export function wasmSupported(): boolean {
  return typeof WebAssembly === 'object' && validates('f32x4.sqrt');
}

interface RuntimeOptions {
  /** Use relaxed-SIMD FMA when the engine validates it. */
  readonly fma: boolean;
  /** Use a shared memory (threads) when the platform allows it. */
  readonly shared: boolean;
}

function createRuntime({ fma: wantFma, shared: wantShared }: RuntimeOptions): WasmRuntime | null {
  if (!wasmSupported()) return null;
  const fma = wantFma && validates('f32x4.relaxed_madd');
  try {
    let memory: WebAssembly.Memory;
    let shared = wantShared && typeof SharedArrayBuffer === 'function';
    try {
      memory = new WebAssembly.Memory(shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16, maximum: MAX_PAGES });
    } catch {
      shared = false;
      memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
    }
    const module = new WebAssembly.Module(buildModule({ shared, fma }) as BufferSource);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { memory, module, kernels: instance.exports as Record<string, Kernel>, shared, fma };
  } catch {
    // NOTE: some hosts forbid synchronous compilation (browser main threads with a size cap) or
    // large memory reservations; the plain TypeScript kernels then run everything.
    return null;
  }
}

/**
 * The runtime, built on first call; null when disabled or unsupported.
 * @example
 * const rt = wasmRuntime(); // compiles the kernels once
 */
export function wasmRuntime(): WasmRuntime | null {
  if (!enabled) return null;
  if (runtime === undefined) runtime = createRuntime({ fma: true, shared: true });
  return runtime;
}

/**
 * @internal A separate runtime with chosen features, for tests (FMA on/off, unshared memory).
 * @example
 * const rt = createRuntimeForTest({ fma: false, shared: false });
 */
export function createRuntimeForTest(opts: RuntimeOptions): WasmRuntime | null {
  return createRuntime(opts);
}

/**
 * Turn the WebAssembly fast path on or off (on by default where the engine supports SIMD; the
 * environment variable `TENSORGRAD_WASM=0` starts with it off). Off means every CPU kernel runs
 * the plain TypeScript reference path.
 * @example
 * tg.setWasmEnabled(false); // plain TypeScript kernels only
 * const y = tg.randn([256, 256]).matmul(tg.randn([256, 256]));
 */
export function setWasmEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Whether float32 kernels are currently routed to WebAssembly (enabled and supported).
 * @example
 * console.log(tg.isWasmEnabled()); // true on Node 20+ and current browsers
 */
export function isWasmEnabled(): boolean {
  return wasmRuntime() !== null;
}

/**
 * The wasm memory could not grow to `bytes`; the caller falls back to the plain kernels.
 * @example
 * try { arena.alloc(n); } catch (e) { if (e instanceof WasmOutOfMemory) return null; throw e; }
 */
export class WasmOutOfMemory extends Error {
  constructor(bytes: number) {
    super(`internal: WebAssembly memory cannot grow to ${bytes} bytes`);
    this.name = 'WasmOutOfMemory';
  }
}

/**
 * The allocator behind everything placed in the wasm memory above the thread pool's control
 * block: first-fit over a sorted list of free ranges, coalescing on release, growing the memory
 * when nothing fits. Only the calling thread allocates (workers just run kernels).
 * @example
 * const heap = heapOf(rt);
 * const at = heap.alloc(4096); // 64-byte aligned
 * heap.release(at, 4096);
 */
export class Heap {
  /** Free [start, end) byte ranges, sorted and disjoint. */
  private free: [number, number][];
  private readonly rt: WasmRuntime;

  constructor(rt: WasmRuntime) {
    this.rt = rt;
    this.free = [[ARENA_BASE, rt.memory.buffer.byteLength]];
  }

  /** Reserve `bytes` (rounded up to 64) at a 64-byte aligned address; throws {@link WasmOutOfMemory}. */
  alloc(bytes: number): number {
    const size = Math.max(64, Math.ceil(bytes / 64) * 64);
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      const at = Math.ceil(r[0] / 64) * 64;
      if (r[1] - at >= size) {
        if (at > r[0]) this.free.splice(i++, 0, [r[0], at]);
        r[0] = at + size;
        if (r[0] === r[1]) this.free.splice(i, 1);
        return at;
      }
    }
    const end = this.rt.memory.buffer.byteLength;
    const last = this.free[this.free.length - 1];
    const start = last && last[1] === end ? last[0] : end;
    const at = Math.ceil(start / 64) * 64;
    try {
      this.rt.memory.grow(Math.ceil((at + size - end) / PAGE));
    } catch {
      throw new WasmOutOfMemory(at + size);
    }
    if (last && last[1] === end) this.free.pop();
    if (at > start) this.free.push([start, at]);
    const newEnd = this.rt.memory.buffer.byteLength;
    if (newEnd > at + size) this.free.push([at + size, newEnd]);
    return at;
  }

  /** Give back a block from {@link alloc} (same `bytes`). */
  release(at: number, bytes: number): void {
    const size = Math.max(64, Math.ceil(bytes / 64) * 64);
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]![0] < at) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, [at, at + size]);
    // Coalesce with the neighbours.
    const next = this.free[lo + 1];
    if (next && next[0] === at + size) {
      this.free[lo]![1] = next[1];
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev[1] === at) {
      prev[1] = this.free[lo]![1];
      this.free.splice(lo, 1);
    }
  }

  /** Free bytes below the current memory size (tests check that released blocks come back). */
  freeBytes(): number {
    return this.free.reduce((s, [a, b]) => s + b - a, 0);
  }
}

/** `make(rt)` once per runtime, then the same object (memoised in a WeakMap). */
function perRuntime<T>(make: (rt: WasmRuntime) => T): (rt: WasmRuntime) => T {
  const made = new WeakMap<WasmRuntime, T>();
  return (rt) => {
    let v = made.get(rt);
    if (v === undefined) {
      v = make(rt);
      made.set(rt, v);
    }
    return v;
  };
}

/**
 * The heap of a runtime (one per runtime).
 * @example
 * heapOf(rt).alloc(1024);
 */
export const heapOf: (rt: WasmRuntime) => Heap = perRuntime((rt) => new Heap(rt));

/** Every `SharedArrayBuffer` object a runtime's memory has handed out (one per growth). */
const memoryBuffers = new WeakMap<ArrayBufferLike, WasmRuntime>();

function memoryF32(rt: WasmRuntime): Float32Array {
  const buf = rt.memory.buffer;
  memoryBuffers.set(buf, rt);
  return new Float32Array(buf);
}

/** Blocks behind resident arrays, returned to their heap when the array is collected. */
// NOTE: the held value is the release function, which must not reference the array itself.
const residentBlocks = new FinalizationRegistry<() => void>((release) => release());

/**
 * A block of the wasm memory viewed as `n` float32 values, with `release()` to give it back
 * (once; later calls do nothing).
 * @example
 * const b = allocResidentBlock(1024, 0); b?.release();
 */
export interface ResidentBlock {
  readonly view: Float32Array;
  release(): void;
}

/**
 * A resident block of `n` floats plus `slackBytes` (and 64 more: vector tail loads may read, never
 * use, past an end), zero-filled unless `zero` is false (a kernel output), or null when the runtime is off, unshared (growth would detach the view) or
 * out of memory.
 * @example
 * const block = allocResidentBlock(4096, 0);
 */
export function allocResidentBlock(n: number, slackBytes: number, zero = true): ResidentBlock | null {
  const rt = wasmRuntime();
  if (!rt || !rt.shared || n === 0) return null;
  const heap = heapOf(rt);
  const bytes = n * 4 + slackBytes + 64;
  let at: number;
  try {
    at = heap.alloc(bytes);
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return null;
    throw e;
  }
  const view = new Float32Array(rt.memory.buffer, at, n);
  memoryBuffers.set(rt.memory.buffer, rt);
  if (zero) view.fill(0);
  let live = true;
  return {
    view,
    release: () => {
      if (live) heap.release(at, bytes);
      live = false;
    },
  };
}

/**
 * Whether kernels may put their results in the wasm memory now: a `tg.scope()` is running (so
 * the results have a known end) and the runtime's memory is shared.
 * @example
 * tg.scope(() => inScopeAllocationsEnabled()); // true on Node
 */
export function inScopeAllocationsEnabled(): boolean {
  if (!inScope()) return false;
  const rt = wasmRuntime();
  return rt !== null && rt.shared;
}

/**
 * A zero-filled float32 array that lives inside the wasm memory, for long-lived buffers
 * (parameters, optimizer state): kernels read and write it in place instead of copying it in and
 * out. Only on a shared memory (growth never detaches its views); null when the runtime is off,
 * unshared, or out of memory. The block returns to the heap when the array is collected.
 * @example
 * const m = allocResidentF32(4096) ?? new Float32Array(4096);
 */
export function allocResidentF32(n: number): Float32Array | null {
  const block = allocResidentBlock(n, 0);
  if (!block) return null;
  residentBlocks.register(block.view, block.release);
  return block.view;
}

/**
 * The byte address of `a` in `rt`'s memory when the array lives there (a resident array or a
 * view of one), else null.
 * @example
 * residentAddress(rt, allocResidentF32(8)!); // a 64-byte aligned address
 */
export function residentAddress(rt: WasmRuntime, a: ArrayBufferView): number | null {
  return memoryBuffers.get(a.buffer) === rt ? a.byteOffset : null;
}

/**
 * Scratch space inside the wasm memory. Each top-level operation calls {@link reset} and then
 * {@link alloc}s what it needs. The arena owns one block of the heap and bumps a pointer in it;
 * when an operation needs more, it takes a larger block (the old one is kept until the next
 * reset, so addresses handed out earlier in the operation stay valid).
 * @example
 * const arena = arenaOf(rt);
 * arena.reset();
 * const src = arena.alloc(n * 4);
 * arena.f32.set(data, src / 4);
 */
export class Arena {
  private base = 0;
  private limit = 0;
  private top = 0;
  private retired: [number, number][] = [];
  private f32View: Float32Array;
  private readonly rt: WasmRuntime;
  private readonly heap: Heap;

  constructor(rt: WasmRuntime) {
    this.rt = rt;
    this.heap = heapOf(rt);
    this.f32View = memoryF32(rt);
  }

  reset(): void {
    this.top = this.base;
    for (const [at, bytes] of this.retired) this.heap.release(at, bytes);
    this.retired = [];
  }

  /**
   * Reserve `bytes` (64-byte aligned, so v128 loads never straddle cache lines needlessly).
   * Throws {@link WasmOutOfMemory} when the memory cannot grow that far.
   */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / 64) * 64;
    const top = at + bytes + 64; // NOTE: 64 spare bytes: tail loads may read (never use) past an end
    if (top <= this.limit) {
      this.top = top;
      return at;
    }
    const size = Math.max(2 * (this.limit - this.base), bytes + 128, 1 << 20);
    const block = this.heap.alloc(size);
    if (this.limit > this.base) this.retired.push([this.base, this.limit - this.base]);
    this.base = block;
    this.limit = block + size;
    this.top = block + bytes + 64;
    return block;
  }

  /** The runtime whose memory this arena hands out. */
  get runtime(): WasmRuntime {
    return this.rt;
  }

  /** A Float32Array over the whole memory, refreshed after growth. */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.rt.memory.buffer || this.f32View.length * 4 !== this.rt.memory.buffer.byteLength) {
      this.f32View = memoryF32(this.rt);
    }
    return this.f32View;
  }
}
/**
 * The arena of a runtime (one per runtime; operations are synchronous, so one suffices).
 * @example
 * arenaOf(rt).reset();
 */
export const arenaOf: (rt: WasmRuntime) => Arena = perRuntime((rt) => new Arena(rt));

/**
 * The address a kernel reads `a` at: in place when it is resident in the wasm memory, else a copy
 * in the (reset) arena; null when the arena cannot hold the copy.
 * @example
 * const at = addressOrCopy(rt, grad); // the fused optimizer kernels' gradient operand
 */
export function addressOrCopy(rt: WasmRuntime, a: Float32Array): number | null {
  const at = residentAddress(rt, a);
  if (at !== null) return at;
  const arena = arenaOf(rt);
  try {
    const copy = arena.alloc(a.length * 4);
    arena.f32.set(a, copy / 4);
    return copy;
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return null;
    throw e;
  }
}
