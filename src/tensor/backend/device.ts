/** Device -> backend. The CPU backend is always present; other devices register themselves. */
import type { Backend, Device, View } from './backend.js';
import { cpuBackend } from './cpu.js';
import { cpuConvKernels } from './cpu-conv.js';

// NOTE: the sliding-window kernels live in their own file and join the CPU backend here.
const backends = new Map<Device, Backend>([['cpu', { ...cpuBackend, ...cpuConvKernels }]]);

export function registerBackend(b: Backend): void {
  backends.set(b.device, b);
}

/** Remove a device's backend (the gpu device on `tg.gpu.shutdown()`). */
export function unregisterBackend(device: Device): void {
  if (device !== 'cpu') backends.delete(device);
}

export function backendFor(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    if (device === 'gpu') throw new Error("device 'gpu' is not initialised: call `await tg.gpu.init()` first");
    throw new Error(`device '${device}' is not available`);
  }
  return b;
}

/**
 * The gpu device's implementation (tensorgrad's kernels, and gpu.js through it), imported on the
 * first `tg.gpu.init()` so CPU-only users load none of it.
 */
export const loadGpuDevice = () => import('./gpujs/device.js');

export function backendOf(x: View): Backend {
  return backendFor(x.storage.device);
}
