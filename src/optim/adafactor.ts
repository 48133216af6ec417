/** Adafactor with factored second moments (Shazeer & Stern, 2018), as torch.optim.Adafactor (PyTorch 2.5). */
import type { Tensor } from '../tensor/tensor.js';
import { pyNumber } from './check.js';
import { deviceUpdate, lerpTensor, onDeviceParam } from './device-ops.js';
import { readFloats, writeFloats, type FloatArray } from './flat.js';
import { keep } from '../tensor/scope.js';
import { zeros } from '../tensor/creation.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of `Adafactor` (defaults in `ADAFACTOR_DEFAULTS`). */
export interface AdafactorOptions extends OptimizerOptions {
  /** Upper bound of the relative step size ρ_t = min(lr, 1/√t) (default 1e-2). */
  lr: number;
  /** τ of the second-moment decay β̂2_t = 1 − t^τ (default −0.8; must be ≤ 0). */
  beta2Decay: number;
  /**
   * [ε1, ε2]: ε1 floors the second-moment estimate (null: the dtype's machine epsilon), ε2
   * floors the parameter scale RMS(θ) in the step size (default [null, 1e-3]).
   */
  eps: readonly [number | null, number];
  /** Clipping threshold d: the update's RMS is clipped to d (default 1). */
  d: number;
  /** Decoupled weight decay λ: `θ ← θ·(1 − lr·λ)` (default 0). */
  weightDecay: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** `Adafactor`'s default options. */
export const ADAFACTOR_DEFAULTS: AdafactorOptions = { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false };

/** Factored statistics for tensors of 2 or more dims, a full `variance` otherwise. */
export interface AdafactorState {
  step: number;
  /** Row means of g² (shape `[..., m, 1]`), for tensors with 2 or more dims. */
  rowVar?: Tensor;
  /** Column means of g² (shape `[..., 1, n]`), for tensors with 2 or more dims. */
  colVar?: Tensor;
  /** Running average of g², for scalars and vectors. */
  variance?: Tensor;
}

/** `torch.lerp(start, end, w)` for numbers, with its two formulas (exact at both ends). */
function lerp(start: number, end: number, w: number): number {
  return w < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w);
}

/**
 * The machine epsilon of a parameter's dtype (`torch.finfo(dtype).eps`), Adafactor's default ε1.
 * @example
 * optim.finfoEps(tg.zeros([1])); // 1.1920928955078125e-7
 */
export function finfoEps(p: Tensor): number {
  return p.dtype === 'float32' ? 2 ** -23 : 2 ** -52;
}

/**
 * One Adafactor step over flat arrays, in place (`_single_tensor_adafactor`). `shape` is the
 * parameter's shape; `rowVar`/`colVar` are given for 2+-dim tensors (factored over the last
 * two dims), `variance` otherwise. `eps1` is the resolved ε1.
 * ```
 * β̂2 = 1 − t^τ;   ρ = min(lr, 1/√t);   α = max(ε2, RMS(θ))·ρ;   θ = θ·(1 − lr·λ)
 * R = lerp(R, mean_col(g²), 1 − β̂2);  C = lerp(C, mean_row(g²), 1 − β̂2);  V̂ = R·C / max(mean(R), ε1)
 * U = g / √max(V̂, ε1²);   θ = θ − α / max(1, RMS(U)/d) · U
 * ```
 * @example
 * const p = Float64Array.of(1, 2, 3, 4), rows = new Float64Array(2), cols = new Float64Array(2);
 * optim.adafactorUpdate(p, Float64Array.of(1, 1, 1, 1), [2, 2], rows, cols, null, 1, 2 ** -52, optim.ADAFACTOR_DEFAULTS);
 */
export function adafactorUpdate(
  param: FloatArray, grad: FloatArray, shape: readonly number[], rowVar: FloatArray | null, colVar: FloatArray | null,
  variance: FloatArray | null, step: number, eps1: number, o: AdafactorOptions,
): void {
  const size = param.length;
  const oneMinusBeta2 = step ** o.beta2Decay;
  const rho = Math.min(o.lr, 1 / Math.sqrt(step));
  let pSq = 0;
  for (let i = 0; i < size; i++) pSq += param[i]! * param[i]!;
  const alpha = Math.max(o.eps[1], Math.sqrt(pSq) / Math.sqrt(size)) * rho;
  if (o.weightDecay !== 0) {
    const decay = 1 - o.lr * o.weightDecay;
    for (let i = 0; i < size; i++) param[i] = param[i]! * decay;
  }
  const g = o.maximize ? grad.map((x) => -x) : grad;
  const update = new Float64Array(size);
  const floor = eps1 * eps1;
  if (rowVar && colVar) {
    const m = shape[shape.length - 2]!;
    const n = shape[shape.length - 1]!;
    const batches = size / (m * n);
    for (let b = 0; b < batches; b++) {
      const base = b * m * n;
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += g[base + i * n + j]! ** 2;
        rowVar[b * m + i] = lerp(rowVar[b * m + i]!, s / n, oneMinusBeta2);
      }
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += g[base + i * n + j]! ** 2;
        colVar[b * n + j] = lerp(colVar[b * n + j]!, s / m, oneMinusBeta2);
      }
      let rowMean = 0;
      for (let i = 0; i < m; i++) rowMean += rowVar[b * m + i]!;
      rowMean = Math.max(rowMean / m, eps1);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const v = (rowVar[b * m + i]! * colVar[b * n + j]!) / rowMean;
          update[base + i * n + j] = g[base + i * n + j]! / Math.sqrt(Math.max(v, floor));
        }
      }
    }
  } else if (variance) {
    for (let i = 0; i < size; i++) {
      const v = lerp(variance[i]!, g[i]! * g[i]!, oneMinusBeta2);
      variance[i] = v;
      update[i] = g[i]! / Math.sqrt(Math.max(v, floor));
    }
  }
  let uSq = 0;
  for (let i = 0; i < size; i++) uSq += update[i]! * update[i]!;
  const denom = Math.max(1, Math.sqrt(uSq) / (Math.sqrt(size) * o.d));
  const stepSize = alpha / denom;
  for (let i = 0; i < size; i++) param[i] = param[i]! - stepSize * update[i]!;
}

