/**
 * The device runtime under the gpu backend: one shared gpu.js `GPU` instance, a kernel cache
 * (LRU, `destroy()` on eviction), and device buffers ("handles") with upload, readback and
 * free. It knows nothing about tensors: the backend (backend.ts) turns ops into kernel sources.
 *
 * Handles are the same on every gpu.js backend: a Float32Array (webasm, cpu), a GL texture or
 * a WebGPU buffer. WebGPU kernels return Promises, so a handle may be pending; kernels that
 * consume pending handles are chained on them, and only readback has to wait.
 */
import type { GpuInstance, GpuKernel, GpuKernelSettings, GpuTexture, GpuValue } from './gpujs-types.js';

/** The gpu.js backends tensorgrad can run on. */
export type GpuBackendKind = 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';

/**
 * gpu.js indexes threads with float32 numbers, so flat index arithmetic is exact only below
 * 2^24 elements (notes §5.5); tensorgrad refuses larger device buffers instead of computing junk.
 */
export const MAX_DEVICE_ELEMENTS = 16_777_216;

/** A compiled kernel in the cache; `live` counts its outputs still alive (see `evict`). */
export interface CachedKernel {
  readonly key: string;
  readonly fn: GpuKernel;
  readonly length: number;
  live: number;
  classChecked: boolean;
}

/** A device buffer of `length` float32 elements. */
export interface Handle {
  readonly length: number;
  /** The buffer once it exists (always, on sync backends). */
  value: GpuValue | null;
  /** Async backends: resolves to the buffer. */
  ready: Promise<GpuValue> | null;
  readonly producer: CachedKernel | null;
  freed: boolean;
  /** Async backends: kernels enqueued on this buffer that have not finished yet. */
  pendingUses: number;
  freeWhenIdle: boolean;
}

/** Counters users and tests can read (`tg.gpu.stats()`). */
export interface RuntimeStats {
  /** Kernels compiled since init (cache misses). */
  compiled: number;
  /** Kernel launches since init. */
  launches: number;
  uploads: number;
  readbacks: number;
  /** Ops computed on the CPU for device tensors (read back, compute, upload). */
  hostFallbacks: number;
  /** Which gpu.js kernel classes actually ran, with launch counts (gpu.js falls back silently). */
  kernelClasses: Record<string, number>;
}

export interface RuntimeOptions {
  readonly kind: GpuBackendKind;
  readonly gpu: GpuInstance;
  /** Whether kernels return their result synchronously (false on WebGPU). */
  readonly sync: boolean;
  /** The class name kernels must run as, e.g. `WebAssemblyKernel`. */
  readonly kernelClass: string;
  readonly cacheSize: number;
  /** How many buffers one kernel may read (GL texture units; WebGPU storage buffers less the output). */
  readonly maxKernelInputs: number;
}

const isPromise = (v: unknown): v is Promise<unknown> => typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

function asValue(v: unknown): GpuValue {
  if (v instanceof Float32Array) return v;
  if (typeof v === 'object' && v !== null && typeof (v as { delete?: unknown }).delete === 'function') return v as GpuTexture;
  throw new Error(`gpu.js returned an unexpected kernel result (${Object.prototype.toString.call(v)})`);
}

function flatten(v: unknown, length: number): Float32Array {
  if (v instanceof Float32Array) return v.length === length ? v : v.slice(0, length);
  if (Array.isArray(v)) {
    const out = new Float32Array(length);
    let p = 0;
    const walk = (x: unknown): void => {
      if (p >= length) return;
      if (typeof x === 'number') out[p++] = x;
      else if (x instanceof Float32Array) for (let i = 0; i < x.length && p < length; i++) out[p++] = x[i]!;
      else if (Array.isArray(x)) for (const y of x) walk(y);
    };
    walk(v);
    return out;
  }
  throw new Error(`gpu.js returned an unexpected readback (${Object.prototype.toString.call(v)})`);
}

export class Runtime {
  readonly kind: GpuBackendKind;
  readonly sync: boolean;
  readonly kernelClass: string;
  readonly gpu: GpuInstance;
  readonly maxKernelInputs: number;
  private readonly cacheSize: number;
  /**
   * Whether destroying a kernel destroys its outputs: gpu.js's GL kernels delete every texture
   * they made (and WebGPU's buffers are treated alike); webasm and cpu kernels return copies.
   */
  private readonly kernelOwnsOutputs: boolean;
  private readonly cache = new Map<string, CachedKernel>();
  private liveBuffers = 0;
  private liveElements = 0;
  private pending = new Set<Promise<unknown>>();
  destroyed = false;
  readonly stats: RuntimeStats = { compiled: 0, launches: 0, uploads: 0, readbacks: 0, hostFallbacks: 0, kernelClasses: {} };

