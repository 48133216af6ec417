/** Shampoo: preconditioned stochastic tensor optimization (Gupta, Koren & Singer, ICML 2018). */
import { noGrad } from '../autograd/grad-mode.js';
import { eye, full, ones } from '../tensor/creation.js';
import { keep, scope } from '../tensor/scope.js';
import { where, type Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative, pyNumber } from './check.js';
import { onDeviceParam } from './device-ops.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** How the step length is grafted onto Shampoo's direction (Agarwal et al., 2020). */
export type ShampooGrafting = 'none' | 'sgd' | 'adagrad' | 'adam';

/** Options of `Shampoo` (defaults in `SHAMPOO_DEFAULTS`). */
export interface ShampooOptions extends OptimizerOptions {
  /** Learning rate η (default 1e-2). */
  lr: number;
  /** Momentum on the (grafted) preconditioned gradient, SGD-style (default 0). */
  momentum: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay: number;
  /** ε: the statistics start at ε·I (default 1e-4). */
  epsilon: number;
  /** Decay of the statistics: L ← β2·L + (1 − β2)·GGᵀ; 1 sums them, as the paper (default 1). */
  beta2: number;
  /** Recompute the inverse roots every this many steps (default 1). */
  preconditionFrequency: number;
  /** The root p of L^{-1/p}; null for the paper's 2k on an order-k tensor (default null). */
  exponentOverride: number | null;
  /** Dimensions larger than this get a diagonal preconditioner instead of a full one (default 1024). */
  maxPreconditionerDim: number;
  /** Take the step length from another optimizer's step, per tensor (default 'none'). */
  grafting: ShampooGrafting;
  /** ε of the AdaGrad/Adam grafting denominators (default 1e-8). */
  graftingEps: number;
  /** β2 of Adam grafting (default 0.999). */
  graftingBeta2: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** `Shampoo`'s default options. */
export const SHAMPOO_DEFAULTS: ShampooOptions = {
  lr: 1e-2, momentum: 0, weightDecay: 0, epsilon: 1e-4, beta2: 1, preconditionFrequency: 1, exponentOverride: null,
  maxPreconditionerDim: 1024, grafting: 'none', graftingEps: 1e-8, graftingBeta2: 0.999, maximize: false,
};

/** Per-parameter state of `Shampoo`. */
export interface ShampooState {
  step: number;
  /** Per dimension: the statistics L_i (d×d), or their diagonal (d) beyond `maxPreconditionerDim`. */
  statistics: Tensor[];
  /** Per dimension: L_i^{-1/p} (d×d), or its diagonal. */
  preconditioners: Tensor[];
  momentumBuffer?: Tensor;
  /** AdaGrad grafting: Σg²; Adam grafting: the running average of g². */
  graftState?: Tensor;
}

/** Options of `matrixInversePthRoot`. */
export interface InverseRootOptions {
  /**
   * Most iterations (default 100; off the CPU, where every iteration runs, 40 in float32 and
   * 100 otherwise).
   */
  maxIter?: number;
  /** Stop once max|M − I| falls below this (default 1e-13 for float64, 1e-6 for float32). */
  tolerance?: number;
}

/**
 * Iterations of the device form of `matrixInversePthRoot`, which cannot stop early. In float32
 * the host loop stopped after at most 34 iterations on every matrix measured (p = 1, 2, 4; dims
 * 3 to 256 at condition numbers 1e2 to 1e8, dims 6 and 32 up to 1e12): rounding ends it by then.
 */
const DEVICE_FLOAT32_ITERATIONS = 40;

function maxAbs(t: Tensor): number {
  return t.abs().max().item();
}

function matrixPower(t: Tensor, p: number): Tensor {
  let result: Tensor | null = null;
  let base = t;
  for (let e = p; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = result ? result.matmul(base) : base;
    if (e > 1) base = base.matmul(base);
  }
  return result!;
}

/**
 * A^{-1/p} for a symmetric positive definite A by the coupled Newton iteration (Guo & Higham,
 * 2006; as in Anil et al.'s distributed Shampoo), matmuls only, so it runs on every device:
 * ```
 * z = (1 + p)/(2‖A‖_F);   M = z·A;   H = z^{1/p}·I
 * repeat:  T = ((p + 1)·I − M)/p;   M ← T^p·M;   H ← H·T      (H^{-p}·M = A throughout; M → I)
 * ```
 * It stops when max|M − I| is below the tolerance or stops decreasing (keeping the better H).
 * Off the CPU nothing is read back: the iteration runs `maxIter` times and those stopping rules
 * freeze H through `where`s (same result up to rounding; a zero or non-finite A gives a
 * non-finite result there instead of a RangeError).
 * @example
 * const R = optim.matrixInversePthRoot(tg.tensor([[4, 0], [0, 16]], { dtype: 'float64' }), 2); // [[0.5, 0], [0, 0.25]]
 */
export function matrixInversePthRoot(a: Tensor, p: number, options: InverseRootOptions = {}): Tensor {
  if (a.dim() !== 2 || a.shape[0] !== a.shape[1]) throw new RangeError(`matrixInversePthRoot expects a square matrix, got shape [${a.shape.join(', ')}]`);
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`matrixInversePthRoot: p should be a positive integer, got ${pyNumber(p)}`);
  const tolerance = options.tolerance ?? (a.dtype === 'float64' ? 1e-13 : 1e-6);
  if (a.device !== 'cpu') {
    return inversePthRootOnDevice(a, p, options.maxIter ?? (a.dtype === 'float32' ? DEVICE_FLOAT32_ITERATIONS : 100), tolerance);
  }
  const maxIter = options.maxIter ?? 100;
  return scope(() => noGrad(() => {
    const n = a.shape[0]!;
    const id = eye(n, { dtype: a.dtype, device: a.device });
    const fro = a.norm().item();
    if (!(fro > 0 && Number.isFinite(fro))) throw new RangeError('matrixInversePthRoot: the matrix must be nonzero and finite');
    const z = (1 + p) / (2 * fro);
    let m = a.mul(z);
    let h = id.mul(z ** (1 / p));
    let err = maxAbs(m.sub(id));
    for (let i = 0; i < maxIter && err > tolerance; i++) {
      const t = id.mul((p + 1) / p).sub(m.div(p));
      const mNext = matrixPower(t, p).matmul(m);
      const errNext = maxAbs(mNext.sub(id));
      // NOTE: after the first step every eigenvalue of M lies in (0, 1] and only moves up, so
      // I − M is PSD and its largest entry (a diagonal one) falls monotonically; from then on a
      // rise means rounding has taken over. The first step may raise it (M − I is indefinite).
      if (i > 0 && !(errNext < err)) break;
      h = h.matmul(t);
      m = mNext;
      err = errNext;
    }
    return h;
  }));
}

