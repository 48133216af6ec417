/**
 * `expectClose(actual, expected, { atol, rtol })`: elementwise `|a - e| <= atol + rtol·|e|`
 * (numpy's `allclose`), with shapes checked first. Tolerances are explicit at every call site;
 * the defaults are the float64 ones from STYLE.md §10 (atol 1e-6, rtol 1e-5).
 *
 * @example
 * expectClose(x.grad!, [2, 4, 6]);                                   // float64 defaults
 * expectClose(y, [[0.5, 0.25]], { atol: 1e-6, rtol: 1e-5 });         // stated explicitly
 */
import { assert } from 'vitest';
import { Tensor, type NestedArray } from '../../src/index.js';

export interface CloseOptions {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance, scaled by |expected| (default 1e-5). */
  rtol?: number;
  /** Treat NaN == NaN (default true: a NaN must be expected to pass). */
  equalNan?: boolean;
}

type Expected = Tensor | NestedArray | ArrayLike<number>;

function shapeOf(x: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = x;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
  }
  return shape;
}

function flatten(x: NestedArray, out: number[] = []): number[] {
  if (Array.isArray(x)) for (const e of x) flatten(e, out);
  else out.push(Number(x));
  return out;
}

function toFlat(x: Expected): { shape: number[] | null; values: number[] } {
  if (x instanceof Tensor) return { shape: [...x.shape], values: Array.from(x.dataSync(), Number) };
  if (typeof x === 'number' || typeof x === 'boolean') return { shape: [], values: [Number(x)] };
  if (Array.isArray(x)) return { shape: shapeOf(x as NestedArray), values: flatten(x as NestedArray) };
  // A TypedArray or array-like: compared flat, so no shape check.
  return { shape: null, values: Array.from(x as ArrayLike<number>, Number) };
}

/** Describe the first mismatches between `actual` and `expected`, or return null when close. */
export function closeMismatch(actual: Expected, expected: Expected, opts: CloseOptions = {}): string | null {
  const { atol = 1e-6, rtol = 1e-5, equalNan = true } = opts;
  const a = toFlat(actual);
  const e = toFlat(expected);
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    return `shape [${a.shape.join(', ')}] != expected [${e.shape.join(', ')}]`;
  }
  if (a.values.length !== e.values.length) return `${a.values.length} elements != expected ${e.values.length}`;
  const bad: string[] = [];
  for (let i = 0; i < e.values.length; i++) {
    const x = a.values[i]!;
    const y = e.values[i]!;
    const ok = Number.isNaN(y) || Number.isNaN(x)
      ? equalNan && Number.isNaN(x) && Number.isNaN(y)
      : !Number.isFinite(y) || !Number.isFinite(x) ? x === y : Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) bad.push(`[${i}] ${x} vs ${y} (|diff| ${Math.abs(x - y).toExponential(2)})`);
  }
  if (bad.length === 0) return null;
  return `${bad.length}/${e.values.length} elements differ (atol ${atol}, rtol ${rtol}):\n  ${bad.slice(0, 6).join('\n  ')}` +
    `\nactual:   [${a.values.slice(0, 12).join(', ')}${a.values.length > 12 ? ', …' : ''}]` +
    `\nexpected: [${e.values.slice(0, 12).join(', ')}${e.values.length > 12 ? ', …' : ''}]`;
}

/** Assert elementwise closeness (and equal shapes when both sides have one). */
export function expectClose(actual: Expected, expected: Expected, opts: CloseOptions = {}): void {
  const msg = closeMismatch(actual, expected, opts);
  if (msg !== null) assert.fail(msg);
}
