// Contraction planning against opt_einsum 3.4.0: the paths below are what
// `opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=...)` returns (recorded by hand
// from opt_einsum 3.4.0; the first cases are its own docstring examples), and the FLOP counts
// follow its cost model. Also: einsum gives the same numbers along any path.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { einsum, einsumPath } from '../../src/einsum/index.js';
import { greedyPath, optimalPath, ssaToLinear } from '../../src/einsum/plan.js';

const id = (c: string): number => (c >= 'a' ? c.charCodeAt(0) - 97 + 26 : c.charCodeAt(0) - 65);
const sets = (terms: string): number[][] => terms.split(',').map((t) => [...new Set(t)].map(id).sort((a, b) => a - b));
const sizesOf = (dict: Record<string, number>): number[] => {
  const s = new Array<number>(52).fill(1);
  for (const [k, v] of Object.entries(dict)) s[id(k)] = v;
  return s;
};

describe('opt_einsum docstring examples', () => {
  test('ssa_to_linear([(0, 3), (2, 4), (1, 5)]) == [(0, 3), (1, 2), (0, 1)]', () => {
    expect(ssaToLinear([[0, 3], [2, 4], [1, 5]])).toEqual([[0, 3], [1, 2], [0, 1]]);
  });
  const isets = sets('abd,ac,bdc');
  const sizes = sizesOf({ a: 1, b: 2, c: 3, d: 4 });
  test('optimal([abd, ac, bdc], "", {a:1, b:2, c:3, d:4}) == [(0, 2), (0, 1)]', () => {
    expect(optimalPath(isets, [], sizes)).toEqual([[0, 2], [0, 1]]);
  });
  test('greedy([abd, ac, bdc], "", {a:1, b:2, c:3, d:4}) == [(0, 2), (0, 1)]', () => {
    expect(greedyPath(isets, [], sizes)).toEqual([[0, 2], [0, 1]]);
  });
});

// [equation, shapes, greedy path, optimal path, optimal FLOPs, greedy FLOPs]
const CASES: [string, number[][], number[][], number[][], number, number][] = [
  ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 5]], [[1, 2], [0, 1]], [[0, 1], [0, 1]], 128, 180],
  ['pi,qj,ijkl,rk,sl->pqrs', [[10, 10], [10, 10], [10, 10, 10, 10], [10, 10], [10, 10]], [[0, 2], [0, 3], [0, 2], [0, 1]], [[0, 2], [0, 3], [0, 2], [0, 1]], 800000, 800000],
  ['ab,bc,cd->ad', [[100, 10], [10, 100], [100, 2]], [[1, 2], [0, 1]], [[1, 2], [0, 1]], 8000, 8000],
  ['ab,bc,cd->ad', [[10, 100], [100, 5], [5, 50]], [[0, 1], [0, 1]], [[0, 1], [0, 1]], 15000, 15000],
  ['ij,jk,kl,lm->im', [[2, 50], [50, 3], [3, 40], [40, 4]], [[2, 3], [0, 1], [0, 1]], [[0, 1], [0, 1], [0, 1]], 1608, 1608],
  ['abc,bcd,cde,def->af', [[3, 4, 5], [4, 5, 6], [5, 6, 7], [6, 7, 8]], [[2, 3], [1, 2], [0, 1]], [[0, 1], [0, 2], [0, 1]], 3996, 6240],
  ['ab,ab,bc->ac', [[5, 6], [5, 6], [6, 7]], [[0, 1], [0, 1]], [[0, 1], [0, 1]], 450, 450],
  ['a,b,c->abc', [[2], [3], [4]], [[0, 1], [0, 1]], [[0, 1], [0, 1]], 30, 30],
];

describe('paths and FLOPs match opt_einsum 3.4.0', () => {
  for (const [eq, shapes, greedy, optimal, optFlops, greedyFlops] of CASES) {
    test(`${eq} ${JSON.stringify(shapes)}`, () => {
      const g = einsumPath(eq, ...shapes, { optimize: 'greedy' });
      const o = einsumPath(eq, ...shapes, { optimize: 'optimal' });
      const auto = einsumPath(eq, ...shapes);
      expect(g.path).toEqual(greedy);
      expect(o.path).toEqual(optimal);
      expect(auto.path).toEqual(optimal);
      expect(o.optimizedFlops).toBe(optFlops);
      expect(g.optimizedFlops).toBe(greedyFlops);
    });
  }
});

