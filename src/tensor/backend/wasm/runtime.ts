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
 * Scratch space inside the wasm memory. Each top-level operation calls {@link reset} and then
 * {@link alloc}s what it needs; the memory grows (never shrinks) to the high-water mark.
 * @example
 * const arena = arenaOf(rt);
 * arena.reset();
 * const src = arena.alloc(n * 4);
 * arena.f32.set(data, src / 4);
 */
export class Arena {
  private top = ARENA_BASE;
  private f32View: Float32Array;
  private readonly rt: WasmRuntime;

  constructor(rt: WasmRuntime) {
    this.rt = rt;
    this.f32View = new Float32Array(rt.memory.buffer);
  }

  reset(): void {
    this.top = ARENA_BASE;
  }

  /**
   * Reserve `bytes` (64-byte aligned, so v128 loads never straddle cache lines needlessly).
   * Throws {@link WasmOutOfMemory} when the memory cannot grow that far.
   */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / 64) * 64;
    const top = at + bytes + 64; // NOTE: 64 spare bytes: tail loads may read (never use) past an end
    const need = top - this.rt.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.rt.memory.grow(Math.ceil(need / PAGE));
      } catch {
        throw new WasmOutOfMemory(top);
      }
    }
    this.top = top;
    return at;
  }

  /** A Float32Array over the whole memory, refreshed after growth. */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.rt.memory.buffer || this.f32View.length * 4 !== this.rt.memory.buffer.byteLength) {
      this.f32View = new Float32Array(this.rt.memory.buffer);
    }
    return this.f32View;
  }
}

const arenas = new WeakMap<WasmRuntime, Arena>();

/**
 * The arena of a runtime (one per runtime; operations are synchronous, so one suffices).
 * @example
 * arenaOf(rt).reset();
 */
export function arenaOf(rt: WasmRuntime): Arena {
  let a = arenas.get(rt);
  if (!a) {
    a = new Arena(rt);
    arenas.set(rt, a);
  }
  return a;
}