/**
 * `matrixInversePthRoot`'s iteration on a tensor off the CPU, with no readback: it runs
 * `maxIter` iterations, and the host loop's stopping rules (error below the tolerance, or not
 * decreasing after the first step) become a 0-d `active` flag that freezes H, M and the error
 * through `where`s once it turns false. The result is the host loop's up to rounding. A zero or
 * non-finite matrix gives a non-finite result instead of an error.
 */
function inversePthRootOnDevice(a: Tensor, p: number, maxIter: number, tolerance: number): Tensor {
  return scope(() => noGrad(() => {
    const n = a.shape[0]!;
    const id = eye(n, { dtype: a.dtype, device: a.device });
    const z = a.norm().mul(2).rdiv(1 + p);
    let m = a.mul(z);
    let h = id.mul(z.pow(1 / p));
    let err = m.sub(id).abs().max();
    let active = err.gt(tolerance);
    const idScaled = id.mul((p + 1) / p);
    for (let i = 0; i < maxIter; i++) {
      // NOTE: each iteration's scope frees its intermediates; the state it replaces is disposed
      // here, so device memory stays bounded over the iterations.
      const next = scope(() => {
        const t = idScaled.sub(m.div(p));
        const mNext = matrixPower(t, p).matmul(m);
        const errNext = mNext.sub(id).abs().max();
        const accept = i > 0 ? active.logicalAnd(errNext.lt(err)) : active;
        const errKept = where(accept, errNext, err);
        return { h: where(accept, h.matmul(t), h), m: where(accept, mNext, m), err: errKept, active: accept.logicalAnd(errKept.gt(tolerance)) };
      });
      for (const old of [h, m, err, active]) old.dispose();
      ({ h, m, err, active } = next);
    }
    return h;
  }));
}

