/**
 * test/gpu/devices.ts for the browser (run.mjs swaps it in when bundling the vitest suites): the
 * same exports, with the devices of this page: the CPU backend and device 'gpu' on the backend
 * named in the URL (`?backend=webgl2|webgpu|webasm`), started with `allowSoftware` (SwiftShader)
 * and hostThreshold 0 so every tensor runs as kernels. Suites not declared `asyncReadback` skip
 * WebGPU, as in Node. The describe helpers are test/gpu/describe-devices.ts's.
 */
import type { GpuBackendKind } from '../../src/index.js';
import { deviceDescribers, type DeviceCase } from '../../test/gpu/describe-devices.js';

export type { DeviceCase, EachDeviceOptions } from '../../test/gpu/describe-devices.js';

const backend = (new URLSearchParams(location.search).get('backend') ?? 'webgl2') as GpuBackendKind;
const KERNEL_CLASS: Partial<Record<GpuBackendKind, string>> = { webgl2: 'WebGL2Kernel', webgl: 'WebGLKernel', webgpu: 'WebGPUKernel', webasm: 'WebAssemblyKernel' };
const kernelClass = KERNEL_CLASS[backend];
if (kernelClass === undefined) throw new Error(`the browser device suites run on ${Object.keys(KERNEL_CLASS).join(', ')}, not '${backend}'`);

export const DEVICES: readonly DeviceCase[] = [
  { name: 'cpu', device: 'cpu', float32Kernels: false, syncReadback: true },
  {
    name: `gpu:${backend}`,
    device: 'gpu',
    init: { backend, allowSoftware: true, hostThreshold: 0 },
    kernelClass,
    float32Kernels: true,
    syncReadback: backend !== 'webgpu',
  },
];

export const GPU_DEVICES: readonly DeviceCase[] = DEVICES.filter((d) => d.device === 'gpu');

export const { describeGpu, describeEachDevice } = deviceDescribers(DEVICES);
