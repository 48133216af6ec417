/**
 * Newton's method for small problems (exact Hessian, damped Cholesky solve) and Hessian-free
 * Newton-CG (Hessian-vector products by double backward), both with an optional Armijo
 * backtracking line search (Nocedal & Wright, Numerical Optimization, Alg. 3.1, 7.1).
 */
import { grad as autogradGrad } from '../autograd/engine.js';
import { enableGrad } from '../autograd/grad-mode.js';
import { tensor, zeros } from '../tensor/creation.js';
import { cat } from '../tensor/functional.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative, pyNumber } from './check.js';
import { dampedSolve, dot64, norm64 } from './dense.js';
import { Optimizer, type OptimizerOptions, type ParamsArg } from './optimizer.js';
import { call, item, overwrite, read, requireSyncReadback, runAsync, runSync, type HostSteps } from './readback.js';

/** Options of `Newton` (defaults in `NEWTON_DEFAULTS`). */
export interface NewtonOptions extends OptimizerOptions {
  /** Scale of the Newton step, per group (default 1: the full step). */
  lr: number;
  /** Levenberg damping λ: solve (H + λI)·d = −g; raised tenfold while H + λI is not positive definite (default 0). */
  damping: number;
  /** 'armijo' for a backtracking line search from the full step, or null to take it as is (default 'armijo'). */
  lineSearch: 'armijo' | null;
  /** Sufficient-decrease constant c1 of the Armijo condition (default 1e-4). */
  c1: number;
  /** Step shrink factor of the backtracking (default 0.5). */
  backtrack: number;
  /** Most loss evaluations of the line search (default 30). */
  maxLineSearch: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** Options of `NewtonCG`: Newton's, plus the conjugate-gradient controls. */
export interface NewtonCGOptions extends NewtonOptions {
  /** Most conjugate-gradient iterations per step (default 50). */
  cgMaxIter: number;
  /**
   * CG stops when ‖r‖ ≤ cgTol·‖g‖; null for Nocedal & Wright's forcing sequence
   * min(0.5, √‖g‖)·‖g‖, which gives superlinear convergence (default null).
   */
  cgTol: number | null;
}

/** `Newton`'s default options. */
export const NEWTON_DEFAULTS: NewtonOptions = { lr: 1, damping: 0, lineSearch: 'armijo', c1: 1e-4, backtrack: 0.5, maxLineSearch: 30, maximize: false };
/** `NewtonCG`'s default options. */
export const NEWTON_CG_DEFAULTS: NewtonCGOptions = { ...NEWTON_DEFAULTS, cgMaxIter: 50, cgTol: null };

/** Global state, stored on the first parameter (as LBFGS does). */
export interface NewtonState {
  /** Steps taken. */
  nIter: number;
  /** Loss evaluations (closure calls), line search included. */
  funcEvals: number;
  /** Step length t accepted by the last line search. */
  t: number;
  /** The damping λ that made the last solve positive definite (Newton). */
  damping?: number;
  /** CG iterations of the last step (NewtonCG). */
  cgIters?: number;
}

const CLOSURE_HINT = 'requires a closure that computes and returns the loss (without calling backward(): the optimizer differentiates it itself)';

/** The common part of Newton and NewtonCG: the variables, the loss, and the line search. */
abstract class SecondOrder<O extends NewtonOptions> extends Optimizer<O, NewtonState> {
  protected override checkOptions(o: O): O {
    checkLr(o.lr);
    checkNonNegative('damping', o.damping);
    if (o.lineSearch !== null && o.lineSearch !== 'armijo') throw new RangeError(`only 'armijo' line search is supported, got ${String(o.lineSearch)}`);
    if (!(o.c1 > 0 && o.c1 < 1)) throw new RangeError(`Invalid c1 value: ${pyNumber(o.c1)}`);
    if (!(o.backtrack > 0 && o.backtrack < 1)) throw new RangeError(`Invalid backtrack value: ${pyNumber(o.backtrack)}`);
    return o;
  }

  protected get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Each variable's step scale: its group's lr. */
  protected scales(): Float64Array {
    const out: number[] = [];
    for (const g of this.paramGroups) for (const p of g.params) for (let i = 0; i < p.numel(); i++) out.push(g.lr);
    return Float64Array.from(out);
  }

  protected sign(): number {
    return this.paramGroups[0]!.maximize ? -1 : 1;
  }

  /** Evaluate the closure with its graph; returns the loss and the (sign-adjusted) objective f. */
  protected *objective(closure: () => unknown, method: string): HostSteps<{ loss: unknown; f: Tensor }> {
    const name = `${this.constructor.name}.${method}()`;
    const loss = yield* call(closure, true);
    if (!(loss instanceof Tensor) || loss.numel() !== 1) throw new TypeError(`${name} ${CLOSURE_HINT}; got ${loss instanceof Tensor ? `a tensor of shape [${loss.shape.join(', ')}]` : typeof loss}`);
    if (!loss.requiresGrad) throw new Error(`${name}: the loss does not require grad; the closure must compute it from the parameters with gradients enabled`);
    return { loss, f: this.sign() === 1 ? loss : enableGrad(() => loss.neg()) };
  }

