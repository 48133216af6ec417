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
import * as tg from '../../src/index.js';
import { deviceDescribers, type DeviceCase } from './describe-devices.js';

export type { DeviceCase, EachDeviceOptions } from './describe-devices.js';


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

/** `describe` a suite for one gpu device (start it before, check the kernel class, shut it down after), or once per device here. */
export const { describeGpu, describeEachDevice } = deviceDescribers(DEVICES);
