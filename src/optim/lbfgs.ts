/** L-BFGS with an optional strong-Wolfe line search (torch.optim.LBFGS). */
import { backendFor } from '../tensor/backend/device.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLr } from './check.js';
import { floatArrayLike, type FloatArray } from './flat.js';
import { absMax, absSum, dot, strongWolfeSteps } from './line-search.js';
import { Optimizer, type OptimizerOptions, type ParamsArg } from './optimizer.js';
import { call, item, overwrite, read, requireSyncReadback, runAsync, runSync, type HostSteps } from './readback.js';

/** Options of LBFGS (PyTorch's arguments in camelCase; see the defaults). */
export interface LBFGSOptions extends OptimizerOptions {
  /** Step length (default 1). */
  lr: number;
  /** Maximal iterations per `step()` (default 20). */
  maxIter: number;
  /** Maximal closure evaluations per `step()` (default `floor(maxIter·5/4)`). */
  maxEval: number;
  /** Stop when `max |g| ≤ toleranceGrad` (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the step changes by less than this (default 1e-9). */
  toleranceChange: number;
  /** Number of (s, y) pairs kept (default 100). */
  historySize: number;
  /** `'strong_wolfe'`, or null for fixed steps of `lr` (default null). */
  lineSearchFn: 'strong_wolfe' | null;
}

/** PyTorch's defaults for LBFGS (`new optim.LBFGS(params, { ...overrides })` fills in the rest). */
export const LBFGS_DEFAULTS: LBFGSOptions = {
  lr: 1, maxIter: 20, maxEval: 25, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 100, lineSearchFn: null,
};

/** LBFGS's global state, stored on the first parameter (as PyTorch does, for loadStateDict). */
export interface LBFGSState {
  funcEvals: number;
  nIter: number;
  /** Last search direction. */
  d?: Tensor;
  /** Last step length. */
  t?: number;
  /** History of gradient differences y_k. */
  oldDirs?: Tensor[];
  /** History of steps s_k. */
  oldStps?: Tensor[];
  /** 1 / (y_k · s_k). */
  ro?: number[];
  /** Scale of the initial inverse Hessian, (y·s)/(y·y). */
  hDiag?: number;
  prevFlatGrad?: Tensor;
  prevLoss?: number;
  /** Scratch coefficients of the two-loop recursion. */
  al?: (number | null)[];
}

/** A closure result as a number (`float(closure())`). */
function* lossValue(loss: unknown): HostSteps<number> {
  if (loss instanceof Tensor) return yield* item(loss);
  if (typeof loss === 'number') return loss;
  throw new TypeError('LBFGS closure must return the loss as a Tensor or a number');
}

/** A 1-D CPU tensor over `a` (no copy). */
function vectorTensor(a: FloatArray): Tensor {
  return Tensor.fromView(backendFor('cpu').fromArray(a, [a.length]));
}

/**
 * L-BFGS (Nocedal & Wright, Numerical Optimization, Alg. 7.4/7.5), heavily inspired by minFunc;
 * a line-by-line port of torch.optim.LBFGS with its strong-Wolfe line search. One group only;
 * `step(closure)` needs a closure that zeroes gradients, recomputes the loss, calls
 * `backward()` and returns the loss. It reads the loss and gradients on the host at every
 * evaluation: on WebGPU (no synchronous readback) use `await opt.stepAsync(closure)`.
 * @example
 * const opt = new optim.LBFGS([w], { lr: 1, maxIter: 20, lineSearchFn: 'strong_wolfe' });
 * opt.step(() => { opt.zeroGrad(); const loss = f(w); loss.backward(); return loss; });
 */
export class LBFGS extends Optimizer<LBFGSOptions, LBFGSState> {
  constructor(params: ParamsArg<LBFGSOptions>, options: Partial<LBFGSOptions> = {}) {
    const maxIter = options.maxIter ?? LBFGS_DEFAULTS.maxIter;
    super(params, { ...LBFGS_DEFAULTS, maxEval: Math.floor((maxIter * 5) / 4), ...options });
    if (this.paramGroups.length !== 1) throw new RangeError("LBFGS doesn't support per-parameter options (parameter groups)");
  }

  protected override checkOptions(o: LBFGSOptions): LBFGSOptions {
    checkLr(o.lr);
    if (o.lineSearchFn !== null && o.lineSearchFn !== 'strong_wolfe') throw new RangeError("only 'strong_wolfe' is supported");
    return o;
  }

