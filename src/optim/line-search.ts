/**
 * The strong-Wolfe line search of torch.optim.LBFGS (`_strong_wolfe`, `_cubic_interpolate`,
 * themselves ported from torch/optim's lswolfe.lua and polyinterp.lua), ported line by line.
 */
import type { FloatArray } from './flat.js';

// Python's min/max on two numbers (the first wins ties and NaN comparisons), as the port needs.
const pyMax = (a: number, b: number): number => (b > a ? b : a);
const pyMin = (a: number, b: number): number => (b < a ? b : a);

/** `a · b` over flat arrays. */
export function dot(a: FloatArray, b: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** `Σ |a_i|`. */
export function absSum(a: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]!);
  return s;
}

/** `max |a_i|` (NaN if any element is NaN, as torch's max). */
export function absMax(a: FloatArray): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m || Number.isNaN(v)) m = v;
    if (Number.isNaN(m)) return m;
  }
  return m;
}

/**
 * The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`
 * (default: the interval between x1 and x2); the midpoint when the cubic has no minimum.
 */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: readonly [number, number]): number {
  const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  // d1 = g1 + g2 - 3(f1 - f2)/(x1 - x2);  d2 = sqrt(d1² - g1·g2)
  // min_pos = x2 - (x2 - x1)·(g2 + d2 - d1)/(g2 - g1 + 2·d2)
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return pyMin(pyMax(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2;
}

/** The objective along the search direction: loss and flat gradient at `x + t·d`. */
export type DirectionalObjective = (t: number) => [number, FloatArray];

/**
 * A `DirectionalObjective` written as a generator: it yields whatever its driver answers (for
 * LBFGS, readbacks and closure calls: see readback.ts), and returns the loss and gradient.
 */
export type DirectionalObjectiveSteps<Y> = (t: number) => Generator<Y, [number, FloatArray], unknown>;

export interface StrongWolfeResult {
  loss: number;
  flatGrad: FloatArray;
  t: number;
  funcEvals: number;
}

/**
 * Find a step `t` along `d` satisfying the strong Wolfe conditions (bracketing, then zoom by
 * cubic interpolation), starting from `t` with loss `f`, gradient `g` and slope `gtd = g·d`.
 * @example
 * // f(x) = (x − 3)² from x = 0 along d = 1: the loss and gradient at x + s·d are (s − 3)², 2(s − 3)
 * const { t } = strongWolfe((s) => [(s - 3) ** 2, Float64Array.of(2 * (s - 3))], 1, Float64Array.of(1), 9, Float64Array.of(-6), -6);
 */
export function strongWolfe(
  objective: DirectionalObjective, t: number, d: FloatArray, f: number, g: FloatArray, gtd: number,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25,
): StrongWolfeResult {
  // The search is written once, as a generator; this objective yields nothing, so it runs to the end at once.
  const steps = strongWolfeSteps(function* (s: number) {
    return objective(s);
  }, t, d, f, g, gtd, c1, c2, toleranceChange, maxLs);
  return steps.next().value;
}

/**
 * `strongWolfe` over an objective that is a generator: it yields what the objective yields, so
 * its driver may answer synchronously or with awaits (LBFGS's `step` and `stepAsync`).
 * @example
 * // the objective asks its driver for f at step s by yielding s; the driver answers (s − 3)²
 * const search = strongWolfeSteps(function* (s: number) { const fs = (yield s) as number; return [fs, Float64Array.of(2 * (s - 3))]; }, 1, Float64Array.of(1), 9, Float64Array.of(-6), -6);
 * let r = search.next();
 * while (!r.done) r = search.next((r.value - 3) ** 2);
 */
export function* strongWolfeSteps<Y>(
  objective: DirectionalObjectiveSteps<Y>, t: number, d: FloatArray, f: number, g: FloatArray, gtd: number,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25,
): Generator<Y, StrongWolfeResult, unknown> {
  const dNorm = absMax(d);
  g = g.slice();
  let [fNew, gNew] = yield* objective(t);
  let lsFuncEvals = 1;
  let gtdNew = dot(gNew, d);

  // bracket an interval containing a point satisfying the Wolfe criteria
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: FloatArray[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew.slice()], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew.slice()], [gtdPrev, gtdNew]];
      break;
    }
    // interpolate
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    // next step
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew.slice();
    gtdPrev = gtdNew;
    [fNew, gNew] = yield* objective(t);
    lsFuncEvals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
  }
  // reached max number of iterations?
  if (lsIter === maxLs) {
    [bracket, bracketF, bracketG] = [[0, t], [f, fNew], [g, gNew]];
  }

  // zoom phase: we now have a point satisfying the criteria, or a bracket around it; refine
  // the bracket until we find the exact point satisfying the criteria
  let insufProgress = false;
  let [lowPos, highPos] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    const [b0, b1] = [bracket[0]!, bracket[1]!];
    // line-search bracket is so small
    if (Math.abs(b1 - b0) * dNorm < toleranceChange) break;
    // compute new trial value
    t = cubicInterpolate(b0, bracketF[0]!, bracketGtd[0]!, b1, bracketF[1]!, bracketGtd[1]!);
    // NOTE: if t lands near a bracket end, mark insufficient progress; on the second time (or at
    // the boundary itself) move t to 0.1·|bracket| from the nearest end.
    const bMax = pyMax(b0, b1);
    const bMin = pyMin(b0, b1);
    const eps = 0.1 * (bMax - bMin);
    if (pyMin(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    // evaluate new point
    [fNew, gNew] = yield* objective(t);
    lsFuncEvals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;

    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]!) {
      // Armijo condition not satisfied or not lower than lowest point
      bracket[highPos] = t;
      bracketF[highPos] = fNew;
      bracketG[highPos] = gNew.slice();
      bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true; // Wolfe conditions satisfied
      } else if (gtdNew * (bracket[highPos]! - bracket[lowPos]!) >= 0) {
        // old high becomes new low
        bracket[highPos] = bracket[lowPos]!;
        bracketF[highPos] = bracketF[lowPos]!;
        bracketG[highPos] = bracketG[lowPos]!;
        bracketGtd[highPos] = bracketGtd[lowPos]!;
      }
      // new point becomes new low
      bracket[lowPos] = t;
      bracketF[lowPos] = fNew;
      bracketG[lowPos] = gNew.slice();
      bracketGtd[lowPos] = gtdNew;
    }
  }
  return { loss: bracketF[lowPos]!, flatGrad: bracketG[lowPos]!, t: bracket[lowPos]!, funcEvals: lsFuncEvals };
}
