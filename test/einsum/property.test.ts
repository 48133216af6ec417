// Random valid einsum equations and shapes (fast-check) against a naive loop over every label
// assignment, plus gradcheck/gradgradcheck on them. Float64; values within 1e-10 (abs + rel);
// gradcheck's defaults (eps 1e-6, atol 1e-5, rtol 1e-3).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { einsum } from '../../src/einsum/index.js';
import type { Tensor } from '../../src/index.js';

const LETTERS = ['a', 'b', 'c', 'd', 'B'];
const MAX_ELL = 2;

/** A dim of an operand: a letter, or ellipsis dim `j` (right-aligned over all operands). */
type Dim = { letter: string } | { ell: number };

interface Case {
  equation: string;
  shapes: number[][];
  dims: Dim[][];
  /** Output dims in order. */
  out: Dim[];
  size: Map<string, number>;
  seed: number;
}

const operandArb = fc.record({
  letters: fc.array(fc.integer({ min: 0, max: LETTERS.length - 1 }), { maxLength: 3 }),
  ellipsis: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.record({ at: fc.nat(3), rank: fc.integer({ min: 0, max: MAX_ELL }) }) },
  ),
  // per letter / ellipsis dim: broadcast as size 1 in this operand (1 time in 6)
  ones: fc.array(fc.nat(5).map((v) => v === 0), { minLength: LETTERS.length + MAX_ELL, maxLength: LETTERS.length + MAX_ELL }),
});

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    sizes: fc.array(fc.integer({ min: 2, max: 3 }), { minLength: LETTERS.length + MAX_ELL, maxLength: LETTERS.length + MAX_ELL }),
    operands: fc.array(operandArb, { minLength: 1, maxLength: 3 }),
    output: fc.oneof(
      fc.constant(null),
      fc.record({ order: fc.array(fc.integer({ min: 0, max: LETTERS.length - 1 }), { maxLength: 6 }), ellAt: fc.option(fc.nat(4), { nil: null }) }),
    ),
    spaces: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1 << 30 }),
  })
  .map(({ sizes, operands, output, spaces, seed }) => {
    const ellRank = Math.max(0, ...operands.map((o) => o.ellipsis?.rank ?? 0));
    const size = new Map<string, number>();
    const dims: Dim[][] = [];
    const shapes: number[][] = [];
    const terms = operands.map((o) => {
      const ds: Dim[] = o.letters.map((i) => ({ letter: LETTERS[i]! }));
      let term = o.letters.map((i) => LETTERS[i]).join('');
      if (o.ellipsis) {
        const at = Math.min(o.ellipsis.at, ds.length);
        const r = o.ellipsis.rank;
        ds.splice(at, 0, ...Array.from({ length: r }, (_, k) => ({ ell: ellRank - r + k })));
        term = term.slice(0, at) + '...' + term.slice(at);
      }
      dims.push(ds);
      shapes.push(ds.map((d) => {
        const idx = 'letter' in d ? LETTERS.indexOf(d.letter) : LETTERS.length + d.ell;
        return o.ones[idx] ? 1 : sizes[idx]!;
      }));
      return term;
    });
    // global (broadcast) sizes
    dims.forEach((ds, i) => ds.forEach((d, k) => {
      const key = 'letter' in d ? d.letter : `.${d.ell}`;
      size.set(key, Math.max(size.get(key) ?? 1, shapes[i]![k]!));
    }));
    const ellDims: Dim[] = Array.from({ length: ellRank }, (_, j) => ({ ell: j }));
    const used = [...new Set(dims.flat().flatMap((d) => ('letter' in d ? [d.letter] : [])))];
    let out: Dim[];
    let rhs: string | null = null;
    if (output === null) {
      // implicit: the ellipsis, then letters seen exactly once, in ASCII order (uppercase first)
      const count = (l: string) => dims.flat().filter((d) => 'letter' in d && d.letter === l).length;
      out = [...ellDims, ...used.filter((l) => count(l) === 1).sort().map((letter) => ({ letter }))];
    } else {
      const letters = [...new Set(output.order.map((i) => LETTERS[i]!))].filter((l) => used.includes(l));
      out = letters.map((letter) => ({ letter }));
      rhs = letters.join('');
      if (output.ellAt !== null) {
        const at = Math.min(output.ellAt, letters.length);
        out.splice(at, 0, ...ellDims);
        rhs = rhs.slice(0, at) + '...' + rhs.slice(at);
      }
    }
    let equation = terms.join(',') + (rhs === null ? '' : `->${rhs}`);
    // PyTorch ignores spaces anywhere but inside '...' and '->'
    if (spaces) equation = ` ${equation.replaceAll(',', ' , ').replace('->', ' -> ')} `;
    return { equation, shapes, dims, out, size, seed };
  });

