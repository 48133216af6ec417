/**
 * SGD, Adam/AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta, ASGD and Rprop steps for parameters on the gpu device, as fused gpu.js kernels
 * (src/tensor/backend/gpujs/optim-kernels.ts): the parameter and the optimizer state stay in
 * device memory, and nothing is read back. The arithmetic is the host update's (`sgdUpdate`,
 * `adamUpdate`, `rmspropUpdate`, ...), in float32.
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
import type { AdadeltaOptions, AdadeltaState } from './adadelta.js';
import type { AdagradOptions, AdagradState } from './adagrad.js';
import type { AdamOptions, AdamState } from './adam.js';
import type { AdamaxOptions, AdamaxState } from './adamax.js';
import type { ASGDOptions, ASGDState } from './asgd.js';
import { asgdSchedule, nadamMu } from './step-schedules.js';
import type { NAdamOptions, NAdamState } from './nadam.js';
import type { RAdamOptions, RAdamState } from './radam.js';
import type { RMSpropOptions, RMSpropState } from './rmsprop.js';
import type { RpropOptions, RpropState } from './rprop.js';
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

/**
 * The parameter's state after a step: `s` updated in place with `fields` (PyTorch keeps one state
 * object per parameter, which `stateDict` reads), or `fields` on the first step.
 */
function renewState<S extends object>(s: S | undefined, fields: S): S {
  return s ? Object.assign(s, fields) : fields;
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
  return renewState(s, { step, expAvg: next.m!, expAvgSq: next.v!, ...(next.vmax && { maxExpAvgSq: next.vmax }) });
}

/**
 * The state half of a step: launch `spec` over `segments` (the state buffers, by operand name),
 * as many packed per kernel as a buffer may hold, every kernel before any buffer is replaced (each
 * reads the old state), and return the new state tensors by name. `old` is null on the first
 * step (the kernels then start from zeros or the initial value); `ops` takes its operands.
 */
function packedState<S extends string>(
  be: GpuBackend, p: Tensor, ops: Record<string, DeviceOperand>, segments: readonly S[], old: Readonly<Partial<Record<S, Tensor | undefined>>> | null,
  spec: (group: readonly S[]) => OK.FusedSpec, numbers: Readonly<Record<string, number>>,
): Record<S, Tensor> {
  if (old) for (const k of segments) ops[k] = operand(be, old[k]!);
  const perKernel = Math.max(1, Math.floor(MAX_DEVICE_ELEMENTS / p.numel()));
  const groups: S[][] = [];
  for (let k = 0; k < segments.length; k += perKernel) groups.push(segments.slice(k, k + perKernel));
  const handles = groups.map((g) => run(be, spec(g), ops, numbers));
  const next = {} as Record<S, Tensor>;
  groups.forEach((g, i) => adoptState(be, handles[i]!, p.shape, g.map((k) => old?.[k])).forEach((t, j) => (next[g[j]!] = t)));
  return next;
}

/** A zero state buffer for state switched on after some steps (as the host update's `??= stateZeros(p)`). */
const zerosFor = (p: Tensor) => keep(zerosLike(p));

/** RMSprop (`rmspropUpdate`) on the device: the packed state's kernel (squareAvg, gradAvg, momentumBuffer), then the parameter's. */
export function rmspropStepOnDevice(p: Tensor, grad: Tensor, s: RMSpropState | undefined, o: RMSpropOptions): RMSpropState {
  const be = gpuBackend(p);
  const momentum = o.momentum > 0;
  const flags: OK.RmspropFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0, centered: o.centered, momentum };
  const numbers = { wd: o.weightDecay, alpha: o.alpha, c: 1 - o.alpha, eps: o.eps, momentum: o.momentum, negLr: -o.lr };
  const segments: OK.RmspropSegment[] = ['sq', ...(o.centered ? (['ga'] as const) : []), ...(momentum ? (['buf'] as const) : [])];
  const old = s ? { sq: s.squareAvg, ga: o.centered ? (s.gradAvg ?? zerosFor(p)) : undefined, buf: momentum ? (s.momentumBuffer ?? zerosFor(p)) : undefined } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = packedState(be, p, ops, segments, old, (g) => OK.rmspropState(p.shape, ops, flags, old === null, g), numbers);
  const paramOps: Record<string, DeviceOperand> = { p: ops['p']!, g: ops['g']! };
  for (const k of segments) paramOps[k] = operand(be, next[k]);
  writeParam(be, p, run(be, OK.rmspropParam(p.shape, paramOps, flags), paramOps, numbers));
  return renewState(s, { step: (s?.step ?? 0) + 1, squareAvg: next.sq, ...(momentum && { momentumBuffer: next.buf }), ...(o.centered && { gradAvg: next.ga }) });
}