  constructor(o: RuntimeOptions) {
    this.kind = o.kind;
    this.gpu = o.gpu;
    this.sync = o.sync;
    this.kernelClass = o.kernelClass;
    this.cacheSize = o.cacheSize;
    this.maxKernelInputs = o.maxKernelInputs;
    this.kernelOwnsOutputs = o.kind !== 'webasm' && o.kind !== 'cpu';
  }

  /** Live device buffers and their size, and the number of cached kernels. */
  memory(): { buffers: number; bytes: number; kernels: number } {
    return { buffers: this.liveBuffers, bytes: this.liveElements * 4, kernels: this.cache.size };
  }

  /**
   * The cached kernel for `key`, compiling `source` (a `function (a, b) { ... }` string) with a
   * 1-D output of `length` on a miss.
   */
  kernel(key: string, length: number, source: () => string): CachedKernel {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    if (length > MAX_DEVICE_ELEMENTS) throw tooLarge(length);
    const settings: GpuKernelSettings = {
      output: [length],
      precision: 'single',
      tactic: 'precision',
      pipeline: true,
      immutable: true,
      // NOTE: reduction and matmul loops have constant bounds, but gpu.js still caps loops at
      // loopMaxIterations on some backends; raise it past any loop a 2^24-element buffer allows.
      loopMaxIterations: MAX_DEVICE_ELEMENTS,
    };
    // Evict before inserting, so the new kernel (no outputs yet) is never the one destroyed.
    this.evict(this.cacheSize - 1);
    const fn = this.gpu.createKernel(source(), settings);
    const k: CachedKernel = { key, fn, length, live: 0, classChecked: false };
    this.stats.compiled++;
    this.cache.set(key, k);
    return k;
  }

  /** Destroy least-recently-used kernels down to `keep`, skipping any whose live outputs it would destroy. */
  private evict(keep: number): void {
    if (this.cache.size <= keep) return;
    for (const [key, k] of this.cache) {
      if (this.cache.size <= keep) break;
      // NOTE: gpu.js's GL kernels delete every output texture they made when destroyed, even
      // immutable ones still in use (their textureCache), so only idle kernels are destroyed.
      if (k.live > 0 && this.kernelOwnsOutputs) continue;
      this.cache.delete(key);
      k.fn.destroy();
    }
  }

  /** Destroy every idle cached kernel (`tg.gpu.emptyCache()`). */
  emptyCache(): number {
    let n = 0;
    for (const [key, k] of this.cache) {
      if (k.live > 0 && this.kernelOwnsOutputs) continue;
      this.cache.delete(key);
      k.fn.destroy();
      n++;
    }
    return n;
  }

  private newHandle(length: number, producer: CachedKernel | null): Handle {
    this.liveBuffers++;
    this.liveElements += length;
    if (producer) producer.live++;
    return { length, value: null, ready: null, producer, freed: false, pendingUses: 0, freeWhenIdle: false };
  }

  private recordClass(k: CachedKernel): void {
    const name = k.fn.kernel.constructor.name;
    this.stats.kernelClasses[name] = (this.stats.kernelClasses[name] ?? 0) + 1;
    if (!k.classChecked) {
      k.classChecked = true;
      if (name !== this.kernelClass) {
        const why = k.fn.kernel.fallbackReason ? `: ${k.fn.kernel.fallbackReason}` : '';
        throw new Error(`tensorgrad gpu: kernel '${k.key}' ran as ${name}, not ${this.kernelClass}${why}`);
      }
    }
  }

  /** Launch `k` on `args` (device handles, or numbers passed as uniforms). */
  run(k: CachedKernel, args: readonly (Handle | number)[]): Handle {
    this.assertAlive();
    if (args.filter((a) => typeof a !== 'number').length > this.maxKernelInputs) {
      throw new Error(`tensorgrad gpu: kernel '${k.key}' reads more buffers than the ${this.maxKernelInputs} a ${this.kind} kernel may bind`);
    }
    const out = this.newHandle(k.length, k);
    this.stats.launches++;
    const handles = args.filter((a): a is Handle => typeof a !== 'number');
    for (const h of handles) if (h.freed) throw new Error('tensorgrad gpu: a kernel argument was already freed (disposed tensor)');
    if (this.sync) {
      const result = k.fn(...args.map((a) => (typeof a === 'number' ? a : a.value!)));
      this.recordClass(k);
      out.value = asValue(result);
      return out;
    }
    for (const h of handles) h.pendingUses++;
    const ready = Promise.all(args.map((a) => (typeof a === 'number' ? a : (a.value ?? a.ready!)))).then((vals) => {
      const r = k.fn(...vals);
      this.recordClass(k);
      return isPromise(r) ? r.then(asValue) : asValue(r);
    });
    out.ready = ready.then((v) => {
      out.value = v;
      return v;
    });
    const settle = () => {
      for (const h of handles) {
        h.pendingUses--;
        if (h.pendingUses === 0 && h.freeWhenIdle) this.release(h);
      }
    };
    this.track(out.ready.then(settle, settle));
    return out;
  }

