/**
 * Finite-difference gradient checks, as `torch.autograd.gradcheck` / `gradgradcheck`: the
 * analytical Jacobian (one backward per output element) against central differences, plus
 * PyTorch's extra checks: zero gradOutput gives zero grads, and backward is reproducible.
 */
import { randn } from '../tensor/creation.js';
import { layoutOffsets } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { grad } from './engine.js';
import { enableGrad } from './grad-mode.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Throw with details on failure (default true); otherwise return false. */
  raiseException?: boolean;
  /** Skip the zero-gradOutput and reproducibility checks. */
  fastMode?: boolean;
}

type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

const outputsOf = (r: Tensor | readonly Tensor[]): Tensor[] => (r instanceof Tensor ? [r] : [...r]);

function flatValues(outs: Tensor[]): number[] {
  const v: number[] = [];
  for (const o of outs) if (o.isFloatingPoint()) for (const x of o.dataSync()) v.push(x);
  return v;
}

function fail(raise: boolean, msg: string): false {
  if (raise) throw new Error(msg);
  return false;
}

function fmtMatrix(m: number[][]): string {
  return m.map((r) => '[' + r.map((x) => x.toPrecision(6)).join(', ') + ']').join('\n');
}

/**
 * Check the gradients of `fn` at `inputs` against finite differences. Inputs that require grad
 * should be float64.
 * @example
 * const x = tg.randn([3], { dtype: 'float64', requiresGrad: true });
 * tg.autograd.gradcheck((x) => x.tanh(), [x]);   // true
 */
export function gradcheck(fn: Fn, inputs: Tensor | readonly Tensor[], opts: GradcheckOptions = {}): boolean {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raiseException = true, fastMode = false } = opts;
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  const diffIdx = ins.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (diffIdx.length === 0) throw new Error('gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True.');
  for (const i of diffIdx) {
    if (ins[i]!.dtype !== 'float64') {
      throw new TypeError(`gradcheck: input ${i} is ${ins[i]!.dtype}; gradcheck needs float64 inputs for reliable finite differences (use .double()).`);
    }
  }
  const outs = enableGrad(() => outputsOf(fn(...ins)));
  const floatOuts = outs.filter((o) => o.isFloatingPoint());
  const nOut = floatOuts.reduce((s, o) => s + o.numel(), 0);

  for (const i of diffIdx) {
    const x = ins[i]!;
    const n = x.numel();
    const offs = layoutOffsets(x);
    const data = x.storage.data;
    // numerical[j][k] = d out_k / d x_j
    const numerical: number[][] = [];
    // NOTE: fn runs with grad mode on (gradgradcheck's fn calls grad()); the perturbation
    // writes storage directly, so it records nothing.
    enableGrad(() => {
      for (let j = 0; j < n; j++) {
        const orig = data[offs[j]!]!;
        data[offs[j]!] = orig + eps;
        const plus = flatValues(outputsOf(fn(...ins)));
        data[offs[j]!] = orig - eps;
        const minus = flatValues(outputsOf(fn(...ins)));
        data[offs[j]!] = orig;
        numerical.push(plus.map((p, k) => (p - minus[k]!) / (2 * eps)));
      }
    });
    // analytical[j][k] via one vjp per output element
    const analytical: number[][] = Array.from({ length: n }, () => new Array<number>(nOut).fill(0));
    let k = 0;
    for (const o of floatOuts) {
      for (let e = 0; e < o.numel(); e++, k++) {
        if (!o.requiresGrad) continue;
        const go = Tensor.onesLikeInternal(o).mul(0);
        go.storage.data[e] = 1;
        const [g] = enableGrad(() => grad([o], [x], { gradOutputs: [go], retainGraph: true, allowUnused: true }));
        if (!g) continue;
        const gv = g.dataSync();
        for (let j = 0; j < n; j++) analytical[j]![k] = gv[j]!;
      }
    }
    for (let j = 0; j < n; j++) {
      for (let q = 0; q < nOut; q++) {
        const a = analytical[j]![q]!;
        const b = numerical[j]![q]!;
        if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b)) && !(Number.isNaN(a) && Number.isNaN(b))) {
          return fail(raiseException, `Jacobian mismatch for output ${q} with respect to input ${i},\nnumerical:\n${fmtMatrix(numerical)}\nanalytical:\n${fmtMatrix(analytical)}\n`);
        }
      }
    }
  }

  if (!fastMode) {
    const wanted = diffIdx.map((i) => ins[i]!);
    const withGrad = floatOuts.filter((o) => o.requiresGrad);
    if (withGrad.length) {
      // Zero gradOutputs must give zero (or no) gradients.
      const zs = enableGrad(() => grad(withGrad, wanted, { gradOutputs: withGrad.map((o) => Tensor.onesLikeInternal(o).mul(0)), retainGraph: true, allowUnused: true }));
      for (const z of zs) {
        if (z && z.dataSync().some((v) => v !== 0)) return fail(raiseException, 'backward not multiplied by grad_output');
      }
      // Backward must be reproducible.
      const gos = withGrad.map((o) => randn(o.shape, { dtype: o.dtype }));
      const g1 = enableGrad(() => grad(withGrad, wanted, { gradOutputs: gos, retainGraph: true, allowUnused: true }));
      const g2 = enableGrad(() => grad(withGrad, wanted, { gradOutputs: gos, retainGraph: true, allowUnused: true }));
      for (let i = 0; i < g1.length; i++) {
        const a = g1[i]?.dataSync();
        const b = g2[i]?.dataSync();
        if (a && b && a.some((v, j) => v !== b[j] && !(Number.isNaN(v) && Number.isNaN(b[j]!)))) {
          return fail(raiseException, 'Backward is not reentrant, i.e., running backward with same input and grad_output multiple times gives different values');
        }
      }
    }
  }
  return true;
}

/**
 * Check second derivatives: gradcheck of `(inputs, gradOutputs) -> grad(fn(inputs), inputs,
 * gradOutputs, createGraph)`.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor | readonly Tensor[], gradOutputs?: readonly Tensor[] | null, opts: GradcheckOptions = {}): boolean {
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  const outs = enableGrad(() => outputsOf(fn(...ins)).filter((o) => o.isFloatingPoint() && o.requiresGrad));
  const gos = gradOutputs
    ? gradOutputs.map((g) => g.detach().requiresGrad_(true))
    : outs.map((o) => randn(o.shape, { dtype: 'float64' }).requiresGrad_(true));
  const nIn = ins.length;
  const diff = ins.filter((x) => x.requiresGrad);
  const f2 = (...xs: Tensor[]): Tensor[] => {
    const cur = xs.slice(0, nIn);
    const g = xs.slice(nIn);
    const os = outputsOf(fn(...cur)).filter((o) => o.isFloatingPoint() && o.requiresGrad);
    const dx = cur.filter((x) => x.requiresGrad);
    return grad(os, dx, { gradOutputs: g, createGraph: true, allowUnused: true }).map((r, i) => r ?? dx[i]!.mul(0));
  };
  void diff;
  return gradcheck(f2, [...ins, ...gos], opts);
}
