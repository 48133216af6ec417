/** Device -> backend. The CPU backend is always present; other devices register themselves. */
import type { Backend, Device, View } from './backend.js';
import { cpuBackend } from './cpu.js';

const backends = new Map<Device, Backend>([['cpu', cpuBackend]]);

export function registerBackend(b: Backend): void {
  backends.set(b.device, b);
}

export function backendFor(device: Device): Backend {
  const b = backends.get(device);
  if (!b) throw new Error(`device '${device}' is not available`);
  return b;
}

export function backendOf(x: View): Backend {
  return backendFor(x.storage.device);
}
