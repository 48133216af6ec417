/**
 * Starting the gpu device: load gpu.js, pick a backend, build the runtime and the Backend.
 * Imported lazily by `loadGpuDevice()` (device.ts), so CPU-only users never load it.
 */
import { createGpuBackend, type GpuBackend } from './backend.js';
import { Runtime, type GpuBackendKind } from './runtime.js';
import { loadGpuJs, selectBackend, type SelectOptions } from './select.js';

export interface StartOptions extends SelectOptions {
  readonly hostThreshold?: number;
  readonly kernelCacheSize?: number;
  /** Node + `webgpu` package only: Dawn's backend, e.g. 'vulkan' or 'opengles' (notes §3). */
  readonly dawnBackend?: string;
}

export interface Started {
  readonly backend: GpuBackend;
  readonly renderer: string;
  readonly software: boolean;
}

/**
 * Tensors below this many elements start on the host (CPU kernels), per backend: where a CPU
 * kernel finishes within a launch's fixed cost. Measured (docs/gpu.md): a webasm launch costs
 * 0.017 ms even on 1K elements, a CPU add on 16K elements 0.024 ms; GL and WebGPU launches cost
 * 0.1 to 3 ms (notes §5.4), more than a CPU kernel on 2^14 elements.
 */
export const HOST_THRESHOLD: Record<GpuBackendKind, number> = {
  webasm: 16384,
  cpu: 16384,
  headlessgl: 16384,
  webgl2: 16384,
  webgl: 16384,
  webgpu: 16384,
};

/**
 * Compiled kernels kept per backend. A webasm kernel owns a WebAssembly.Memory, and Chromium's V8
 * sandbox fits only about a hundred of those (the browser suite failed at 124 kernels with
 * `WebAssembly.Memory(): could not allocate memory`); recompiling one costs 1 to 2 ms.
 */
export const KERNEL_CACHE_SIZE: Record<GpuBackendKind, number> = {
  webasm: 64,
  cpu: 256,
  headlessgl: 256,
  webgl2: 256,
  webgl: 256,
  webgpu: 256,
};

export async function start(opts: StartOptions): Promise<Started> {
  const mod = await loadGpuJs();
  const sel = await selectBackend(mod, opts);
  const runtime = new Runtime({
    kind: sel.kind,
    gpu: sel.gpu,
    sync: sel.kind !== 'webgpu',
    kernelClass: sel.kernelClass,
    cacheSize: opts.kernelCacheSize ?? KERNEL_CACHE_SIZE[sel.kind],
    maxKernelInputs: sel.maxKernelInputs,
  });
  const backend = createGpuBackend(runtime, { hostThreshold: opts.hostThreshold ?? HOST_THRESHOLD[sel.kind] });
  return { backend, renderer: sel.renderer, software: sel.software };
}