/** Adagrad (`adagradUpdate`) on the device: the sum's kernel, then the parameter's. */
export function adagradStepOnDevice(p: Tensor, grad: Tensor, s: AdagradState | undefined, o: AdagradOptions): AdagradState {
  const be = gpuBackend(p);
  const step = (s?.step ?? 0) + 1;
  const flags: OK.DecayFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0 };
  const numbers = { wd: o.weightDecay, init: o.initialAccumulatorValue, negClr: -(o.lr / (1 + (step - 1) * o.lrDecay)), eps: o.eps };
  const old = s ? { sum: s.sum } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = packedState(be, p, ops, ['sum'], old, () => OK.adagradState(p.shape, ops, flags, old === null), numbers);
  const paramOps = { p: ops['p']!, g: ops['g']!, sum: operand(be, next.sum) };
  writeParam(be, p, run(be, OK.adagradParam(p.shape, paramOps, flags), paramOps, numbers));
  return renewState(s, { step, sum: next.sum });
}

/** Adamax (`adamaxUpdate`) on the device: the packed state's kernel (expAvg, expInf), then the parameter's. */
export function adamaxStepOnDevice(p: Tensor, grad: Tensor, s: AdamaxState | undefined, o: AdamaxOptions): AdamaxState {
  const be = gpuBackend(p);
  const [beta1, beta2] = o.betas;
  const step = (s?.step ?? 0) + 1;
  const flags: OK.DecayFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0 };
  const numbers = { wd: o.weightDecay, b1: beta1, c1: 1 - beta1, b2: beta2, eps: o.eps, negClr: -(o.lr / (1 - beta1 ** step)) };
  const old = s ? { m: s.expAvg, u: s.expInf } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = packedState(be, p, ops, ['m', 'u'] as const, old, (g) => OK.adamaxState(p.shape, ops, flags, old === null, g), numbers);
  const paramOps = { p: ops['p']!, m: operand(be, next.m), u: operand(be, next.u) };
  writeParam(be, p, run(be, OK.adamaxParam(p.shape, paramOps), paramOps, numbers));
  return renewState(s, { step, expAvg: next.m, expInf: next.u });
}

/** The Adam-shaped state (expAvg, expAvgSq) that NAdam and RAdam keep, written by `adamState`. */
function adamMoments(
  be: GpuBackend, p: Tensor, ops: Record<string, DeviceOperand>, s: { expAvg: Tensor; expAvgSq: Tensor } | undefined, flags: OK.AdamFlags,
  numbers: Readonly<Record<string, number>>,
): { m: Tensor; v: Tensor } {
  const old = s ? { m: s.expAvg, v: s.expAvgSq } : null;
  return packedState(be, p, ops, ['m', 'v'] as const, old, (g) => OK.adamState(p.shape, ops, flags, old === null, g), numbers);
}

/** NAdam (`nadamUpdate`) on the device: Adam's state kernel, then NAdam's parameter kernel. */
export function nadamStepOnDevice(p: Tensor, grad: Tensor, s: NAdamState | undefined, o: NAdamOptions): NAdamState {
  const be = gpuBackend(p);
  const [beta1, beta2] = o.betas;
  const step = (s?.step ?? 0) + 1;
  const mu = nadamMu(beta1, step, o.momentumDecay);
  const muProduct = (s?.muProduct ?? 1) * mu;
  const muNext = nadamMu(beta1, step + 1, o.momentumDecay);
  const decoupled = o.decoupledWeightDecay && o.weightDecay !== 0;
  const flags: OK.AdamFlags = { maximize: o.maximize, coupledDecay: !o.decoupledWeightDecay && o.weightDecay !== 0, amsgrad: false };
  const numbers = {
    wd: o.weightDecay, b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, decay: 1 - o.lr * o.weightDecay, bc2: 1 - beta2 ** step, eps: o.eps,
    gradScale: (-o.lr * (1 - mu)) / (1 - muProduct), avgScale: (-o.lr * muNext) / (1 - muProduct * muNext),
  };
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = adamMoments(be, p, ops, s, flags, numbers);
  const paramOps = { p: ops['p']!, g: ops['g']!, m: operand(be, next.m), v: operand(be, next.v) };
  writeParam(be, p, run(be, OK.nadamParam(p.shape, paramOps, flags, decoupled), paramOps, numbers));
  return renewState(s, { step, muProduct, expAvg: next.m, expAvgSq: next.v });
}

