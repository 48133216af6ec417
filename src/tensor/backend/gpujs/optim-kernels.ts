/**
 * Kernel templates for optimizer updates on the device (src/optim/device-step.ts), one fused
 * kernel per output buffer. gpu.js kernels have a single output (kernel maps are GL-only), so a
 * step writes the optimizer state in one kernel, every state buffer of a parameter packed
 * end to end in one output (Adam: `[expAvg | expAvgSq | maxExpAvgSq]`), and the parameter in a
 * second kernel that reads the new state. SGD without momentum is one kernel.
 *
 * Hyper-parameters (lr, betas, bias corrections, ...) are kernel arguments, float32 uniforms, so
 * a schedule or the step count never recompiles a kernel; the key holds only what changes the
 * source: shapes, layouts, and which terms exist (weight decay, Nesterov, AMSGrad, ...).
 */
import { decode, fn, index, isDenseOver, numel, sig, type ArgLayout, type KernelSpec } from './kernels.js';

/** A tensor a kernel reads: its buffer (operands may share one, e.g. the packed state) and its view of it. */
export interface Operand {
  /** Identifies the buffer: operands with the same one share a kernel argument. */
  readonly buffer: object;
  readonly layout: ArgLayout;
}

/** A fused kernel and what to launch it with: its buffer arguments and number arguments, in order. */
export interface FusedSpec extends KernelSpec {
  readonly buffers: readonly object[];
  readonly uniforms: readonly string[];
}

interface Fused {
  readonly name: string;
  /** The parameter's shape: every operand has it, every output segment has its numel. */
  readonly shape: readonly number[];
  /** Tensors that may be read, by name; `body` reads one as `x_<name>`. */
  readonly operands: Readonly<Record<string, Operand>>;
  /** Number arguments `body` may read as `u_<name>`. */
  readonly uniforms: readonly string[];
  /** Statements defining a local for each output segment. */
  readonly body: readonly string[];
  /** The locals written, each as one segment of `numel(shape)` elements, in order. */
  readonly segments: readonly string[];
}

const uses = (body: string, name: string) => new RegExp(`\\b${name}\\b`).test(body);

/**
 * One thread per output element: find the segment and the element `j` inside it, read the
 * operands the body uses at `j` (strided and offset views through their layouts), run the body,
 * return the segment's value. Only operands and uniforms the body uses become arguments (GL
 * drops unused uniforms from the shader).
 */
function fused(f: Fused): FusedSpec {
  const n = numel(f.shape);
  const text = [...f.body, ...f.segments].join('\n');
  const ops = Object.entries(f.operands).filter(([name]) => uses(text, `x_${name}`));
  const buffers = [...new Set(ops.map(([, o]) => o.buffer))];
  const arg = (o: Operand) => buffers.indexOf(o.buffer);
  const uniforms = f.uniforms.filter((u) => uses(text, `u_${u}`));
  const key = `optim|${f.name}|${f.shape.join('x')}|${ops.map(([k, o]) => `${k}@${arg(o)}:${sig(o.layout)}`).join('|')}|${f.segments.join(',')}`;
  return {
    key,
    length: n * f.segments.length,
    buffers,
    uniforms,
    source: () => {
      const lines = ['const i = this.thread.x;'];
      if (f.segments.length > 1) {
        lines.push('let k = 0;');
        for (let s = 1; s < f.segments.length; s++) lines.push(`if (i >= ${s * n}) { k = ${s}; }`);
        lines.push(`const j = i - k * ${n};`);
      } else lines.push('const j = i;');
      if (ops.some(([, o]) => !isDenseOver(o.layout, f.shape))) lines.push(...decode(f.shape, 'j', 'c'));
      for (const [name, o] of ops) {
        const at = isDenseOver(o.layout, f.shape) ? (o.layout.offset ? `j + ${o.layout.offset}` : 'j') : index(o.layout, (d) => `c${d}`);
        lines.push(`const x_${name} = b${arg(o)}[${at}];`);
      }
      lines.push(...f.body);
      f.segments.forEach((seg, s) => lines.push(s === f.segments.length - 1 ? `return ${seg};` : `if (k == ${s}) { return ${seg}; }`));
      return fn([...buffers.map((_, b) => `b${b}`), ...uniforms.map((u) => `u_${u}`)], lines);
    },
  };
}

