/**
 * SGD and Adam/AdamW steps for parameters on the gpu device, as fused gpu.js kernels
 * (src/tensor/backend/gpujs/optim-kernels.ts): the parameter and the optimizer state stay in
 * device memory, and nothing is read back. The arithmetic is the host update's (`sgdUpdate`,
 * `adamUpdate`), in float32.
 *
 * A gpu.js kernel writes one buffer, so a step is two kernels: one writes the state (Adam's
 * `expAvg`, `expAvgSq` and AMSGrad's `maxExpAvgSq` packed end to end in one buffer, the state
 * tensors being views of it), one writes the parameter from the new state. SGD without momentum
 * is one kernel. From the second step on, the same state tensors take the new buffers, as
 * PyTorch updates state in place; the first step (or the first after `loadStateDict`) makes the
 * packed state tensors.
 *
 * The optimizers call this first thing in `updateParam`:
 * @example
 * if (onDevice(p, grad)) return sgdStepOnDevice(p, grad, s, o);
 */
import type { View } from '../tensor/backend/backend.js';
import { backendOf } from '../tensor/backend/device.js';
import type { GpuBackend } from '../tensor/backend/gpujs/backend.js';
import * as OK from '../tensor/backend/gpujs/optim-kernels.js';
import { MAX_DEVICE_ELEMENTS, type Handle } from '../tensor/backend/gpujs/runtime.js';
import { GpuStorage } from '../tensor/backend/gpujs/storage.js';
import { zerosLike } from '../tensor/creation.js';
import { contiguousStrides, numel } from '../tensor/shape.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import type { AdamOptions, AdamState } from './adam.js';
import type { SGDOptions, SGDState } from './sgd.js';

const resident = (t: Tensor) => t.storage instanceof GpuStorage && t.storage.handle !== null;

/**
 * Whether a step on `p` runs on the device: a float32 parameter on device 'gpu' whose data or
 * gradient is in device memory. (Small tensors that live on the host with their gradient, and
 * float64 ones, which gpu.js cannot hold, take the host update.)
 */
export function onDevice(p: Tensor, grad: Tensor): boolean {
  return p.device === 'gpu' && p.dtype === 'float32' && grad.dtype === 'float32' && (resident(p) || resident(grad));
}

function gpuBackend(p: Tensor): GpuBackend {
  const be = backendOf(p) as Partial<GpuBackend>;
  if (!be.launchKernel || !be.runtime) throw new Error(`tensorgrad gpu: device '${p.device}' has no gpu.js kernels`);
  return be as GpuBackend;
}

/** A kernel operand that knows its tensor (to hand its buffer to the launch). */
interface DeviceOperand extends OK.Operand {
  readonly view: View;
}

function operand(be: GpuBackend, t: Tensor): DeviceOperand {
  if (t.device !== 'gpu') {
    throw new Error(
      `optimizer state is on '${t.device}' but its parameter is on 'gpu' (the model moved after the optimizer stepped); ` +
        'move the state with opt.loadStateDict(opt.stateDict()), which places it like each parameter',
    );
  }
  return { buffer: t.storage, layout: be.argLayout(t), view: t };
}

/** Launch `spec` with its buffers (from `ops`) and number arguments (from `numbers`). */
function run(be: GpuBackend, spec: OK.FusedSpec, ops: Readonly<Record<string, DeviceOperand>>, numbers: Readonly<Record<string, number>>): Handle {
  const all = Object.values(ops);
  const views = spec.buffers.map((b) => all.find((o) => o.buffer === b)!.view);
  return be.launchKernel(spec, views, spec.uniforms.map((u) => numbers[u]!));
}

/** Whether `t` covers its whole storage, row-major from offset 0 (then swapping the buffer updates it). */
const wholeStorage = (t: Tensor) => t.storage instanceof GpuStorage && t.offset === 0 && t.isContiguous() && t.numel() === t.storage.length;

/** Make `h` (the new values, contiguous) the contents of the parameter `p`, in place. */
function writeParam(be: GpuBackend, p: Tensor, h: Handle): void {
  const s = p.storage as GpuStorage;
  if (wholeStorage(p)) s.setHandle(h);
  else {
    // A parameter that is a view into a larger buffer: write the view's elements only.
    const tmp = GpuStorage.onDevice(be.runtime, h, 'float32');
    be.copyInto(p, { storage: tmp, shape: p.shape, strides: contiguousStrides(p.shape), offset: 0, dtype: 'float32' });
    tmp.free();
  }
  s.version++;
}

/**
 * State tensors for `old.length` segments of `shape` packed end to end in `h`: the old tensors,
 * whose storage takes the new buffer, when they already are exactly that packing (every step
 * after the first); else new views of a new storage, kept past any `tg.scope()`. Old state that
 * was replaced is disposed (the optimizer owns its state).
 */