/** RAdam (`radamUpdate`) on the device: Adam's state kernel, then RAdam's (rectified or not) parameter kernel. */
export function radamStepOnDevice(p: Tensor, grad: Tensor, s: RAdamState | undefined, o: RAdamOptions): RAdamState {
  const be = gpuBackend(p);
  const [beta1, beta2] = o.betas;
  const step = (s?.step ?? 0) + 1;
  const bc2 = 1 - beta2 ** step;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * step * beta2 ** step) / bc2;
  const rectified = rhoT > 5;
  const decoupled = o.decoupledWeightDecay && o.weightDecay !== 0;
  const flags: OK.AdamFlags = { maximize: o.maximize, coupledDecay: !o.decoupledWeightDecay && o.weightDecay !== 0, amsgrad: false };
  const numbers = {
    wd: o.weightDecay, b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, decay: 1 - o.lr * o.weightDecay, bc1: 1 - beta1 ** step, lr: o.lr,
    bc2Sqrt: Math.sqrt(bc2), eps: o.eps, rect: rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 1,
  };
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = adamMoments(be, p, ops, s, flags, numbers);
  const paramOps = { p: ops['p']!, m: operand(be, next.m), v: operand(be, next.v) };
  writeParam(be, p, run(be, OK.radamParam(p.shape, paramOps, decoupled, rectified), paramOps, numbers));
  return renewState(s, { step, expAvg: next.m, expAvgSq: next.v });
}

/**
 * Adadelta (`adadeltaUpdate`) on the device: the parameter's kernel first (its delta needs the old
 * accDelta), then the packed state's (squareAvg, accDelta); the parameter is replaced last.
 */
export function adadeltaStepOnDevice(p: Tensor, grad: Tensor, s: AdadeltaState | undefined, o: AdadeltaOptions): AdadeltaState {
  const be = gpuBackend(p);
  const flags: OK.DecayFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0 };
  const numbers = { wd: o.weightDecay, rho: o.rho, c: 1 - o.rho, eps: o.eps, negLr: -o.lr };
  const old = s ? { sq: s.squareAvg, acc: s.accDelta } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  if (old) Object.assign(ops, { sq: operand(be, old.sq), acc: operand(be, old.acc) });
  const hp = run(be, OK.adadeltaParam(p.shape, ops, flags, old === null), ops, numbers);
  const next = packedState(be, p, ops, ['sq', 'acc'] as const, old, (g) => OK.adadeltaState(p.shape, ops, flags, old === null, g), numbers);
  writeParam(be, p, hp);
  return renewState(s, { step: (s?.step ?? 0) + 1, squareAvg: next.sq, accDelta: next.acc });
}

/**
 * ASGD (`asgdUpdate`) on the device: the average's kernel (from the old parameter), then the
 * parameter's; η and μ are the state's numbers, updated on the host (`asgdSchedule`).
 */
export function asgdStepOnDevice(p: Tensor, grad: Tensor, s: ASGDState | undefined, o: ASGDOptions): ASGDState {
  const be = gpuBackend(p);
  const eta = s?.eta ?? o.lr;
  const mu = s?.mu ?? 1;
  const flags: OK.DecayFlags = { maximize: o.maximize, weightDecay: o.weightDecay !== 0 };
  const numbers = { wd: o.weightDecay, decay: 1 - o.lambd * eta, negEta: -eta, mu };
  const old = s ? { ax: s.ax } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = packedState(be, p, ops, ['ax'], old, () => OK.asgdState(p.shape, ops, flags, old === null, mu !== 1), numbers);
  writeParam(be, p, run(be, OK.asgdParam(p.shape, ops, flags), ops, numbers));
  const step = (s?.step ?? 0) + 1;
  return renewState(s, { step, ax: next.ax, ...asgdSchedule(step, o) });
}

/** Rprop (`rpropUpdate`) on the device: the packed state's kernel (prev, stepSize), then the parameter's. */
export function rpropStepOnDevice(p: Tensor, grad: Tensor, s: RpropState | undefined, o: RpropOptions): RpropState {
  const be = gpuBackend(p);
  const [etaminus, etaplus] = o.etas;
  const [smin, smax] = o.stepSizes;
  const numbers = { etaminus, etaplus, smin, smax, lr: o.lr };
  const old = s ? { prev: s.prev, ss: s.stepSize } : null;
  const ops: Record<string, DeviceOperand> = { p: operand(be, p), g: operand(be, grad) };
  const next = packedState(be, p, ops, ['prev', 'ss'] as const, old, (g) => OK.rpropState(p.shape, ops, o.maximize, old === null, g), numbers);
  const paramOps = { p: ops['p']!, prev: operand(be, next.prev), ss: operand(be, next.ss) };
  writeParam(be, p, run(be, OK.rpropParam(p.shape, paramOps), paramOps, numbers));
  return renewState(s, { step: (s?.step ?? 0) + 1, prev: next.prev, stepSize: next.ss });
}
