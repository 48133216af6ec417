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

export interface RmspropFlags {
  readonly maximize: boolean;
  readonly weightDecay: boolean;
  readonly centered: boolean;
  readonly momentum: boolean;
}

/** The RMSprop state buffers a kernel may write, in packing order: squareAvg, gradAvg (centered), momentumBuffer. */
export type RmspropSegment = 'sq' | 'ga' | 'buf';

/** RMSprop's denominator from the square average `sq` (and gradient average `ga` when centered), in a local `avg`. */
const rmspropAvg = (centered: boolean, sq: string, ga: string) =>
  centered ? `const avg = Math.sqrt(${sq} - ${ga} * ${ga}) + u_eps;` : `const avg = Math.sqrt(${sq}) + u_eps;`;

/**
 * RMSprop's state, packed: `sq = α·sq + (1 − α)·d²`, `ga = α·ga + (1 − α)·d` (centered),
 * `buf = μ·buf + d/avg` (momentum). Operands: g, p (weight decay), sq, ga, buf (absent on the
 * first step: zeros). Uniforms: wd, alpha, c = 1 − α, eps, momentum.
 */
export function rmspropState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: RmspropFlags, first: boolean, segments: readonly RmspropSegment[]): FusedSpec {
  const body = [
    ...direction(flags.maximize, flags.weightDecay),
    first ? 'const sq = u_c * d * d;' : 'const sq = x_sq * u_alpha + u_c * d * d;',
    ...(flags.centered ? [first ? 'const ga = u_c * d;' : 'const ga = x_ga * u_alpha + u_c * d;'] : []),
    ...(segments.includes('buf') ? [rmspropAvg(flags.centered, 'sq', 'ga'), first ? 'const buf = d / avg;' : 'const buf = x_buf * u_momentum + d / avg;'] : []),
  ];
  return fused({
    name: `rmsprop-state|${flags.maximize}|${flags.weightDecay}|${flags.centered}|${flags.momentum}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'alpha', 'c', 'eps', 'momentum'],
    body,
    segments,
  });
}

/**
 * RMSprop's parameter from the new state: `p − lr·buf` (momentum), else `p + (−lr)·d / avg`.
 * Operands: p, g, sq, ga (centered), buf (momentum). Uniforms: wd, eps, negLr.
 */
export function rmspropParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: RmspropFlags): FusedSpec {
  const body = flags.momentum
    ? ['const out = x_p + u_negLr * x_buf;']
    : [...direction(flags.maximize, flags.weightDecay), rmspropAvg(flags.centered, 'x_sq', 'x_ga'), 'const out = x_p + (u_negLr * d) / avg;'];
  return fused({
    name: `rmsprop-param|${flags.maximize}|${flags.weightDecay}|${flags.centered}|${flags.momentum}`,
    shape,
    operands,
    uniforms: ['wd', 'eps', 'negLr'],
    body,
    segments: ['out'],
  });
}

export interface DecayFlags {
  readonly maximize: boolean;
  readonly weightDecay: boolean;
}

/**
 * Adagrad's sum of squares: `sum = (first ? initialAccumulatorValue : sum) + d²`.
 * Operands: g, p (weight decay), sum (unless first). Uniforms: wd, init.
 */
export function adagradState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags, first: boolean): FusedSpec {
  return fused({
    name: `adagrad-state|${flags.maximize}|${flags.weightDecay}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'init'],
    body: [...direction(flags.maximize, flags.weightDecay), `const sum = ${first ? 'u_init' : 'x_sum'} + d * d;`],
    segments: ['sum'],
  });
}

/** Adagrad's parameter from the new sum: `p + (−clr)·d / (√sum + eps)`. Operands: p, g, sum. Uniforms: wd, negClr, eps. */
export function adagradParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags): FusedSpec {
  return fused({
    name: `adagrad-param|${flags.maximize}|${flags.weightDecay}`,
    shape,
    operands,
    uniforms: ['wd', 'negClr', 'eps'],
    body: [...direction(flags.maximize, flags.weightDecay), 'const out = x_p + (u_negClr * d) / (Math.sqrt(x_sum) + u_eps);'],
    segments: ['out'],
  });
}

/** The Adamax state buffers, in packing order: expAvg, expInf. */
export type AdamaxSegment = 'm' | 'u';

/**
 * Adamax's state, packed: `m = β1·m + (1 − β1)·d`, `u = max(β2·u, |d| + eps)` (NaN-propagating,
 * as torch.amax). Operands: g, p (weight decay), m, u (absent on the first step: zeros).
 * Uniforms: wd, b1, c1 = 1 − β1, b2, eps.
 */
