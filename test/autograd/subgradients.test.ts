// Gradients at kinks, ties, zeros and NaN, where finite differences cannot judge: the
// subgradient PyTorch 1.13 picks (each row recorded with /usr/bin/python3).
import { expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const cases: [string, number[], (x: Tensor) => Tensor, number[]][] = [
  ['max() ties share evenly', [1, 3, 3], (x) => x.max(), [0, 0.5, 0.5]],
  ['max(dim) ties go to the returned index', [1, 3, 3], (x) => x.max(0).values, [0, 1, 0]],
  ['min(dim) ties go to the returned index', [1, 3, 1], (x) => x.min(0).values, [1, 0, 0]],
  ['max() with NaN picks the NaN', [NaN, 1], (x) => x.max(), [1, 0]],
  ['abs at 0 is 0', [-1, 0, 1], (x) => x.abs().sum(), [-1, 0, 1]],
  ['relu at 0 is 0', [-1, 0, 1], (x) => x.relu().sum(), [0, 0, 1]],
  ['clamp passes the gradient at its bounds', [0, 1], (x) => x.clamp(0, 1).sum(), [1, 1]],
  ['sign is flat', [-1, 1], (x) => x.sign().sum(), [0, 0]],
  ['x ** 0 is flat, also at 0', [0, 2], (x) => x.pow(0).sum(), [0, 0]],
  ['x ** 2 at 0', [0, 2], (x) => x.pow(2).sum(), [0, 4]],
  ['sqrt at 0 is inf', [0, 2], (x) => x.sqrt().sum(), [Infinity, 1 / (2 * Math.sqrt(2))]],
  ['0 ** x has no NaN (exponent grad masked)', [0, 2], (x) => tg.pow(0, x).sum(), [0, 0]],
  ['norm at 0 is 0', [0, 0], (x) => x.norm(), [0, 0]],
  ['std of a constant is 0', [2, 2], (x) => x.std(), [0, 0]],
  ['prod with one zero', [0, 3], (x) => x.prod(), [3, 0]],
  ['prod with two zeros', [0, 0, 3], (x) => x.prod(), [0, 0, 0]],
  ['atan2(y, 0)', [1, 2], (x) => x.atan2(tg.tensor([0, 0])).sum(), [0, 0]],
];

for (const [name, data, f, grad] of cases) {
  test(name, () => {
    const x = tg.tensor(data, { requiresGrad: true });
    f(x).backward();
    const got = Array.from(x.grad!.dataSync());
    grad.forEach((g, i) => expect(got[i]).toBeCloseTo(g, 6));
  });
}

test('maximum/minimum ties split the gradient in half', () => {
  const a = tg.tensor([1, 2], { requiresGrad: true });
  const b = tg.tensor([1, 3], { requiresGrad: true });
  a.maximum(b).sum().backward();
  expect(a.grad!.toArray()).toEqual([0.5, 0]);
  expect(b.grad!.toArray()).toEqual([0.5, 1]);
  a.grad = null;
  b.grad = null;
  a.minimum(b).sum().backward();
  expect(a.grad!.toArray()).toEqual([0.5, 1]);
  expect(b.grad!.toArray()).toEqual([0.5, 0]);
});