  private get params(): Tensor[] {
    return this.paramGroups[0]!.params;
  }

  private numel(): number {
    return this.params.reduce((n, p) => n + p.numel(), 0);
  }

  private *gatherFlatGrad(): HostSteps<FloatArray> {
    const out = floatArrayLike(this.params[0]!, this.numel());
    let offset = 0;
    for (const p of this.params) {
      if (p.grad) out.set(yield* read(p.grad), offset);
      offset += p.numel();
    }
    return out;
  }

  /** p += stepSize · update (over the parameters' concatenation). */
  private *addGrad(stepSize: number, update: FloatArray): HostSteps<void> {
    let offset = 0;
    for (const p of this.params) {
      const o = offset;
      // NOTE: map keeps the array type, so each sum rounds to the parameter's dtype as in place.
      overwrite(p, (yield* read(p)).map((v, i) => v + stepSize * update[o + i]!));
      offset += p.numel();
    }
  }

  private *cloneParams(): HostSteps<FloatArray[]> {
    const out: FloatArray[] = [];
    for (const p of this.params) out.push((yield* read(p)).slice());
    return out;
  }

  private setParams(data: readonly FloatArray[]): void {
    this.params.forEach((p, i) => overwrite(p, data[i]!));
  }

  /** A copy of a state vector, read from wherever it lives (`loadStateDict` moves it to the parameters' device). */
  private *stateVector(x: Tensor): HostSteps<FloatArray> {
    return (yield* read(x)).slice();
  }

  /** The loss and flat gradient at x0 + step·dir; the parameters are x0 again afterwards. */
  private *directional(closure: () => unknown, x0: readonly FloatArray[], dir: FloatArray, step: number): HostSteps<[number, FloatArray]> {
    yield* this.addGrad(step, dir);
    const value = yield* lossValue(yield* call(closure, true));
    const g = yield* this.gatherFlatGrad();
    this.setParams(x0);
    return [value, g];
  }

  /** Refuse before any work when the parameters cannot be read synchronously (WebGPU). */
  override step<L = unknown>(closure?: () => L): L | undefined {
    requireSyncReadback('LBFGS', this.params);
    return super.step(closure);
  }

  /**
   * `step(closure)` with every readback awaited (`await t.data()`), so it runs on WebGPU, where
   * `step()` throws; `closure` may be async. The same iterations and numbers as `step()`.
   * @example
   * const opt = new optim.LBFGS([w], { lineSearchFn: 'strong_wolfe' });
   * const loss = await opt.stepAsync(() => { opt.zeroGrad(); const l = f(w); l.backward(); return l; });
   */
  override stepAsync<L = unknown>(closure?: () => L | PromiseLike<L>): Promise<L | undefined> {
    return this.withStepHooks(async () => (await runAsync(this.steps(closure, 'stepAsync'))) as L | undefined);
  }

  protected override runStep<L>(closure?: () => L): L | undefined {
    return runSync(this.steps(closure, 'step'), 'LBFGS') as L | undefined;
  }

  /** One step, for either driver (readback.ts): returns the first closure result. */
  private *steps(closure: (() => unknown) | undefined, method: string): HostSteps<unknown> {
    if (!closure) throw new TypeError(`LBFGS.${method}() requires a closure that reevaluates the model and returns the loss`);
    if (this.paramGroups.length !== 1) throw new RangeError("LBFGS doesn't support per-parameter options (parameter groups)");
    const evaluate = (): HostSteps<unknown> => call(closure, true);
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, lineSearchFn, historySize } = this.paramGroups[0]!;
    const first = this.params[0]!;
    const state: LBFGSState = this.state.get(first) ?? { funcEvals: 0, nIter: 0 };
    this.state.set(first, state);

    // evaluate initial f(x) and df/dx
    const origLoss = yield* evaluate();
    let loss = yield* lossValue(origLoss);
    let currentEvals = 1;
    state.funcEvals += 1;
    let flatGrad = yield* this.gatherFlatGrad();
    let optCond = absMax(flatGrad) <= toleranceGrad;
    if (optCond) return origLoss;

