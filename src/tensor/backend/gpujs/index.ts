/**
 * `tg.gpu`: start the gpu device and inspect it. Nothing here loads gpu.js until `init()`.
 *
 * @example
 * import * as tg from 'tensorgrad';
 * const info = await tg.gpu.init();             // best backend here; see docs/gpu.md
 * const x = tg.randn([512, 512], { device: 'gpu' });
 * const y = x.matmul(x).relu();                 // runs as gpu.js kernels, stays on the device
 * console.log(info.backend, await y.sum().data());
 */
import { loadGpuDevice, registerBackend, unregisterBackend } from '../device.js';
import type { GpuBackend } from './backend.js';
import type { GpuBackendKind, RuntimeStats } from './runtime.js';
import type { StartOptions } from './device.js';

export type { GpuBackendKind, RuntimeStats } from './runtime.js';

/** Options of `tg.gpu.init()`. */
export interface GpuInitOptions extends StartOptions {}

/** What `tg.gpu.info()` reports. */
export interface GpuInfo {
  /** The gpu.js backend in use. */
  readonly backend: GpuBackendKind;
  /** The gpu.js kernel class every kernel must run as (checked at each kernel's first launch). */
  readonly kernelClass: string;
  /** GL renderer / WebGPU adapter description, or the CPU for webasm and cpu. */
  readonly renderer: string;
  /** True for software renderers (SwiftShader, llvmpipe) and the CPU backends (webasm, cpu). */
  readonly software: boolean;
  /** Whether `dataSync()`, `toArray()` and `item()` work (false on WebGPU: use `await t.data()`). */
  readonly syncReadback: boolean;
  /** Tensors with fewer elements live on the host and run on the CPU kernels. */
  readonly hostThreshold: number;
  /** The largest tensor the device holds (2^24 elements: gpu.js indexes threads with float32). */
  readonly maxElements: number;
}

/** Live device memory, as tensorgrad counts it. */
export interface GpuMemory {
  /** Device buffers alive (tensors, and buffers held by pending kernels). */
  readonly buffers: number;
  readonly bytes: number;
  /** Compiled kernels in the cache. */
  readonly kernels: number;
}

let current: { backend: GpuBackend; info: GpuInfo } | null = null;

function active(): { backend: GpuBackend; info: GpuInfo } {
  if (!current) throw new Error("device 'gpu' is not initialised: call `await tg.gpu.init()` first");
  return current;
}

/** Start (or restart) the gpu device and register it as device 'gpu'. */
async function init(opts: GpuInitOptions = {}): Promise<GpuInfo> {
  if (current) shutdown();
  const { start, HOST_THRESHOLD } = await loadGpuDevice();
  const { backend, renderer, software } = await start(opts);
  const rt = backend.runtime;
  const info: GpuInfo = {
    backend: rt.kind,
    kernelClass: rt.kernelClass,
    renderer,
    software,
    syncReadback: rt.sync,
    hostThreshold: opts.hostThreshold ?? HOST_THRESHOLD[rt.kind],
    maxElements: 16_777_216,
  };
  current = { backend, info };
  registerBackend(backend);
  return info;
}

/** Destroy every kernel and the gpu.js instance; existing gpu tensors become unusable. */
function shutdown(): void {
  if (!current) return;
  current.backend.runtime.destroy();
  unregisterBackend('gpu');
  current = null;
}

/**
 * The gpu device (`tg.gpu`), in the spirit of `torch.cuda`: `init`, `isAvailable`, `info`,
 * `memory`, `emptyCache`, `synchronize`.
 * @example
 * await tg.gpu.init({ backend: 'webasm' });
 * tg.gpu.memory().buffers;   // live device buffers
 */
export const gpu = {
  init,
  shutdown,
  /** True once `init()` succeeded (as `torch.cuda.is_available()`, after initialisation). */
  isAvailable: (): boolean => current !== null,
  /** Which backend runs, on what renderer, and whether synchronous readback works. */
  info: (): GpuInfo => active().info,
  /** Live device buffers and bytes, and cached kernels. */
  memory: (): GpuMemory => active().backend.runtime.memory(),
  /** Kernel launches, compiles, uploads, readbacks, CPU fallbacks and the kernel classes that ran. */
  stats: (): RuntimeStats => {
    const s = active().backend.runtime.stats;
    return { ...s, kernelClasses: { ...s.kernelClasses } };
  },
  /** Destroy idle cached kernels (`torch.cuda.empty_cache()`); returns how many. */
  emptyCache: (): number => active().backend.runtime.emptyCache(),
  /** Wait for every enqueued kernel (`torch.cuda.synchronize()`); only WebGPU queues work. */
  synchronize: (): Promise<void> => (current ? current.backend.runtime.synchronize() : Promise.resolve()),
  /** Change the host-residency threshold (elements) for tensors created from now on. */
  setHostThreshold: (n: number): void => {
    const c = active();
    c.backend.hostThreshold = n;
    c.info = { ...c.info, hostThreshold: n };
  },
};