/** The gradient as the update sees it: `±grad (+ weightDecay·p)`, in a local `d`. */
function direction(maximize: boolean, weightDecay: boolean): string[] {
  return [`let d = ${maximize ? '-x_g' : 'x_g'};`, ...(weightDecay ? ['d = d + u_wd * x_p;'] : [])];
}

export interface SgdFlags {
  readonly maximize: boolean;
  readonly weightDecay: boolean;
  readonly nesterov: boolean;
}

/**
 * SGD's momentum buffer: `buf = first ? d : momentum·buf + (1 − dampening)·d`.
 * Operands: g, p (weight decay), buf (unless first). Uniforms: wd, momentum, keep = 1 − dampening.
 */
export function sgdBuffer(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: SgdFlags, first: boolean): FusedSpec {
  return fused({
    name: `sgd-buf|${flags.maximize}|${flags.weightDecay}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'momentum', 'keep'],
    body: [...direction(flags.maximize, flags.weightDecay), first ? 'const buf = d;' : 'const buf = x_buf * u_momentum + u_keep * d;'],
    segments: ['buf'],
  });
}

/**
 * SGD's parameter: `p − lr·step`, with step `d` (no momentum), the new buffer, or (Nesterov)
 * `d + momentum·buf`. Operands: p, g (no momentum, or Nesterov), buf (the new one).
 * Uniforms: wd, momentum, lr.
 */
export function sgdParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: SgdFlags, momentum: boolean): FusedSpec {
  const needD = !momentum || flags.nesterov;
  const step = !momentum ? 'd' : flags.nesterov ? 'd + u_momentum * x_buf' : 'x_buf';
  return fused({
    name: `sgd-param|${flags.maximize}|${flags.weightDecay}|${flags.nesterov}|${momentum}`,
    shape,
    operands,
    uniforms: ['wd', 'momentum', 'lr'],
    body: [...(needD ? direction(flags.maximize, flags.weightDecay) : []), `const out = x_p + -u_lr * (${step});`],
    segments: ['out'],
  });
}

export interface AdamFlags {
  readonly maximize: boolean;
  /** L2 weight decay on the gradient (Adam with weightDecay ≠ 0, not decoupled). */
  readonly coupledDecay: boolean;
  readonly amsgrad: boolean;
}

/** The Adam state buffers a kernel may write, in packing order. */
export type AdamSegment = 'm' | 'v' | 'vmax';

/**
 * Adam's state, packed: `m = β1·m + (1 − β1)·d`, `v = β2·v + (1 − β2)·d²`, `vmax = max(vmax, v)`.
 * Operands: g, p (coupled decay), m, v, vmax (absent on the first step: zeros).
 * Uniforms: wd, b1, c1 = 1 − β1, b2, c2 = 1 − β2.
 */
export function adamState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: AdamFlags, first: boolean, segments: readonly AdamSegment[]): FusedSpec {
  const needV = segments.includes('v') || segments.includes('vmax');
  const body = [
    ...direction(flags.maximize, flags.coupledDecay),
    ...(segments.includes('m') ? [first ? 'const m = u_c1 * d;' : 'const m = x_m * u_b1 + u_c1 * d;'] : []),
    ...(needV ? [first ? 'const v = u_c2 * d * d;' : 'const v = x_v * u_b2 + u_c2 * d * d;'] : []),
    ...(segments.includes('vmax') ? [first ? 'const vmax = v;' : 'const vmax = Math.max(x_vmax, v);'] : []),
  ];
  return fused({
    name: `adam-state|${flags.maximize}|${flags.coupledDecay}|${flags.amsgrad}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'b1', 'c1', 'b2', 'c2'],
    body,
    segments,
  });
}

/**
 * Adam's parameter from the new state: `p·decay + (−stepSize)·m / (√vhat / √(1 − β2^t) + eps)`,
 * vhat = vmax (AMSGrad) or v, decay = 1 − lr·wd (AdamW) or 1. Operands: p, m, vhat.
 * Uniforms: decay, negStep, bc2, eps.
 */
export function adamParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, decoupled: boolean): FusedSpec {
  return fused({
    name: `adam-param|${decoupled}`,
    shape,
    operands,
    uniforms: ['decay', 'negStep', 'bc2', 'eps'],
    body: [`const p = ${decoupled ? 'x_p * u_decay' : 'x_p'};`, 'const out = p + (u_negStep * x_m) / (Math.sqrt(x_vhat) / u_bc2 + u_eps);'],
    segments: ['out'],
  });
}