/**
 * `adafactorUpdate` with tensor ops, for a parameter off the CPU: the factored (or full) second
 * moments and the parameter are updated in place where they live; the parameter's RMS and the
 * update's clipping factor stay 0-d tensors (nothing is read back).
 */
function adafactorStepTensors(p: Tensor, grad: Tensor, state: AdafactorState, eps1: number, o: AdafactorOptions): void {
  const size = p.numel();
  const oneMinusBeta2 = state.step ** o.beta2Decay;
  const rho = Math.min(o.lr, 1 / Math.sqrt(state.step));
  deviceUpdate(() => {
    const alpha = p.norm().div(Math.sqrt(size)).clamp(o.eps[1]).mul(rho);
    if (o.weightDecay !== 0) p.mul_(1 - o.lr * o.weightDecay);
    const g = o.maximize ? grad.neg() : grad;
    const g2 = g.square();
    const floor = eps1 * eps1;
    let update: Tensor;
    if (state.rowVar && state.colVar) {
      const { rowVar, colVar } = state;
      rowVar.copy_(lerpTensor(rowVar, g2.mean(-1, true), oneMinusBeta2));
      colVar.copy_(lerpTensor(colVar, g2.mean(-2, true), oneMinusBeta2));
      const rowMean = rowVar.mean(-2, true).clamp(eps1);
      update = g.div(rowVar.mul(colVar).div(rowMean).clamp(floor).sqrt());
    } else {
      const variance = state.variance!;
      variance.copy_(lerpTensor(variance, g2, oneMinusBeta2));
      update = g.div(variance.clamp(floor).sqrt());
    }
    const denom = update.norm().div(Math.sqrt(size) * o.d).clamp(1);
    p.sub_(update.mul(alpha.div(denom)));
  });
}

/**
 * Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost",
 * ICML 2018), following torch.optim.Adafactor (PyTorch 2.5): the second moment of an m×n
 * matrix is kept as a row vector and a column vector (m + n numbers instead of m·n), the step
 * is relative to the parameter's RMS, the update's RMS is clipped to `d`, and β2 grows towards
 * 1 as 1 − t^τ. No first moment (β1 = 0), as PyTorch's. A parameter off the CPU is updated with
 * tensor ops where it lives, reading nothing back.
 * @example
 * const opt = new optim.Adafactor(model.parameters(), { lr: 1e-2 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Adafactor extends Optimizer<AdafactorOptions, AdafactorState> {
  constructor(params: ParamsArg<AdafactorOptions>, options: Partial<AdafactorOptions> = {}) {
    super(params, { ...ADAFACTOR_DEFAULTS, ...options });
  }

  protected override checkOptions(o: AdafactorOptions): AdafactorOptions {
    if (!(o.lr >= 0)) throw new RangeError(`Learning rate should be >= 0 but is: ${pyNumber(o.lr)}`);
    if (!(o.beta2Decay <= 0)) throw new RangeError(`beta2_decay should be <= 0 but is: ${pyNumber(o.beta2Decay)}`);
    const [eps1, eps2] = o.eps;
    if (eps1 !== null && !(eps1 >= 0)) throw new RangeError(`epsilon1 should be >= 0 but is: ${pyNumber(eps1)}`);
    if (!(eps2 >= 0)) throw new RangeError(`epsilon2 should be >= 0 but is: ${pyNumber(eps2)}`);
    if (!(o.d >= 1)) throw new RangeError(`Clipping threshold d should be >= 1`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`weight_decay should be >= 0 but is: ${pyNumber(o.weightDecay)}`);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: AdafactorState | undefined, o: ParamGroup<AdafactorOptions>): AdafactorState {
    const factored = p.dim() > 1;
    const opts = { dtype: p.dtype, device: p.device };
    const state: AdafactorState = s ?? (factored
      ? { step: 0, rowVar: keep(zeros([...p.shape.slice(0, -1), 1], opts)), colVar: keep(zeros([...p.shape.slice(0, -2), 1, p.shape[p.dim() - 1]!], opts)) }
      : { step: 0, variance: keep(zeros(p.shape, opts)) });
    state.step += 1;
    const eps1 = o.eps[0] ?? finfoEps(p);
    if (onDeviceParam(p)) {
      adafactorStepTensors(p, grad, state, eps1, o);
      return state;
    }
    const g = readFloats(grad);
    if (state.rowVar && state.colVar) {
      writeFloats([p, state.rowVar, state.colVar], (param, r, c) => adafactorUpdate(param, g, p.shape, r, c, null, state.step, eps1, o));
    } else if (state.variance) {
      writeFloats([p, state.variance], (param, v) => adafactorUpdate(param, g, p.shape, null, null, v, state.step, eps1, o));
    }
    return state;
  }
}