/** Keep `next` as state and free the tensor it replaces (device memory would otherwise wait for the GC). */
function renew(old: Tensor | undefined, next: Tensor): Tensor {
  keep(next);
  if (old && old !== next) old.dispose();
  return next;
}

/** x ×_i m: multiply dimension `i` of `x` by the matrix `m` (the mode-i product). */
function modeProduct(x: Tensor, m: Tensor, i: number): Tensor {
  const k = x.dim();
  const perm = [i, ...Array.from({ length: k }, (_, j) => j).filter((j) => j !== i)];
  const moved = x.permute(...perm);
  const y = m.matmul(moved.reshape([x.shape[i]!, -1])).reshape(moved.shape);
  const inverse = new Array<number>(k);
  perm.forEach((d, j) => (inverse[d] = j));
  return y.permute(...inverse);
}

/** The mode-i matricization G_(i): dimension i first, the others flattened. */
function unfold(x: Tensor, i: number): Tensor {
  const k = x.dim();
  const perm = [i, ...Array.from({ length: k }, (_, j) => j).filter((j) => j !== i)];
  return x.permute(...perm).reshape([x.shape[i]!, -1]);
}

/**
 * Shampoo (Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic Tensor Optimization",
 * ICML 2018), Algorithm 2 for order-k tensors, with the practical additions of distributed
 * Shampoo (Anil et al., 2020): preconditioners recomputed every `preconditionFrequency` steps,
 * grafting, momentum and diagonal fallback for large dimensions.
 * ```
 * for each dim i:  L_i ← β2·L_i + G_(i)·G_(i)ᵀ   (L_i starts at ε·I; (1 − β2)· the new term when β2 < 1)
 * every f steps:   P_i = L_i^{-1/p}, p = 2k      (coupled Newton iteration, `matrixInversePthRoot`)
 * D = G ×_1 P_1 ×_2 … ×_k P_k;   grafting: D ← D·‖D_graft‖/‖D‖
 * buf = momentum·buf + D;   W ← W − lr·buf
 * ```
 * For a matrix this is W ← W − lr·L^{-1/4}·G·R^{-1/4}. Dimensions above `maxPreconditionerDim`
 * keep only diag(L_i), applied elementwise. Everything is tensor ops, so it runs on any device;
 * off the CPU the finiteness check and the grafting ratio are `where`s on 0-d tensors, so a step
 * reads nothing back.
 * @example
 * const opt = new optim.Shampoo(model.parameters(), { lr: 0.1, grafting: 'adagrad', preconditionFrequency: 10 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Shampoo extends Optimizer<ShampooOptions, ShampooState> {
  constructor(params: ParamsArg<ShampooOptions>, options: Partial<ShampooOptions> = {}) {
    super(params, { ...SHAMPOO_DEFAULTS, ...options });
  }

  protected override checkOptions(o: ShampooOptions): ShampooOptions {
    checkLr(o.lr);
    checkNonNegative('momentum', o.momentum);
    checkNonNegative('weight_decay', o.weightDecay);
    if (!(o.epsilon > 0)) throw new RangeError(`Invalid epsilon value: ${pyNumber(o.epsilon)}`);
    if (!(o.beta2 > 0 && o.beta2 <= 1)) throw new RangeError(`Invalid beta2 value: ${pyNumber(o.beta2)}`);
    if (!(Number.isInteger(o.preconditionFrequency) && o.preconditionFrequency >= 1)) {
      throw new RangeError(`Invalid precondition frequency: ${pyNumber(o.preconditionFrequency)}`);
    }
    if (o.exponentOverride !== null && !(Number.isInteger(o.exponentOverride) && o.exponentOverride >= 1)) {
      throw new RangeError(`Invalid exponent override: ${pyNumber(o.exponentOverride)}`);
    }
    if (!(Number.isInteger(o.maxPreconditionerDim) && o.maxPreconditionerDim >= 1)) {
      throw new RangeError(`Invalid max preconditioner dim: ${pyNumber(o.maxPreconditionerDim)}`);
    }
    if (!['none', 'sgd', 'adagrad', 'adam'].includes(o.grafting)) throw new RangeError(`Invalid grafting type: ${String(o.grafting)}`);
    return o;
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: ShampooState | undefined, o: ParamGroup<ShampooOptions>): ShampooState {
    // The scope frees this step's intermediates; the state tensors are kept.
    return scope(() => this.shampooStep(p, grad, s, o));
  }

  private shampooStep(p: Tensor, grad: Tensor, s: ShampooState | undefined, o: ParamGroup<ShampooOptions>): ShampooState {
    const shape = p.dim() === 0 ? [1] : [...p.shape];
    const like = { dtype: p.dtype, device: p.device };
    const full_ = (d: number): boolean => d <= o.maxPreconditionerDim;
    const state: ShampooState = s ?? {
      step: 0,
      statistics: shape.map((d) => keep(full_(d) ? eye(d, like).mul(o.epsilon) : full([d], o.epsilon, like))),
      preconditioners: shape.map((d) => keep(full_(d) ? eye(d, like) : ones([d], like))),
    };
    state.step += 1;
    let g = grad.reshape(shape);
    if (o.maximize) g = g.neg();
    if (o.weightDecay !== 0) g = g.add(p.reshape(shape).mul(o.weightDecay));
    const k = shape.length;
    const exponent = o.exponentOverride ?? 2 * k;
    const newWeight = o.beta2 < 1 ? 1 - o.beta2 : 1;
    const refresh = (state.step - 1) % o.preconditionFrequency === 0;
    for (let i = 0; i < k; i++) {
      const gi = unfold(g, i);
      const stat = state.statistics[i]!;
      const term = stat.dim() === 2 ? gi.matmul(gi.t()) : gi.square().sum(1);
      const next = renew(stat, stat.mul(o.beta2).add(term.mul(newWeight)));
      state.statistics[i] = next;
      // NOTE: as distributed Shampoo, keep the last preconditioner when the statistics went
      // non-finite (a diverging run then shows NaNs in the weights, not an exception).
      if (refresh && onDeviceParam(p)) {
        // On a device the check is a `where`: the new root is computed, and dropped when non-finite.
        const root = next.dim() === 2 ? matrixInversePthRoot(next, exponent) : next.pow(-1 / exponent);
        state.preconditioners[i] = renew(state.preconditioners[i], where(next.isfinite().all(), root, state.preconditioners[i]!));
      } else if (refresh && next.isfinite().all().item()) {
        state.preconditioners[i] = renew(state.preconditioners[i], next.dim() === 2 ? matrixInversePthRoot(next, exponent) : next.pow(-1 / exponent));
      }
    }
    let dir = g;
    for (let i = 0; i < k; i++) {
      const pi = state.preconditioners[i]!;
      dir = pi.dim() === 2 ? modeProduct(dir, pi, i) : dir.mul(pi.reshape(shape.map((d, j) => (j === i ? d : 1))));
    }
    if (o.grafting !== 'none') dir = this.graft(dir, g, state, o);
    if (o.momentum !== 0) {
      state.momentumBuffer = renew(state.momentumBuffer, state.momentumBuffer ? state.momentumBuffer.mul(o.momentum).add(dir) : dir.clone());
      dir = state.momentumBuffer;
    }
    p.sub_(dir.mul(o.lr).reshape(p.shape));
    return state;
  }

  /** Rescale `dir` to the norm of the grafted optimizer's step. */
  private graft(dir: Tensor, g: Tensor, state: ShampooState, o: ShampooOptions): Tensor {
    let graftDir = g;
    if (o.grafting === 'adagrad') {
      state.graftState = renew(state.graftState, state.graftState ? state.graftState.add(g.square()) : g.square());
      graftDir = g.div(state.graftState.sqrt().add(o.graftingEps));
    } else if (o.grafting === 'adam') {
      const b = o.graftingBeta2;
      const sq = g.square().mul(1 - b);
      state.graftState = renew(state.graftState, state.graftState ? state.graftState.mul(b).add(sq) : sq);
      graftDir = g.div(state.graftState.div(1 - b ** state.step).sqrt().add(o.graftingEps));
    }
    if (onDeviceParam(dir)) {
      const norm = dir.norm();
      return dir.mul(where(norm.gt(0), graftDir.norm().div(norm), 1));
    }
    const dirNorm = dir.norm().item();
    return dirNorm > 0 ? dir.mul(graftDir.norm().item() / dirNorm) : dir;
  }
}
