/**
 * Compare an op on a device with a float64 CPU reference computed from the same float32
 * inputs (notes §9: float32-aware tolerances, never bit-for-bit against another backend).
 * Every value is read with `await t.data()`, so the checks run on WebGPU too, whose readback
 * is asynchronous only.
 */
import { expect } from 'vitest';
import * as tg from '../../src/index.js';
import type { GpuBackendKind, GpuInitOptions, Tensor } from '../../src/index.js';
import { closeMismatch } from '../helpers/close.js';
import type { DeviceCase } from './describe-devices.js';

/**
 * Start the gpu device: a backend name puts every tensor on the device (hostThreshold 0), so even
 * tiny test tensors run as kernels.
 */
export async function useGpu(o: GpuBackendKind | GpuInitOptions): Promise<void> {
  await tg.gpu.init(typeof o === 'string' ? { backend: o, hostThreshold: 0 } : o);
}

/** A CPU copy of `t` (any device), read asynchronously. */
export async function toHost(t: Tensor): Promise<Tensor> {
  return tg.tensor(await t.data(), { shape: t.shape, dtype: t.dtype });
}

/** The value of a one-element tensor on any device (`item()` is synchronous; WebGPU is not). */
export async function itemOf(t: Tensor): Promise<number> {
  return Number((await t.data())[0]);
}

export interface Tol {
  atol?: number;
  rtol?: number;
}

/** Float32-representable values in [lo, hi) from a fixed LCG (reproducible, no global RNG). */
export function values(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(lo + ((hi - lo) * s) / 2 ** 32));
  }
  return out;
}

export interface InputSpec {
  readonly shape: readonly number[];
  readonly lo?: number;
  readonly hi?: number;
  readonly dtype?: 'float32' | 'int32' | 'bool';
}

function make(spec: InputSpec, seed: number, device: tg.Device, float64: boolean, requiresGrad: boolean): Tensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const v = values(n, seed, spec.lo, spec.hi);
  if (spec.dtype === 'int32') return tg.tensor(Int32Array.from(v, Math.floor), { shape: spec.shape, device });
  if (spec.dtype === 'bool') return tg.tensor(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), { shape: spec.shape, device, dtype: 'bool' });
  return tg.tensor(v, { shape: spec.shape, device, dtype: float64 ? 'float64' : 'float32', requiresGrad });
}

const asList = (r: Tensor | readonly Tensor[]): Tensor[] => (Array.isArray(r) ? [...(r as readonly Tensor[])] : [r as Tensor]);

/**
 * Run `fn` on `dev` (float32) and on the CPU in float64; outputs must agree within `tol`.
 * With `grad`, also compare the input gradients of `Σ out · w` for a fixed random `w`.
 */
export async function checkOnDevice(
  dev: DeviceCase,
  specs: readonly InputSpec[],
  fn: (...xs: Tensor[]) => Tensor | readonly Tensor[],
  tol: Tol = {},
  opts: { grad?: boolean } = {},
): Promise<void> {
  const grad = opts.grad ?? false;
  const floatIn = (s: InputSpec) => (s.dtype ?? 'float32') === 'float32';
  const run = (device: tg.Device, float64: boolean) => {
    const xs = specs.map((s, i) => make(s, 17 + 31 * i, device, float64 && floatIn(s), grad && floatIn(s)));
    const outs = asList(fn(...xs));
    let grads: Tensor[] = [];
    if (grad) {
      let total: Tensor | null = null;
      outs.forEach((o, k) => {
        if (!o.isFloatingPoint()) return;
        const w = tg.tensor(values(o.numel(), 99 + k), { shape: o.shape, device, dtype: o.dtype });
        const term = o.mul(w).sum();
        total = total ? total.add(term) : term;
      });
      total!.backward();
      grads = xs.filter((x) => x.requiresGrad).map((x) => x.grad!);
    }
    return { outs, grads };
  };
  const got = run(dev.device, false);
  const want = run('cpu', true);
  const t = dev.float32Kernels ? { atol: 1e-5, rtol: 1e-4, ...tol } : { atol: 1e-5, rtol: 1e-4 };
  const cmp = async (a: Tensor, b: Tensor, what: string) => {
    expect(a.device, what).toBe(dev.device);
    const m = closeMismatch((await toHost(a)).to('float64'), b.to('float64'), t);
    expect(m, what).toBeNull();
  };
  for (const [i, o] of got.outs.entries()) {
    expect(o.dtype === want.outs[i]!.dtype || (o.dtype === 'float32' && want.outs[i]!.dtype === 'float64'), `output ${i} dtype`).toBe(true);
    await cmp(o, want.outs[i]!, `output ${i}`);
  }
  for (const [i, g] of got.grads.entries()) await cmp(g, want.grads[i]!, `grad ${i}`);
}