  /**
   * ∇f over all parameters as one flat tensor on their device, differentiable (for second
   * derivatives); in their dtype (float64 would leave a WebGPU device: it lives on the host).
   */
  protected flatGrad(f: Tensor): Tensor {
    const params = this.params;
    return enableGrad(() => {
      const grads = autogradGrad([f], params, { createGraph: true, allowUnused: true });
      return cat(grads.map((g, i) => (g ?? zeros(params[i]!.shape, { dtype: params[i]!.dtype, device: params[i]!.device })).reshape([-1])));
    });
  }

  /** d/dx of (flat gradient · v): a Hessian-vector product (zero when the gradient is constant). */
  protected *hessianVector(flat: Tensor, v: Float64Array): HostSteps<Float64Array> {
    if (!flat.requiresGrad) return new Float64Array(v.length);
    const params = this.params;
    const gradOutputs = [tensor(v, { dtype: flat.dtype, device: flat.device })];
    const rows = autogradGrad([flat], params, { gradOutputs, retainGraph: true, allowUnused: true });
    const out = new Float64Array(v.length);
    let offset = 0;
    for (const [i, r] of rows.entries()) {
      if (r) out.set(Float64Array.from(yield* read(r)), offset);
      offset += params[i]!.numel();
    }
    return out;
  }

  private *values(): HostSteps<Float64Array> {
    const out = new Float64Array(this.params.reduce((n, p) => n + p.numel(), 0));
    let offset = 0;
    for (const p of this.params) {
      out.set(yield* read(p), offset);
      offset += p.numel();
    }
    return out;
  }

  private setValues(x: Float64Array): void {
    let offset = 0;
    for (const p of this.params) {
      overwrite(p, x.subarray(offset, offset + p.numel()));
      offset += p.numel();
    }
  }

  /**
   * Move along `direction` (already the full step, lr-scaled): Armijo backtracking
   * f(x + t·s) ≤ f(x) + c1·t·gᵀs from t = 1, or the full step without a line search. When no t
   * passes, the smallest one tried is taken.
   */
  protected *move(closure: () => unknown, state: NewtonState, f0: number, g: Float64Array, step: Float64Array): HostSteps<void> {
    const o = this.paramGroups[0]!;
    const x0 = yield* this.values();
    const at = (t: number): Float64Array => x0.map((x, i) => x + t * step[i]!);
    let t = 1;
    if (o.lineSearch === 'armijo') {
      const slope = dot64(g, step);
      for (let k = 0; k < o.maxLineSearch; k++) {
        this.setValues(at(t));
        const value = yield* call(closure, false);
        state.funcEvals += 1;
        const fNew = this.sign() * (value instanceof Tensor ? yield* item(value) : Number(value));
        if (fNew <= f0 + o.c1 * t * slope) break;
        if (k === o.maxLineSearch - 1) break;
        t *= o.backtrack;
      }
    }
    this.setValues(at(t));
    state.t = t;
  }

  /** The step s = lr ⊙ d, or −lr ⊙ g when that is not a descent direction. */
  protected scaledStep(direction: Float64Array, g: Float64Array): Float64Array {
    const lr = this.scales();
    const s = direction.map((d, i) => lr[i]! * d);
    return dot64(g, s) < 0 ? s : g.map((gi, i) => -lr[i]! * gi);
  }

  protected abstract direction(f: Tensor, flat: Tensor, g: Float64Array, state: NewtonState): HostSteps<Float64Array>;

  /** Refuse before any work when the parameters cannot be read synchronously (WebGPU). */
  override step<L = unknown>(closure?: () => L): L | undefined {
    requireSyncReadback(this.constructor.name, this.params);
    return super.step(closure);
  }

  /**
   * `step(closure)` with every readback awaited (`await t.data()`), so it runs on WebGPU, where
   * `step()` throws; `closure` may be async. The same iterations and numbers as `step()`.
   * @example
   * const opt = new optim.Newton([w], { damping: 1e-6 });
   * for (let i = 0; i < 10; i++) await opt.stepAsync(() => lossFn(w));
   */
  override stepAsync<L = unknown>(closure?: () => L | PromiseLike<L>): Promise<L | undefined> {
    return this.withStepHooks(async () => (await runAsync(this.steps(closure, 'stepAsync'))) as L | undefined);
  }

  protected override runStep<L>(closure?: () => L): L | undefined {
    return runSync(this.steps(closure, 'step'), this.constructor.name) as L | undefined;
  }

