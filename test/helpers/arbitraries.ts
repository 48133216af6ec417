/**
 * fast-check arbitraries for tensor tests: tiny shapes (rank <= 3, dims <= 3, 0-d included),
 * broadcastable pairs (size-1 dims, rank mismatch), float64 data in safe domains (kept away from
 * kinks and poles so central differences are valid), distinct values (no ties for max/min) and
 * seeds. Specs are plain `{ shape, data }` records so fast-check can print and shrink them;
 * `leaf(spec)` turns one into a float64 tensor that requires grad.
 *
 * @example
 * fc.assert(fc.property(tensorArb(shapeArb(), real()), (s) => tg.gradcheck((x) => x.exp(), [leaf(s)])),
 *   { numRuns: 30, seed: 42 });
 */
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';

/** A tensor as plain data: shape plus row-major values. */
export interface TensorSpec {
  readonly shape: number[];
  readonly data: number[];
}

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Shapes of rank `minRank..maxRank` (default 0..3) with dims `minDim..maxDim` (default 1..3). */
export function shapeArb({ minRank = 0, maxRank = 3, minDim = 1, maxDim = 3 }: ShapeOptions = {}): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Two shapes that broadcast together: an output shape, from which each operand drops some
 * leading dims (rank mismatch, down to 0-d) and turns some dims into 1.
 */
export function broadcastPairArb(opts: ShapeOptions = {}): fc.Arbitrary<[number[], number[]]> {
  const operand = (out: number[]) =>
    fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
      .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  return shapeArb(opts).chain((out) => fc.tuple(operand(out), operand(out)));
}

// ------------------------------------------------------------------- value domains

/**
 * Any value in `[lo, hi]` (default [-2, 2]) on a grid of 2^-10: exact binary fractions, 0 and the
 * bounds included, and no subnormals (whose products underflow and defeat finite differences).
 */
export const real = (lo = -2, hi = 2): fc.Arbitrary<number> =>
  fc.integer({ min: Math.ceil(lo * 1024), max: Math.floor(hi * 1024) }).map((i) => i / 1024);

/** Values in `[lo, hi]` with lo > 0 (for log, sqrt, reciprocal, pow bases). */
export const positive = (lo = 0.2, hi = 3): fc.Arbitrary<number> => real(lo, hi);

/** `±[lo, hi]`: away from 0 (abs, sign, relu, div denominators, atan2). */
export const awayFromZero = (lo = 0.1, hi = 2): fc.Arbitrary<number> =>
  fc.tuple(real(lo, hi), fc.boolean()).map(([m, neg]) => (neg ? -m : m));

/** Values at least `margin` from every point in `points` (clamp bounds, kinks). */
export const awayFrom = (points: readonly number[], margin = 0.05, lo = -2, hi = 2): fc.Arbitrary<number> =>
  real(lo, hi).filter((v) => points.every((p) => Math.abs(v - p) >= margin));

/** `n + f` with the fraction f in [0.1, 0.4] ∪ [0.6, 0.9]: away from the jumps of floor/ceil/round. */
export const awayFromHalves = (): fc.Arbitrary<number> =>
  fc.tuple(fc.integer({ min: -3, max: 2 }), real(0.1, 0.4), fc.boolean()).map(([n, f, upper]) => n + f + (upper ? 0.5 : 0));

/** `n` values from `value`. */
export const valuesArb = (n: number, value: fc.Arbitrary<number>): fc.Arbitrary<number[]> => fc.array(value, { minLength: n, maxLength: n });

/** `n` pairwise distinct values at least `gap` apart in about [-2, 2] (no ties for max/min/sort). */
export const distinctValuesArb = (n: number, gap = 0.02): fc.Arbitrary<number[]> =>
  fc.uniqueArray(fc.integer({ min: -Math.floor(2 / gap), max: Math.floor(2 / gap) }), { minLength: n, maxLength: n })
    .map((ints) => ints.map((i) => i * gap + gap / 7));

// ------------------------------------------------------------------- tensors

/** A tensor spec of a shape from `shape` with values from `value`. */
export function tensorArb(shape: fc.Arbitrary<number[]>, value: fc.Arbitrary<number> = real()): fc.Arbitrary<TensorSpec> {
  return shape.chain((s) => valuesArb(numel(s), value).map((data) => ({ shape: s, data })));
}

/** A tensor spec with pairwise distinct values (see `distinctValuesArb`). */
export function distinctTensorArb(shape: fc.Arbitrary<number[]>, gap = 0.02): fc.Arbitrary<TensorSpec> {
  return shape.chain((s) => distinctValuesArb(numel(s), gap).map((data) => ({ shape: s, data })));
}

/** Two broadcastable tensor specs, values from `va` and `vb`. */
export function broadcastTensorsArb(
  va: fc.Arbitrary<number> = real(),
  vb: fc.Arbitrary<number> = va,
  opts: ShapeOptions = {},
): fc.Arbitrary<[TensorSpec, TensorSpec]> {
  return broadcastPairArb(opts).chain(([sa, sb]) =>
    fc.tuple(valuesArb(numel(sa), va), valuesArb(numel(sb), vb)).map(([da, db]): [TensorSpec, TensorSpec] => [
      { shape: sa, data: da },
      { shape: sb, data: db },
    ]));
}

/** Two broadcastable specs whose values are all distinct (maximum/minimum: no ties anywhere). */
export function distinctBroadcastTensorsArb(opts: ShapeOptions = {}, gap = 0.02): fc.Arbitrary<[TensorSpec, TensorSpec]> {
  return broadcastPairArb(opts).chain(([sa, sb]) =>
    distinctValuesArb(numel(sa) + numel(sb), gap).map((v): [TensorSpec, TensorSpec] => [
      { shape: sa, data: v.slice(0, numel(sa)) },
      { shape: sb, data: v.slice(numel(sa)) },
    ]));
}

/** A shape with a valid dim index for it (negative dims included; 0-d takes -1 or 0). */
export function shapeWithDimArb(opts: ShapeOptions = {}): fc.Arbitrary<{ shape: number[]; dim: number }> {
  return shapeArb(opts).chain((shape) => {
    const r = Math.max(shape.length, 1);
    return fc.integer({ min: -r, max: r - 1 }).map((dim) => ({ shape, dim }));
  });
}

/** Seeds for `tg.manualSeed` / `new tg.Generator(seed)`. */
export const seedArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A float64 leaf that requires grad (what gradcheck wants). */
export function leaf(spec: TensorSpec, dtype: DType = 'float64', requiresGrad = true): Tensor {
  return tg.tensor(spec.data, { dtype, shape: spec.shape, requiresGrad });
}

/** A constant (no grad) tensor from a spec. */
export function constant(spec: TensorSpec, dtype: DType = 'float64'): Tensor {
  return tg.tensor(spec.data, { dtype, shape: spec.shape });
}
