/**
 * CPU storage whose elements live in the WebAssembly memory: results of the fast kernels made
 * inside a `tg.scope()`, where their end is known. Kernels read and write them in place (no
 * copies in and out, no fresh pages for the garbage collector); tensors count as references as on
 * the gpu device, so the block returns to the heap when the last tensor is disposed, when the
 * scope that made it returns, or (late) through a FinalizationRegistry backstop.
 */
import type { DType } from '../../dtype.js';
import { Owners } from '../../scope.js';
import type { Storage } from '../backend.js';
import { allocResidentBlock, inScopeAllocationsEnabled, type ResidentBlock } from './runtime.js';

// NOTE: the backstop watches the array, not the storage: a backend may hand a result's array to
// another holder (the gpu device keeps host arrays) without any tensor taking the storage. The
// held value is the release function, which does not reference the array.
const registry = new FinalizationRegistry<() => void>((release) => release());

let suppressed = 0;

/**
 * Run `fn` with results in ordinary arrays even inside a scope: for callers that keep a kernel's
 * array without a tensor owning its storage (the gpu device's host fallbacks keep host arrays),
 * where only the garbage collector could give the block back.
 * @example
 * const view = withoutResidentResults(() => cpuBackend.unary('exp', x, 'float32'));
 */
export function withoutResidentResults<T>(fn: () => T): T {
  suppressed++;
  try {
    return fn();
  } finally {
    suppressed--;
  }
}

/** Arrays made by {@link scopedF32} that no storage has wrapped yet. */
const pending = new WeakMap<Float32Array, ResidentBlock>();

/**
 * Below this many elements results stay ordinary arrays (small blocks gain nothing).
 * @example
 * tg.scope(() => tg.randn([32, 32]).exp()); // 1024 elements: resident
 */
export const RESIDENT_MIN = 1024;

/**
 * A float32 output array of `n` elements: in the WebAssembly memory when a scope is running (and
 * the memory is shared), else an ordinary array. `slackBytes` extra bytes after the end may be
 * written by a kernel (whole vectors, whole GEMM tiles) without harm.
 * @example
 * const out = scopedF32(n);
 * residentAddress(rt, out); // its address, or null for an ordinary array
 */
export function scopedF32(n: number, slackBytes = 0): Float32Array {
  if (n >= RESIDENT_MIN && suppressed === 0 && inScopeAllocationsEnabled()) {
    // NOTE: not zero-filled: every caller writes all n elements.
    const block = allocResidentBlock(n, slackBytes, false);
    if (block) {
      registry.register(block.view, block.release, block);
      pending.set(block.view, block);
      return block.view;
    }
  }
  return new Float32Array(n);
}

/**
 * The storage for a kernel's output array: resident storage for arrays from {@link scopedF32}
 * that live in the WebAssembly memory, null for ordinary arrays.
 * @example
 * const st = adoptScoped(out) ?? { data: out, device: 'cpu', version: 0 };
 */
export function adoptScoped(data: ArrayLike<number>): ResidentStorage | null {
  if (!(data instanceof Float32Array)) return null;
  const block = pending.get(data);
  if (!block) return null;
  pending.delete(data);
  return new ResidentStorage(block);
}

export class ResidentStorage implements Storage {
  readonly device = 'cpu' as const;
  readonly dtype: DType = 'float32';
  version = 0;
  private view: Float32Array | null;
  private block: ResidentBlock | null;
  private readonly owners = new Owners();

  constructor(block: ResidentBlock) {
    this.view = block.view;
    this.block = block;
  }

  get data(): Float32Array {
    if (!this.view) {
      throw new Error('tensorgrad: this tensor was disposed (by dispose(), or by the tg.scope() it was created in); keep it with tg.keep(t) or return it from the scope');
    }
    return this.view;
  }

  /** Whether the block went back to the heap. */
  get freed(): boolean {
    return this.view === null;
  }

  /** A tensor took a reference (called from the Tensor constructor): the scope tracks it. */
  retain(owner: object): void {
    this.owners.retain(owner);
  }

  /** A tensor let go of its reference (`dispose()`, scope end); the last one frees the block. */
  release(owner: object): void {
    if (this.owners.release(owner)) this.free();
  }

  free(): void {
    const block = this.block;
    if (!block) return;
    this.view = null;
    this.block = null;
    registry.unregister(block);
    block.release();
  }
}
