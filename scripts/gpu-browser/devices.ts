/**
 * test/gpu/devices.ts for the browser (run.mjs swaps it in when bundling the vitest suites): the
 * same exports, with the devices of this page: the CPU backend and device 'gpu' on the backend
 * named in the URL (`?backend=webgl2|webgpu|webasm`), started with `allowSoftware` (SwiftShader)
 * and hostThreshold 0 so every tensor runs as kernels. Suites not declared `asyncReadback` skip
 * WebGPU, as in Node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { GpuBackendKind } from '../../src/index.js';
import type { DeviceCase, EachDeviceOptions } from '../../test/gpu/devices.js';

export type { DeviceCase, EachDeviceOptions };

const backend = (new URLSearchParams(location.search).get('backend') ?? 'webgl2') as GpuBackendKind;
const KERNEL_CLASS: Partial<Record<GpuBackendKind, string>> = { webgl2: 'WebGL2Kernel', webgl: 'WebGLKernel', webgpu: 'WebGPUKernel', webasm: 'WebAssemblyKernel' };

export const DEVICES: readonly DeviceCase[] = [
  { name: 'cpu', device: 'cpu', float32Kernels: false, syncReadback: true },
  {
    name: `gpu:${backend}`,
    device: 'gpu',
    init: { backend, allowSoftware: true, hostThreshold: 0 },
    kernelClass: KERNEL_CLASS[backend],
    float32Kernels: true,
    syncReadback: backend !== 'webgpu',
  },
];

export const GPU_DEVICES: readonly DeviceCase[] = DEVICES.filter((d) => d.device === 'gpu');

export function describeGpu(title: string, dev: DeviceCase, fn: () => void): void {
  describe(`${title} [${dev.name}]`, () => {
    beforeAll(async () => void (await tg.gpu.init(dev.init!)));
    afterAll(() => tg.gpu.shutdown());
    fn();
    it(`ran every kernel as ${dev.kernelClass}`, async () => {
      await tg.gpu.synchronize();
      const stats = tg.gpu.stats();
      expect(Object.keys(stats.kernelClasses)).toEqual([dev.kernelClass]);
      expect(stats.launches).toBeGreaterThan(0);
    });
  });
}

export function describeEachDevice(title: string, fn: (dev: DeviceCase) => void, opts: EachDeviceOptions | readonly string[] = {}): void {
  const { only, asyncReadback = false }: EachDeviceOptions = Array.isArray(opts) ? { only: opts as readonly string[] } : (opts as EachDeviceOptions);
  for (const dev of DEVICES) {
    if (only && !only.includes(dev.name)) continue;
    if (!dev.syncReadback && !asyncReadback) continue;
    if (dev.device === 'gpu') describeGpu(title, dev, () => fn(dev));
    else describe(`${title} [${dev.name}]`, () => fn(dev));
  }
}