  /** Upload a host array through a dedicated kernel that only ever sees host arrays (bug §6.1). */
  upload(data: Float32Array): Handle {
    this.assertAlive();
    if (data.length > MAX_DEVICE_ELEMENTS) throw tooLarge(data.length);
    const k = this.kernel(`upload|${data.length}`, data.length, () => 'function (a) { return a[this.thread.x]; }');
    this.stats.uploads++;
    // NOTE: async backends run the kernel later, so they get a private copy of the host data.
    return this.run(k, [hostArg(this.sync ? data : data.slice())]);
  }

  /** Synchronous readback (throws on WebGPU, whose readback is async only). */
  readSync(h: Handle): Float32Array {
    if (h.freed) throw new Error('tensorgrad gpu: cannot read a disposed tensor');
    if (!this.sync || !h.value) {
      throw new Error(
        `tensorgrad gpu: synchronous readback is not possible on the ${this.kind} backend. ` +
          'Use `await t.data()` (or `await t.array()`) instead of dataSync()/toArray()/item().',
      );
    }
    this.stats.readbacks++;
    const v = h.value;
    if (v instanceof Float32Array) return v.slice(0, h.length);
    return flatten(v.toArray(), h.length);
  }

  /** Readback that works on every backend. */
  async read(h: Handle): Promise<Float32Array> {
    if (h.freed) throw new Error('tensorgrad gpu: cannot read a disposed tensor');
    if (this.sync) return this.readSync(h);
    h.pendingUses++;
    try {
      const v = h.value ?? (await h.ready!);
      this.stats.readbacks++;
      if (v instanceof Float32Array) return v.slice(0, h.length);
      const arr: unknown = v.toArray();
      return flatten(isPromise(arr) ? await arr : arr, h.length);
    } finally {
      h.pendingUses--;
      if (h.pendingUses === 0 && h.freeWhenIdle) this.release(h);
    }
  }

  /** Free a device buffer (deferred until pending kernels that read it have run). */
  free(h: Handle): void {
    if (h.freed || h.freeWhenIdle) return;
    if (h.pendingUses > 0 || (!h.value && h.ready)) {
      h.freeWhenIdle = true;
      if (!h.value && h.ready && h.pendingUses === 0) {
        h.pendingUses++;
        const done = () => {
          h.pendingUses--;
          if (h.pendingUses === 0) this.release(h);
        };
        this.track(h.ready.then(done, done));
      }
      return;
    }
    this.release(h);
  }

  private release(h: Handle): void {
    if (h.freed) return;
    h.freed = true;
    this.liveBuffers--;
    this.liveElements -= h.length;
    if (h.producer) h.producer.live--;
    const v = h.value;
    h.value = null;
    if (v && !(v instanceof Float32Array)) v.delete();
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined);
    this.pending.add(q);
    void q.then(() => this.pending.delete(q));
  }

  /** Wait for every enqueued kernel (`tg.gpu.synchronize()`). */
  async synchronize(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error('tensorgrad gpu: this tensor belongs to a gpu backend that was shut down or replaced by tg.gpu.init(); create it again');
  }

  /** Destroy every kernel and the GPU instance. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const k of this.cache.values()) k.fn.destroy();
    this.cache.clear();
    void Promise.resolve(this.gpu.destroy()).catch(() => undefined);
  }
}

/** A host array as a kernel argument (only ever passed to upload kernels). */
function hostArg(data: Float32Array): Handle {
  return { length: data.length, value: data, ready: null, producer: null, freed: false, pendingUses: 0, freeWhenIdle: false };
}

export function tooLarge(n: number): RangeError {
  return new RangeError(
    `tensorgrad gpu: a tensor of ${n} elements is larger than the ${MAX_DEVICE_ELEMENTS} (2^24) elements a gpu.js kernel indexes exactly ` +
      '(thread indices are float32). Keep it on the CPU, or split it (x.split(...)) and work on the pieces.',
  );
}