describe('einsumPath report', () => {
  test('FLOPs of a simple chain, by hand', () => {
    // ij,jk,kl->il with i=2, j=3, k=4, l=5. Contract (ij, jk) first: the step touches i,j,k
    // (2·3·4 = 24 elements) and sums j, so 2 flops each: 48; then (ik, kl) touches i,k,l: 2·40 = 80.
    // Naive: all four labels at once, 3 operands and a sum: 120 · (2 + 1) = 360.
    const p = einsumPath('ij,jk,kl->il', [2, 3], [3, 4], tg.zeros([4, 5]));
    expect(p.path).toEqual([[0, 1], [0, 1]]);
    expect(p.steps.map((s) => s.flops)).toEqual([48, 80]);
    expect(p.optimizedFlops).toBe(128);
    expect(p.naiveFlops).toBe(360);
    expect(p.speedup).toBeCloseTo(2.8125, 12);
    expect(p.largestIntermediate).toBe(10);
    expect(p.naiveScaling).toBe(4);
    expect(p.optimizedScaling).toBe(3);
    expect(p.steps.map((s) => s.equation)).toEqual(['jk,ij->ki', 'ki,kl->il']);
    expect(p.steps.map((s) => s.kernel)).toEqual(['matmul', 'matmul']);
    expect(p.sizes).toEqual({ i: 2, j: 3, k: 4, l: 5 });
  });

  test('toString prints opt_einsum\'s table', () => {
    const text = einsumPath('ij,jk,kl->il', [2, 3], [3, 4], [4, 5]).toString();
    expect(text.split('\n')).toEqual([
      '  Complete contraction:  ij,jk,kl->il',
      '         Naive scaling:  4',
      '     Optimized scaling:  3',
      '      Naive FLOP count:  3.600e+2',
      '  Optimized FLOP count:  1.280e+2',
      '   Theoretical speedup:  2.813e+0',
      '  Largest intermediate:  1.000e+1 elements',
      '-'.repeat(80),
      'scaling      kernel                current                             remaining',
      '-'.repeat(80),
      '   3         matmul              jk,ij->ki                             kl,ki->il',
      '   3         matmul              ki,kl->il                                il->il',
    ]);
  });

  test('one and two operands, ellipsis letters, outer products and single-operand sums', () => {
    const one = einsumPath('...ii->...', [2, 3, 3]);
    expect(one.path).toEqual([[0]]);
    expect(one.equation).toBe('zii->z');
    expect(one.steps[0]!.kernel).toBe('sum');
    expect(one.steps[0]!.flops).toBe(2 * 3 * 2); // labels z, i; one term; a sum
    const two = einsumPath('i,j', [3], [4]);
    expect(two.path).toEqual([[0, 1]]);
    expect(two.steps[0]!.kernel).toBe('mul');
    expect(two.optimizedFlops).toBe(12);
  });

  test('validates shapes and equations like einsum', () => {
    expect(() => einsumPath('ij,jk', [2, 3], [4, 5])).toThrow('einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3');
    expect(() => einsumPath('ij')).toThrow(/must specify the equation string and at least one operand/);
    expect(() => einsumPath('ij', [2, -1])).toThrow(/expected a Tensor or a shape/);
  });
});

describe('einsum along any path', () => {
  const eq = 'pi,qj,ijkl,rk,sl->pqrs';
  tg.manualSeed(7);
  const xs = [[2, 3], [2, 3], [3, 3, 3, 3], [2, 3], [2, 3]].map((s) => tg.randn(s, { dtype: 'float64' }));
  const reference = einsum(eq, ...xs, { optimize: [[0, 1], [0, 1], [0, 1], [0, 1]] });

  test.each([['greedy'], ['optimal'], ['auto']] as const)('%s', (optimize) => {
    expect(einsum(eq, ...xs, { optimize }).allclose(reference, { rtol: 1e-12, atol: 1e-12 })).toBe(true);
  });

  test('an explicit path in opt_einsum format', () => {
    const out = einsum(eq, xs, { optimize: [[3, 4], [0, 3], [1, 2], [0, 1]] });
    expect(out.allclose(reference, { rtol: 1e-12, atol: 1e-12 })).toBe(true);
  });

  test('explicit paths are checked with PyTorch\'s messages', () => {
    const [a, b, c] = [tg.zeros([2, 3]), tg.zeros([3, 4]), tg.zeros([4, 5])];
    const run = (optimize: number[][]) => () => einsum('ij,jk,kl->il', a, b, c, { optimize });
    expect(run([[0, 0], [0, 1]])).toThrow('einsum(): invalid contraction (0, 0) cannot contract an operand with itself');
    expect(run([[0, 3], [0, 1]])).toThrow('einsum(): invalid contraction (0, 3) operand index is out of bounds');
    expect(run([[0, 1]])).toThrow('einsum(): expected contraction path given in path parameter to have size 4 but got 2');
    expect(run([[0, 1], [0, 1], [0, 1]])).toThrow('einsum(): expected contraction path given in path parameter to have size 4 but got 6');
  });

  test('many operands use the greedy path (auto)', () => {
    const chain = 'ab,bc,cd,de,ef,fg,gh->ah';
    const shapes = [[2, 3], [3, 4], [4, 2], [2, 5], [5, 2], [2, 3], [3, 2]];
    expect(einsumPath(chain, ...shapes).path).toEqual(einsumPath(chain, ...shapes, { optimize: 'greedy' }).path);
    const ts = shapes.map((s) => tg.randn(s, { dtype: 'float64' }));
    const byMatmul = ts.reduce((acc, t) => acc.matmul(t));
    expect(einsum(chain, ...ts).allclose(byMatmul, { rtol: 1e-12, atol: 1e-12 })).toBe(true);
  });
});
