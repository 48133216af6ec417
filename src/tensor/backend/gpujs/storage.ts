/**
 * Storage of tensors on the gpu device. It lives in one of two places:
 * - on the device: a gpu.js buffer (`handle`), float32 whatever the dtype (int32 and bool are
 *   exact as floats below 2^24);
 * - on the host: small tensors and float64 (gpu.js is float32 only) keep a TypedArray and run on
 *   the CPU kernels; they are uploaded when an op mixes them with device tensors.
 *
 * Tensors count as references (`retain`/`release`); the device buffer is freed when the last one
 * is disposed, when the scope that created it ends, or by a FinalizationRegistry backstop.
 */
import type { DType, TypedArray } from '../../dtype.js';
import type { Storage } from '../backend.js';
import { Owners, trackInScope, type Disposable } from '../../scope.js';
import type { Handle, Runtime } from './runtime.js';

/** What the finalizer frees: shared with the storage so in-place swaps update it. */
interface Cell {
  runtime: Runtime;
  handle: Handle | null;
}

const registry = new FinalizationRegistry<Cell>((cell) => {
  if (cell.handle && !cell.runtime.destroyed) cell.runtime.free(cell.handle);
  cell.handle = null;
});

export class GpuStorage implements Storage, Disposable {
  readonly device = 'gpu' as const;
  version = 0;
  readonly dtype: DType;
  readonly length: number;
  readonly runtime: Runtime;
  private hostData: TypedArray | null;
  private readonly cell: Cell;
  private readonly owners = new Owners();
  freed = false;

  private constructor(runtime: Runtime, dtype: DType, length: number, host: TypedArray | null, handle: Handle | null) {
    this.runtime = runtime;
    this.dtype = dtype;
    this.length = length;
    this.hostData = host;
    this.cell = { runtime, handle: null };
    if (handle) this.setHandle(handle);
  }

  /** Storage holding a host array (small tensors, float64). */
  static onHost(runtime: Runtime, data: TypedArray, dtype: DType): GpuStorage {
    return new GpuStorage(runtime, dtype, data.length, data, null);
  }

  /** Storage owning a device buffer. */
  static onDevice(runtime: Runtime, handle: Handle, dtype: DType): GpuStorage {
    return new GpuStorage(runtime, dtype, handle.length, null, handle);
  }

  get handle(): Handle | null {
    return this.cell.handle;
  }

  /** The host array, for storage that lives on the host (the CPU kernels read it). */
  get data(): TypedArray {
    if (this.hostData) return this.hostData;
    this.assertLive();
    throw new Error(
      'tensorgrad gpu: this tensor lives in device memory; read it through the tensor (`await t.data()`, `t.dataSync()`) ' +
        'or move it with `t.cpu()`',
    );
  }

  get onHost(): boolean {
    return this.hostData !== null;
  }

  assertLive(): void {
    if (this.freed) {
      throw new Error('tensorgrad gpu: this tensor was disposed (by dispose(), or by the tg.scope() it was created in); keep it with tg.keep(t) or return it from the scope');
    }
  }

  /** Replace the contents with a new device buffer (in-place ops swap buffers; gpu.js outputs are immutable). */
  setHandle(h: Handle): void {
    const old = this.cell.handle;
    this.cell.handle = h;
    this.hostData = null;
    if (old) this.runtime.free(old);
    else {
      registry.register(this, this.cell, this.cell);
      // Storage made inside a scope is freed when the scope ends if no tensor took it over.
      trackInScope(this);
    }
  }

  /** A tensor took a reference (called from the Tensor constructor). */
  retain(owner: object): void {
    this.owners.retain(owner);
  }

  /** A tensor let go of its reference (`dispose()`); the last one frees the buffer. */
  release(owner: object): void {
    if (this.owners.release(owner)) this.free();
  }

  /** Scope end: free if no tensor holds this storage (an op's internal intermediate). */
  dispose(): void {
    if (this.owners.count <= 0) this.free();
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.hostData = null;
    const h = this.cell.handle;
    this.cell.handle = null;
    registry.unregister(this.cell);
    if (h && !this.runtime.destroyed) this.runtime.free(h);
  }
}

export function isGpuStorage(s: Storage): s is GpuStorage {
  return s instanceof GpuStorage;
}