export function adamaxState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags, first: boolean, segments: readonly AdamaxSegment[]): FusedSpec {
  const body = [
    ...direction(flags.maximize, flags.weightDecay),
    first ? 'const m = u_c1 * d;' : 'const m = x_m * u_b1 + u_c1 * d;',
    first ? 'const a = 0.0;' : 'const a = x_u * u_b2;',
    'const b = Math.abs(d) + u_eps;',
    'let u = b;',
    'if (a > b || a != a) { u = a; }',
  ];
  return fused({
    name: `adamax-state|${flags.maximize}|${flags.weightDecay}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'b1', 'c1', 'b2', 'eps'],
    body,
    segments,
  });
}

/** Adamax's parameter from the new state: `p + (−clr)·m / u`, clr = lr/(1 − β1^t). Operands: p, m, u. Uniforms: negClr. */
export function adamaxParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>): FusedSpec {
  return fused({ name: 'adamax-param', shape, operands, uniforms: ['negClr'], body: ['const out = x_p + (u_negClr * x_m) / x_u;'], segments: ['out'] });
}

/**
 * NAdam's parameter from the new state (`adamState` writes it): with denom = √(v / (1 − β2^t)) + eps,
 * `p·decay + gradScale·d / denom + avgScale·m / denom`, decay = 1 − lr·wd (decoupled) or 1.
 * Operands: p, g, m, v. Uniforms: wd, decay, bc2, eps, gradScale, avgScale.
 */
export function nadamParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: AdamFlags, decoupled: boolean): FusedSpec {
  return fused({
    name: `nadam-param|${flags.maximize}|${flags.coupledDecay}|${decoupled}`,
    shape,
    operands,
    uniforms: ['wd', 'decay', 'bc2', 'eps', 'gradScale', 'avgScale'],
    body: [
      ...direction(flags.maximize, flags.coupledDecay),
      `const p = ${decoupled ? 'x_p * u_decay' : 'x_p'};`,
      'const denom = Math.sqrt(x_v / u_bc2) + u_eps;',
      'const q = p + (u_gradScale * d) / denom;',
      'const out = q + (u_avgScale * x_m) / denom;',
    ],
    segments: ['out'],
  });
}

/**
 * RAdam's parameter from the new state (`adamState` writes it): with mHat = m / (1 − β1^t),
 * `p·decay − mHat·lr·(√(1 − β2^t) / (√v + eps))·rect` when the variance is rectified
 * (ρ_t > 5), else `p·decay − mHat·lr`. Operands: p, m, v. Uniforms: decay, bc1, lr, bc2Sqrt, eps, rect.
 */
export function radamParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, decoupled: boolean, rectified: boolean): FusedSpec {
  return fused({
    name: `radam-param|${decoupled}|${rectified}`,
    shape,
    operands,
    uniforms: ['decay', 'bc1', 'lr', 'bc2Sqrt', 'eps', 'rect'],
    body: [
      `const p = ${decoupled ? 'x_p * u_decay' : 'x_p'};`,
      'const mHat = x_m / u_bc1;',
      rectified ? 'const out = p - mHat * u_lr * (u_bc2Sqrt / (Math.sqrt(x_v) + u_eps)) * u_rect;' : 'const out = p - mHat * u_lr;',
    ],
    segments: ['out'],
  });
}

/** The Adadelta state buffers, in packing order: squareAvg, accDelta. */
export type AdadeltaSegment = 'sq' | 'acc';

/**
 * Adadelta's update from the old state, in locals: `sq = ρ·sq + (1 − ρ)·d²`,
 * `delta = √(acc + eps) / √(sq + eps)·d`, `acc = ρ·acc + (1 − ρ)·delta²` (state absent on the first step: zeros).
 */
function adadeltaBody(flags: DecayFlags, first: boolean): string[] {
  return [
    ...direction(flags.maximize, flags.weightDecay),
    first ? 'const sq = u_c * d * d;' : 'const sq = x_sq * u_rho + u_c * d * d;',
    'const std = Math.sqrt(sq + u_eps);',
    `const delta = (Math.sqrt(${first ? '' : 'x_acc + '}u_eps) / std) * d;`,
    first ? 'const acc = u_c * delta * delta;' : 'const acc = x_acc * u_rho + u_c * delta * delta;',
  ];
}

/**
 * Adadelta's state, packed (see `adadeltaBody`). Operands: g, p (weight decay), sq, acc (absent on
 * the first step). Uniforms: wd, rho, c = 1 − ρ, eps.
 */
export function adadeltaState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags, first: boolean, segments: readonly AdadeltaSegment[]): FusedSpec {
  return fused({
    name: `adadelta-state|${flags.maximize}|${flags.weightDecay}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'rho', 'c', 'eps'],
    body: adadeltaBody(flags, first),
    segments,
  });
}