  /** One step, for either driver (readback.ts): returns the closure's loss. */
  private *steps(closure: (() => unknown) | undefined, method: string): HostSteps<unknown> {
    if (!closure) throw new TypeError(`${this.constructor.name}.${method}() ${CLOSURE_HINT}`);
    const first = this.params[0]!;
    const state: NewtonState = this.state.get(first) ?? { nIter: 0, funcEvals: 0, t: 1 };
    this.state.set(first, state);
    const { loss, f } = yield* this.objective(closure, method);
    const f0 = yield* item(f);
    const flat = this.flatGrad(f);
    const g = Float64Array.from(yield* read(flat));
    const d = yield* this.direction(f, flat, g, state);
    state.funcEvals += 1;
    state.nIter += 1;
    yield* this.move(closure, state, f0, g, this.scaledStep(d, g));
    return loss;
  }
}

/**
 * Newton's method for small problems: the exact Hessian (double backward, one row per
 * variable, as `tg.autograd.functional.hessian`), a damped Cholesky solve in float64 and an
 * Armijo backtracking line search:
 * ```
 * (H + λI)·d = −g   (λ raised until H + λI is positive definite: Levenberg)
 * x ← x + t·lr·d,   t = 1, ½, ¼, … until f(x + t·s) ≤ f(x) + c1·t·gᵀs
 * ```
 * Cost: one backward pass per variable per step, and an n×n solve: use it for up to a few
 * thousand variables; `NewtonCG` never forms H. The closure returns the loss and must not call
 * `backward()`; it is also called (without gradients) by the line search.
 * @example
 * const opt = new optim.Newton([w], { damping: 1e-6 });
 * for (let i = 0; i < 10; i++) opt.step(() => lossFn(w));
 */
export class Newton extends SecondOrder<NewtonOptions> {
  constructor(params: ParamsArg<NewtonOptions>, options: Partial<NewtonOptions> = {}) {
    super(params, { ...NEWTON_DEFAULTS, ...options });
  }

  /** The Hessian of f as a row-major n×n array (symmetrised). */
  private *hessian(flat: Tensor): HostSteps<Float64Array> {
    const n = flat.numel();
    const h = new Float64Array(n * n);
    const e = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      e.fill(0);
      e[k] = 1;
      h.set(yield* this.hessianVector(flat, e), k * n);
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const v = (h[i * n + j]! + h[j * n + i]!) / 2;
        h[i * n + j] = v;
        h[j * n + i] = v;
      }
    }
    return h;
  }

  protected *direction(_f: Tensor, flat: Tensor, g: Float64Array, state: NewtonState): HostSteps<Float64Array> {
    const n = g.length;
    const { x, damping } = dampedSolve(yield* this.hessian(flat), n, g.map((v) => -v), this.paramGroups[0]!.damping);
    state.damping = damping;
    return x;
  }
}

/**
 * Hessian-free Newton-CG (truncated Newton; Nocedal & Wright, Algorithm 7.1; Martens, 2010):
 * conjugate gradient on (H + λI)·d = −g using Hessian-vector products by double backward
 * (H·v = ∇(∇f·v)), never forming H; CG stops at the forcing tolerance, after `cgMaxIter`
 * iterations, or on negative curvature (then it returns its last iterate, or −g at once), and
 * an Armijo line search follows. The closure returns the loss and must not call `backward()`.
 * @example
 * const opt = new optim.NewtonCG(model.parameters(), { cgMaxIter: 20, damping: 1e-3 });
 * opt.step(() => F.crossEntropy(model.call(x), y));
 */
export class NewtonCG extends SecondOrder<NewtonCGOptions> {
  constructor(params: ParamsArg<NewtonCGOptions>, options: Partial<NewtonCGOptions> = {}) {
    super(params, { ...NEWTON_CG_DEFAULTS, ...options });
  }

  protected override checkOptions(o: NewtonCGOptions): NewtonCGOptions {
    super.checkOptions(o);
    if (!(Number.isInteger(o.cgMaxIter) && o.cgMaxIter >= 1)) throw new RangeError(`Invalid cgMaxIter value: ${pyNumber(o.cgMaxIter)}`);
    if (o.cgTol !== null && !(o.cgTol > 0)) throw new RangeError(`Invalid cgTol value: ${pyNumber(o.cgTol)}`);
    return o;
  }

  protected *direction(_f: Tensor, flat: Tensor, g: Float64Array, state: NewtonState): HostSteps<Float64Array> {
    const o = this.paramGroups[0]!;
    const gNorm = norm64(g);
    const tol = o.cgTol === null ? Math.min(0.5, Math.sqrt(gNorm)) * gNorm : o.cgTol * gNorm;
    const n = g.length;
    const z = new Float64Array(n);
    const r = Float64Array.from(g); // residual of B·z + g, at z = 0
    let d = g.map((v) => -v);
    let rr = dot64(r, r);
    state.cgIters = 0;
    for (let j = 0; j < o.cgMaxIter && Math.sqrt(rr) > tol; j++) {
      const bd = (yield* this.hessianVector(flat, d)).map((v, i) => v + o.damping * d[i]!);
      const curvature = dot64(d, bd);
      state.cgIters = j + 1;
      if (!(curvature > 0)) return j === 0 ? g.map((v) => -v) : z;
      const alpha = rr / curvature;
      for (let i = 0; i < n; i++) {
        z[i] = z[i]! + alpha * d[i]!;
        r[i] = r[i]! + alpha * bd[i]!;
      }
      const rrNext = dot64(r, r);
      const beta = rrNext / rr;
      rr = rrNext;
      d = d.map((v, i) => -r[i]! + beta * v);
    }
    return state.cgIters === 0 ? g.map((v) => -v) : z;
  }
}