function adoptState(be: GpuBackend, h: Handle, shape: readonly number[], old: readonly (Tensor | undefined)[]): Tensor[] {
  const n = numel(shape);
  const s0 = old[0]?.storage;
  const packed =
    s0 instanceof GpuStorage && !s0.freed && s0.length === n * old.length &&
    old.every((t, k) => t !== undefined && t.storage === s0 && t.offset === k * n && t.isContiguous());
  if (packed) {
    s0.setHandle(h);
    s0.version++;
    return old as Tensor[];
  }
  const storage = GpuStorage.onDevice(be.runtime, h, 'float32');
  const strides = contiguousStrides(shape);
  const fresh = old.map((_, k) => keep(Tensor.fromView({ storage, shape: [...shape], strides, offset: k * n, dtype: 'float32' })));
  for (const t of new Set(old)) t?.dispose();
  return fresh;
}

/** SGD (`sgdUpdate`) on the device: one kernel without momentum, else the buffer's and the parameter's. */
export function sgdStepOnDevice(p: Tensor, grad: Tensor, s: SGDState | undefined, o: SGDOptions): SGDState {
  const be = gpuBackend(p);
  const flags: OK.SgdFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0, nesterov: o.nesterov };
  const numbers = { wd: o.weightDecay, momentum: o.momentum, keep: 1 - o.dampening, lr: o.lr };
  const ops = { p: operand(be, p), g: operand(be, grad) };
  if (o.momentum === 0) {
    writeParam(be, p, run(be, OK.sgdParam(p.shape, ops, flags, false), ops, numbers));
    return s ?? { momentumBuffer: null };
  }
  const old = s?.momentumBuffer ?? null;
  const bufOps = old ? { ...ops, buf: operand(be, old) } : ops;
  const h = run(be, OK.sgdBuffer(p.shape, bufOps, flags, old === null), bufOps, numbers);
  const [buffer] = adoptState(be, h, p.shape, [old ?? undefined]);
  const paramOps = { ...ops, buf: operand(be, buffer!) };
  writeParam(be, p, run(be, OK.sgdParam(p.shape, paramOps, flags, true), paramOps, numbers));
  return { momentumBuffer: buffer! };
}

/** Adam/AdamW (`adamUpdate`) on the device: the packed state's kernel, then the parameter's. */
export function adamStepOnDevice(p: Tensor, grad: Tensor, s: AdamState | undefined, o: AdamOptions): AdamState {
  const be = gpuBackend(p);
  const [beta1, beta2] = o.betas;
  const step = (s?.step ?? 0) + 1;
  const decoupled = o.decoupledWeightDecay;
  const flags: OK.AdamFlags = { maximize: o.maximize, coupledDecay: !decoupled && o.weightDecay !== 0, amsgrad: o.amsgrad };
  const numbers = {
    wd: o.weightDecay, b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2,
    decay: 1 - o.lr * o.weightDecay, negStep: -o.lr / (1 - beta1 ** step), bc2: Math.sqrt(1 - beta2 ** step), eps: o.eps,
  };
  const segments: OK.AdamSegment[] = o.amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'];
  // AMSGrad switched on after some steps starts its running max at zero, as the host update does.
  const old = s ? { m: s.expAvg, v: s.expAvgSq, vmax: o.amsgrad ? (s.maxExpAvgSq ?? keep(zerosLike(p))) : undefined } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  if (old) for (const k of segments) ops[k] = operand(be, old[k]!);
  // Pack as many segments per kernel as a buffer may hold (all of them below 2^24 / 3 elements).
  const perKernel = Math.max(1, Math.floor(MAX_DEVICE_ELEMENTS / p.numel()));
  const groups: OK.AdamSegment[][] = [];
  for (let k = 0; k < segments.length; k += perKernel) groups.push(segments.slice(k, k + perKernel));
  // Every state kernel reads the old state, so all are launched before any buffer is replaced.
  const handles = groups.map((g) => run(be, OK.adamState(p.shape, ops, flags, old === null, g), ops, numbers));
  const next: Partial<Record<OK.AdamSegment, Tensor>> = {};
  groups.forEach((g, i) => adoptState(be, handles[i]!, p.shape, g.map((k) => old?.[k])).forEach((t, j) => (next[g[j]!] = t)));
  const paramOps = { p: ops['p']!, m: operand(be, next.m!), vhat: operand(be, o.amsgrad ? next.vmax! : next.v!) };
  writeParam(be, p, run(be, OK.adamParam(p.shape, paramOps, decoupled), paramOps, numbers));
  const state: AdamState = s ?? { step, expAvg: next.m!, expAvgSq: next.v! };
  state.step = step;
  state.expAvg = next.m!;
  state.expAvgSq = next.v!;
  if (next.vmax) state.maxExpAvgSq = next.vmax;
  return state;
}
