/**
 * Shared pieces of the optimizer tests: the three fixture problems of
 * scripts/torch_fixtures_optim.py (Rosenbrock, an ill-conditioned 6-D quadratic, a 3-4-2 tanh
 * MLP), a loader for test/fixtures/optim/*.json, and a relative-closeness check.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

export type ProblemName = 'rosenbrock' | 'quadratic' | 'mlp';
export const PROBLEM_NAMES: readonly ProblemName[] = ['rosenbrock', 'quadratic', 'mlp'];

type Nested = number | Nested[];

interface ProblemsFile {
  rosenbrock: { init: Nested[] };
  quadratic: { A: number[][]; b: number[]; init: Nested[] };
  mlp: { X: number[][]; Y: number[][]; init: Nested[] };
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/optim/${name}.json`, import.meta.url), 'utf8')) as T;
}

const problems = loadFixture<ProblemsFile>('problems');

/** Fresh float64 leaf parameters at the problem's recorded starting point. */
export function problemParams(name: ProblemName): Tensor[] {
  return problems[name].init.map((v) => tg.tensor(v, { dtype: 'float64', requiresGrad: true }));
}

/** The problem's loss, written as the Python script writes it. */
export function problemLoss(name: ProblemName, params: readonly Tensor[]): Tensor {
  if (name === 'rosenbrock') {
    const [x, y] = params as [Tensor, Tensor];
    return x.rsub(1).pow(2).add(y.sub(x.pow(2)).pow(2).mul(100)).sum();
  }
  if (name === 'quadratic') {
    const A = tg.tensor(problems.quadratic.A, { dtype: 'float64' });
    const b = tg.tensor(problems.quadratic.b, { dtype: 'float64' });
    const x = tg.cat(params as Tensor[]);
    return x.matmul(A.matmul(x)).mul(0.5).sub(b.matmul(x));
  }
  const X = tg.tensor(problems.mlp.X, { dtype: 'float64' });
  const Y = tg.tensor(problems.mlp.Y, { dtype: 'float64' });
  const [W1, b1, W2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const h = X.matmul(W1.t()).add(b1).tanh();
  return h.matmul(W2.t()).add(b2).sub(Y).pow(2).mean();
}

/** All parameters flattened and concatenated, as plain numbers. */
export function flatValues(params: readonly Tensor[]): number[] {
  return params.flatMap((p) => Array.from(p.dataSync(), Number));
}

/** `|a − e| ≤ rtol·|e| + atol` for every element, with the first offender in the message. */
export function expectRelClose(actual: readonly number[], expected: readonly number[], rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + atol)) {
      expect.fail(`${what}: element ${i} is ${a}, expected ${e} (rel. error ${Math.abs(a - e) / Math.abs(e)})`);
    }
  }
}