const keyOf = (d: Dim): string => ('letter' in d ? d.letter : `.${d.ell}`);

/** The definition: sum over every assignment of all labels of the product of the operands. */
function naiveEinsum(c: Case, xs: readonly Tensor[]): { shape: number[]; data: number[] } {
  const labels = [...c.size.keys()];
  const shape = c.out.map((d) => c.size.get(keyOf(d))!);
  const data = new Array<number>(shape.reduce((p, s) => p * s, 1)).fill(0);
  const values = xs.map((x) => Array.from(x.dataSync()));
  const strides = c.shapes.map((s) => s.map((_, k) => s.slice(k + 1).reduce((p, v) => p * v, 1)));
  const at = new Map<string, number>(labels.map((l) => [l, 0]));
  const total = labels.reduce((p, l) => p * c.size.get(l)!, 1);
  for (let n = 0; n < total; n++) {
    let rem = n;
    for (const l of labels) {
      at.set(l, rem % c.size.get(l)!);
      rem = Math.floor(rem / c.size.get(l)!);
    }
    let prod = 1;
    c.dims.forEach((ds, i) => {
      let off = 0;
      ds.forEach((d, k) => {
        if (c.shapes[i]![k]! > 1) off += at.get(keyOf(d))! * strides[i]![k]!;
      });
      prod *= values[i]![off]!;
    });
    let o = 0;
    c.out.forEach((d, k) => {
      o = o * shape[k]! + at.get(keyOf(d))!;
    });
    data[o]! += prod;
  }
  return { shape, data };
}

function inputsFor(c: Case, requiresGrad: boolean): Tensor[] {
  tg.manualSeed(c.seed);
  return c.shapes.map((s) => tg.randn(s, { dtype: 'float64', requiresGrad }));
}

describe('einsum on random equations', () => {
  test('matches a naive loop over all label assignments', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const xs = inputsFor(c, false);
        const got = einsum(c.equation, ...xs);
        const want = naiveEinsum(c, xs);
        expect([...got.shape]).toEqual(want.shape);
        const g = Array.from(got.dataSync());
        g.forEach((v, i) => {
          const w = want.data[i]!;
          if (!(Math.abs(v - w) <= 1e-10 + 1e-10 * Math.abs(w))) throw new Error(`${c.equation} ${JSON.stringify(c.shapes)}: element ${i} is ${v}, expected ${w}`);
        });
      }),
      { numRuns: 300, seed: 20240501 },
    );
  });

  test('passes gradcheck', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const xs = inputsFor(c, true);
        expect(tg.gradcheck((...ys) => einsum(c.equation, ...ys), xs)).toBe(true);
      }),
      { numRuns: 60, seed: 20240502 },
    );
  });

  test('passes gradgradcheck', () => {
    fc.assert(
      fc.property(caseArb.filter((c) => c.shapes.length >= 2 && c.shapes.flat().reduce((p, s) => p * s, 1) <= 64), (c) => {
        const xs = inputsFor(c, true);
        expect(tg.gradgradcheck((...ys) => einsum(c.equation, ...ys), xs)).toBe(true);
      }),
      { numRuns: 20, seed: 20240503 },
    );
  });
});