/**
 * Adadelta's parameter, from the OLD state (the delta needs the old accDelta, so this kernel is
 * launched before the state is replaced): `p + (−lr)·delta`. Operands: p, g, sq, acc (unless first).
 * Uniforms: wd, rho, c, eps, negLr.
 */
export function adadeltaParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags, first: boolean): FusedSpec {
  return fused({
    name: `adadelta-param|${flags.maximize}|${flags.weightDecay}|${first}`,
    shape,
    operands,
    uniforms: ['wd', 'rho', 'c', 'eps', 'negLr'],
    body: [...adadeltaBody(flags, first), 'const out = x_p + u_negLr * delta;'],
    segments: ['out'],
  });
}

/** ASGD's new parameter from the old one, in a local `pn`: `p·(1 − λ·η) + (−η)·d`. */
const asgdBody = (flags: DecayFlags) => [...direction(flags.maximize, flags.weightDecay), 'const q = x_p * u_decay;', 'const pn = q + u_negEta * d;'];

/**
 * ASGD's average, from the old parameter (launched before the parameter is replaced):
 * `ax = averaging ? ax + (pn − ax)·μ : pn` (μ ≠ 1 on the host: averaging). Operands: p, g, ax
 * (absent on the first step: zeros). Uniforms: wd, decay = 1 − λ·η, negEta, mu.
 */
export function asgdState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags, first: boolean, averaging: boolean): FusedSpec {
  const ax = first ? '0.0' : 'x_ax';
  return fused({
    name: `asgd-state|${flags.maximize}|${flags.weightDecay}|${first}|${averaging}`,
    shape,
    operands,
    uniforms: ['wd', 'decay', 'negEta', 'mu'],
    body: [...asgdBody(flags), averaging ? `const ax = ${ax} + (pn - ${ax}) * u_mu;` : 'const ax = pn;'],
    segments: ['ax'],
  });
}

/** ASGD's parameter: `p·(1 − λ·η) + (−η)·d`. Operands: p, g. Uniforms: wd, decay, negEta. */
export function asgdParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>, flags: DecayFlags): FusedSpec {
  return fused({
    name: `asgd-param|${flags.maximize}|${flags.weightDecay}`,
    shape,
    operands,
    uniforms: ['wd', 'decay', 'negEta'],
    body: [...asgdBody(flags), 'const out = pn;'],
    segments: ['out'],
  });
}

/** The Rprop state buffers, in packing order: prev (the previous masked gradient), stepSize. */
export type RpropSegment = 'prev' | 'ss';

/**
 * Rprop's state, packed: with `prod = g·prev`, `eta = prod > 0 ? η+ : prod < 0 ? η− : 1` (NaN
 * stays NaN), `ss = clamp(ss·eta, min, max)` (max wins, NaN propagates, as clamp_),
 * `prev = prod < 0 ? 0 : g`. Operands: g, prev, ss (absent on the first step: zeros and lr).
 * Uniforms: etaminus, etaplus, smin, smax, lr.
 */
export function rpropState(shape: readonly number[], operands: Readonly<Record<string, Operand>>, maximize: boolean, first: boolean, segments: readonly RpropSegment[]): FusedSpec {
  return fused({
    name: `rprop-state|${maximize}|${first}`,
    shape,
    operands,
    uniforms: ['etaminus', 'etaplus', 'smin', 'smax', 'lr'],
    body: [
      `const d = ${maximize ? '-x_g' : 'x_g'};`,
      `const prod = d * ${first ? '0.0' : 'x_prev'};`,
      'let eta = 1.0;',
      'if (prod > 0.0) { eta = u_etaplus; }',
      'if (prod < 0.0) { eta = u_etaminus; }',
      'if (prod != prod) { eta = prod; }',
      `let ss = ${first ? 'u_lr' : 'x_ss'} * eta;`,
      'if (ss < u_smin) { ss = u_smin; }',
      'if (ss > u_smax) { ss = u_smax; }',
      'let prev = d;',
      'if (prod < 0.0) { prev = 0.0; }',
    ],
    segments,
  });
}

/** Rprop's parameter from the new state: `p − sign(prev)·ss`. Operands: p, prev, ss. */
export function rpropParam(shape: readonly number[], operands: Readonly<Record<string, Operand>>): FusedSpec {
  return fused({
    name: 'rprop-param',
    shape,
    operands,
    uniforms: [],
    body: ['let sg = 0.0;', 'if (x_prev > 0.0) { sg = 1.0; }', 'if (x_prev < 0.0) { sg = -1.0; }', 'if (x_prev != x_prev) { sg = x_prev; }', 'const out = x_p - sg * x_ss;'],
    segments: ['out'],
  });
}