    // state carried between steps, as flat arrays
    let d = state.d ? yield* this.stateVector(state.d) : null;
    let t = state.t ?? 0;
    const oldDirs: FloatArray[] = [];
    for (const x of state.oldDirs ?? []) oldDirs.push(yield* this.stateVector(x));
    const oldStps: FloatArray[] = [];
    for (const x of state.oldStps ?? []) oldStps.push(yield* this.stateVector(x));
    const ro = [...(state.ro ?? [])];
    let hDiag = state.hDiag ?? 1;
    let prevFlatGrad = state.prevFlatGrad ? yield* this.stateVector(state.prevFlatGrad) : null;
    let prevLoss = state.prevLoss ?? 0;
    let al = state.al ? [...state.al] : null;

    let nIter = 0;
    while (nIter < maxIter) {
      nIter += 1;
      state.nIter += 1;

      // compute the descent direction
      if (state.nIter === 1 || d === null || prevFlatGrad === null) {
        d = flatGrad.map((x) => -x);
        oldDirs.length = 0;
        oldStps.length = 0;
        ro.length = 0;
        hDiag = 1;
      } else {
        // update the memory with y = g − g_prev, s = t·d
        const y = flatGrad.map((x, i) => x - prevFlatGrad![i]!);
        const s = d.map((x) => x * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (oldDirs.length === historySize) {
            oldDirs.shift();
            oldStps.shift();
            ro.shift();
          }
          oldDirs.push(y);
          oldStps.push(s);
          ro.push(1 / ys);
          hDiag = ys / dot(y, y);
        }
        // the two-loop recursion: d = −H·g, with H the L-BFGS inverse Hessian approximation
        const numOld = oldDirs.length;
        al ??= new Array<number | null>(historySize).fill(null);
        const q = flatGrad.map((x) => -x);
        for (let i = numOld - 1; i >= 0; i--) {
          const a = dot(oldStps[i]!, q) * ro[i]!;
          al[i] = a;
          const dir = oldDirs[i]!;
          for (let j = 0; j < q.length; j++) q[j] = q[j]! + -a * dir[j]!;
        }
        const r = q.map((x) => x * hDiag);
        for (let i = 0; i < numOld; i++) {
          const beI = dot(oldDirs[i]!, r) * ro[i]!;
          const c = al[i]! - beI;
          const stp = oldStps[i]!;
          for (let j = 0; j < r.length; j++) r[j] = r[j]! + c * stp[j]!;
        }
        d = r;
      }
      prevFlatGrad = flatGrad.slice();
      prevLoss = loss;

      // step length: a cautious first step, then lr
      if (state.nIter === 1) {
        const inv = 1 / absSum(flatGrad);
        t = (inv < 1 ? inv : 1) * lr; // Python's min(1., x): 1 unless x < 1
      } else {
        t = lr;
      }

      // directional derivative below tolerance
      const gtd = dot(flatGrad, d);
      if (gtd > -toleranceChange) break;

      let lsFuncEvals = 0;
      if (lineSearchFn === 'strong_wolfe') {
        const x0 = yield* this.cloneParams();
        const dir = d;
        const objective = (step: number): HostSteps<[number, FloatArray]> => this.directional(closure, x0, dir, step);
        const res = yield* strongWolfeSteps(objective, t, d, loss, flatGrad, gtd);
        [loss, flatGrad, t, lsFuncEvals] = [res.loss, res.flatGrad, res.t, res.funcEvals];
        yield* this.addGrad(t, d);
        optCond = absMax(flatGrad) <= toleranceGrad;
      } else {
        // no line search: move with a fixed step, re-evaluating except in the last iteration
        yield* this.addGrad(t, d);
        if (nIter !== maxIter) {
          loss = yield* lossValue(yield* evaluate());
          flatGrad = yield* this.gatherFlatGrad();
          optCond = absMax(flatGrad) <= toleranceGrad;
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      state.funcEvals += lsFuncEvals;

      // check conditions
      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      if (optCond) break;
      if (absMax(d.map((x) => x * t)) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }

    Object.assign(state, {
      t, ro, hDiag, prevLoss,
      oldDirs: oldDirs.map(vectorTensor),
      oldStps: oldStps.map(vectorTensor),
      ...(d && { d: vectorTensor(d) }),
      ...(prevFlatGrad && { prevFlatGrad: vectorTensor(prevFlatGrad) }),
      ...(al && { al }),
    });
    return origLoss;
  }
}
