/**
 * `describeEachDevice(title, fn)`: run a suite once per device available here, as candle's
 * `test_device!`. In Node (and CI) that is the CPU backend, the gpu device on gpu.js's
 * WebAssembly backend (float32 kernels, what a GPU computes), and the gpu device on gpu.js's
 * `cpu` mode (the same generated kernels run as JavaScript). Each gpu suite ends by asserting
 * the gpu.js kernel class that actually ran, since gpu.js falls back silently (notes §6.10).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Device, GpuBackendKind } from '../../src/index.js';

export interface DeviceCase {
  readonly name: string;
  readonly device: Device;
  /** The gpu.js backend behind device 'gpu'. */
  readonly backend?: GpuBackendKind;
  /** Whether results are float32 computed in float32 (looser tolerances than the CPU's). */
  readonly float32Kernels: boolean;
}

export const DEVICES: readonly DeviceCase[] = [
  { name: 'cpu', device: 'cpu', float32Kernels: false },
  { name: 'gpu:webasm', device: 'gpu', backend: 'webasm', float32Kernels: true },
  { name: 'gpu:cpu', device: 'gpu', backend: 'cpu', float32Kernels: true },
];

const KERNEL_CLASS: Partial<Record<GpuBackendKind, string>> = { webasm: 'WebAssemblyKernel', cpu: 'CPUKernel' };

/**
 * Start the gpu device for `backend` with every tensor on the device (hostThreshold 0), so even
 * tiny test tensors run as kernels.
 */
export async function useGpu(backend: GpuBackendKind): Promise<void> {
  await tg.gpu.init({ backend, hostThreshold: 0 });
}

export function describeEachDevice(title: string, fn: (dev: DeviceCase) => void, only?: readonly string[]): void {
  for (const dev of DEVICES) {
    if (only && !only.includes(dev.name)) continue;
    describe(`${title} [${dev.name}]`, () => {
      if (dev.device === 'gpu') {
        beforeAll(async () => useGpu(dev.backend!));
        afterAll(() => tg.gpu.shutdown());
      }
      fn(dev);
      if (dev.device === 'gpu') {
        it(`ran every kernel as ${KERNEL_CLASS[dev.backend!]}`, () => {
          const stats = tg.gpu.stats();
          expect(Object.keys(stats.kernelClasses)).toEqual([KERNEL_CLASS[dev.backend!]]);
          expect(stats.launches).toBeGreaterThan(0);
        });
      }
    });
  }
}
