/**
 * `describeEachDevice(title, fn)`: run a suite once per device available here, as candle's
 * `test_device!`. In Node (and CI) that is the CPU backend, the gpu device on gpu.js's
 * WebAssembly backend (float32 kernels, what a GPU computes), the gpu device on gpu.js's `cpu`
 * mode (the same generated kernels run as JavaScript), and, where their drivers exist, the two
 * Node GPU paths: WebGPU through Dawn (`webgpu` package; on a GPU-less Linux host Dawn's OpenGL
 * ES backend on Mesa llvmpipe) and headless-gl (the `gl` package, needs an X display). Each gpu
 * suite ends by asserting the gpu.js kernel class that actually ran, since gpu.js falls back
 * silently (notes §6.10).
 *
 * `TG_GPU_DEVICES=gpu:webgpu,gpu:headlessgl` runs only the listed devices and fails when one
 * cannot start (scripts/gpu-node/run.sh); without it, a Node GPU device whose driver is missing is
 * skipped with its reason printed. headless-gl and Dawn's OpenGL ES backend cannot share a
 * process (notes §3), so one test process runs at most one of them (the first that starts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Device, GpuBackendKind, GpuInitOptions } from '../../src/index.js';
import { useGpu } from './check.js';

export interface DeviceCase {
  readonly name: string;
  readonly device: Device;
  /** How `tg.gpu.init()` starts device 'gpu' for this case (hostThreshold 0: every tensor on the device). */
  readonly init?: GpuInitOptions & { readonly backend: GpuBackendKind };
  /** The gpu.js kernel class every kernel must run as. */
  readonly kernelClass?: string;
  /** Whether results are float32 computed in float32 (looser tolerances than the CPU's). */
  readonly float32Kernels: boolean;
  /** Whether `dataSync()`, `item()` and `toArray()` work (not on WebGPU: `await t.data()`). */
  readonly syncReadback: boolean;
  /** Why the device cannot run here; undefined when it runs. */
  readonly skip?: string;
}

const CANDIDATES: readonly DeviceCase[] = [
  { name: 'cpu', device: 'cpu', float32Kernels: false, syncReadback: true },
  { name: 'gpu:webasm', device: 'gpu', init: { backend: 'webasm', hostThreshold: 0 }, kernelClass: 'WebAssemblyKernel', float32Kernels: true, syncReadback: true },
  { name: 'gpu:cpu', device: 'gpu', init: { backend: 'cpu', hostThreshold: 0 }, kernelClass: 'CPUKernel', float32Kernels: true, syncReadback: true },
  {
    name: 'gpu:webgpu',
    device: 'gpu',
    init: { backend: 'webgpu', dawnBackend: process.env.TG_DAWN_BACKEND ?? 'opengles', allowSoftware: true, hostThreshold: 0 },
    kernelClass: 'WebGPUKernel',
    float32Kernels: true,
    syncReadback: false,
  },
  {
    name: 'gpu:headlessgl',
    device: 'gpu',
    init: { backend: 'headlessgl', allowSoftware: true, hostThreshold: 0 },
    kernelClass: 'HeadlessGLKernel',
    float32Kernels: true,
    syncReadback: true,
  },
];

/** The devices that need a driver: probed by starting them once. */
const PROBED = new Set(['gpu:webgpu', 'gpu:headlessgl']);

async function resolveDevices(): Promise<DeviceCase[]> {
  const listed = process.env.TG_GPU_DEVICES?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = listed?.filter((n) => !CANDIDATES.some((c) => c.name === n)) ?? [];
  if (unknown.length) throw new Error(`TG_GPU_DEVICES names unknown devices: ${unknown.join(', ')} (known: ${CANDIDATES.map((c) => c.name).join(', ')})`);
  const out: DeviceCase[] = [];
  for (const dev of CANDIDATES) {
    if (listed && !listed.includes(dev.name)) continue;
    if (!PROBED.has(dev.name)) {
      out.push(dev);
      continue;
    }
    try {
      await tg.gpu.init(dev.init);
      tg.gpu.shutdown();
      out.push(dev);
    } catch (e) {
      const why = (e as Error).message.replace(/^tensorgrad gpu: /, '');
      if (listed) throw new Error(`TG_GPU_DEVICES asks for ${dev.name}, which cannot start: ${why}`);
      console.log(`[gpu tests] ${dev.name} skipped: ${why}`);
      out.push({ ...dev, skip: why });
    }
  }
  return out;
}

export const DEVICES: readonly DeviceCase[] = await resolveDevices();

/** The gpu devices that run here (for suites written for device 'gpu' only, reading asynchronously). */
export const GPU_DEVICES: readonly DeviceCase[] = DEVICES.filter((d) => d.device === 'gpu');

/** `describe` a suite for one gpu device: start it before, check the kernel class and shut it down after. */
export function describeGpu(title: string, dev: DeviceCase, fn: () => void): void {
  if (dev.skip) {
    describe.skip(`${title} [${dev.name}] (skipped: ${dev.skip})`, fn);
    return;
  }
  describe(`${title} [${dev.name}]`, () => {
    beforeAll(async () => useGpu(dev.init!));
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

export interface EachDeviceOptions {
  /** Only these devices (by name). */
  readonly only?: readonly string[];
  /** The suite reads every value with `await t.data()`, so it runs on WebGPU too. */
  readonly asyncReadback?: boolean;
}

/**
 * Run `fn` once per device (or per device named in `opts`, an array being `only`). Devices
 * without synchronous readback (WebGPU) join only suites declared `asyncReadback`.
 */
export function describeEachDevice(title: string, fn: (dev: DeviceCase) => void, opts: EachDeviceOptions | readonly string[] = {}): void {
  const { only, asyncReadback = false }: EachDeviceOptions = Array.isArray(opts) ? { only: opts as readonly string[] } : (opts as EachDeviceOptions);
  for (const dev of DEVICES) {
    if (only && !only.includes(dev.name)) continue;
    if (!dev.syncReadback && !asyncReadback) continue;
    if (dev.device === 'gpu') describeGpu(title, dev, () => fn(dev));
    else describe(`${title} [${dev.name}]`, () => fn(dev));
  }
}
