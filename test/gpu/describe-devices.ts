/**
 * The device-suite helpers shared by Node (test/gpu/devices.ts, whose devices are probed here)
 * and headless Chromium (scripts/gpu-browser/devices.ts, whose device is the page's backend):
 * `deviceDescribers(devices)` gives `describeGpu` and `describeEachDevice` over that list.
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

export interface EachDeviceOptions {
  /** Only these devices (by name). */
  readonly only?: readonly string[];
  /** The suite reads every value with `await t.data()`, so it runs on WebGPU too. */
  readonly asyncReadback?: boolean;
}

/** `describeGpu` and `describeEachDevice` over `devices`. */
export function deviceDescribers(devices: readonly DeviceCase[]): {
  describeGpu: (title: string, dev: DeviceCase, fn: () => void) => void;
  describeEachDevice: (title: string, fn: (dev: DeviceCase) => void, opts?: EachDeviceOptions | readonly string[]) => void;
} {
  /** `describe` a suite for one gpu device: start it before, check the kernel class and shut it down after. */
  function describeGpu(title: string, dev: DeviceCase, fn: () => void): void {
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

  /**
   * Run `fn` once per device (or per device named in `opts`, an array being `only`). Devices
   * without synchronous readback (WebGPU) join only suites declared `asyncReadback`.
   */
  function describeEachDevice(title: string, fn: (dev: DeviceCase) => void, opts: EachDeviceOptions | readonly string[] = {}): void {
    const { only, asyncReadback = false }: EachDeviceOptions = Array.isArray(opts) ? { only: opts as readonly string[] } : (opts as EachDeviceOptions);
    for (const dev of devices) {
      if (only && !only.includes(dev.name)) continue;
      if (!dev.syncReadback && !asyncReadback) continue;
      if (dev.device === 'gpu') describeGpu(title, dev, () => fn(dev));
      else describe(`${title} [${dev.name}]`, () => fn(dev));
    }
  }
  return { describeGpu, describeEachDevice };
}
