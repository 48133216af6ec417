/**
 * Shared pieces of the optim2 tests: the problems of scripts/optim2_reference.py (written as the
 * script writes them), a fixture loader for test/fixtures/optim2/*.json, parameter groups split
 * as the script splits them, and a relative-closeness check.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type * as optim from '../../src/optim/index.js';

export type Options = Record<string, unknown>;
export type ProblemName = 'mlp' | 'mlp2d' | 'rosenbrock' | 'quadratic' | 'logreg' | 'cube';
type Nested = number | Nested[];

interface ProblemsFile {
  mlp: { X: number[][]; Y: number[][]; init: Nested[] };
  mlp2d: { X: number[][]; Y: number[][]; init: Nested[] };
  rosenbrock: { init: Nested[] };
  quadratic: { A: number[][]; b: number[]; init: Nested[] };
  logreg: { X: number[][]; y: number[]; init: Nested[] };
  cube: { C: Nested[]; S: Nested[]; init: Nested[] };
}

/** A fixture configuration: options, optional groups, the trajectory after each step. */
export interface Config {
  name: string;
  problem: ProblemName;
  options: Options;
  groups?: [Options, Options];
  trajectory: number[][];
  final?: number[];
  indices?: number[][];
  base?: 'SGD' | 'Adam';
  baseOptions?: Options;
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/optim2/${name}.json`, import.meta.url), 'utf8')) as T;
}

export const problems = loadFixture<ProblemsFile>('problems');
/** The logreg problem's ridge term, carried by every sample's loss. */
export const LOGREG_L2 = 0.1;

const f64 = (v: Nested | Nested[]): Tensor => tg.tensor(v as number[], { dtype: 'float64' });

/** Fresh float64 leaf parameters at the problem's starting point. */
export function problemParams(name: ProblemName): Tensor[] {
  return problems[name].init.map((v) => tg.tensor(v as number[] | number, { dtype: 'float64', requiresGrad: true }));
}

/** The logreg loss over the samples `indices` (all by default): mean logistic loss plus the ridge term. */
export function logregLoss(params: readonly Tensor[], indices?: readonly number[]): Tensor {
  let X = f64(problems.logreg.X);
  let y = f64(problems.logreg.y);
  if (indices) {
    const idx = tg.tensor([...indices], { dtype: 'int32' });
    X = X.indexSelect(0, idx);
    y = y.indexSelect(0, idx);
  }
  const [w, b] = params as [Tensor, Tensor];
  const margin = y.mul(X.matmul(w).add(b)).neg();
  return margin.exp().log1p().mean().add(w.square().sum().add(b.square().sum()).mul(0.5 * LOGREG_L2));
}

/** The problem's loss, as the Python script writes it. */
export function problemLoss(name: ProblemName, params: readonly Tensor[]): Tensor {
  if (name === 'mlp' || name === 'mlp2d') {
    const X = f64(problems[name].X);
    const Y = f64(problems[name].Y);
    if (name === 'mlp') {
      const [W1, b1, W2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
      return X.matmul(W1.t()).add(b1).tanh().matmul(W2.t()).add(b2).sub(Y).square().mean();
    }
    const [W1, W2] = params as [Tensor, Tensor];
    return X.matmul(W1.t()).tanh().matmul(W2.t()).sub(Y).square().mean();
  }
  if (name === 'rosenbrock') {
    const [x, y] = params as [Tensor, Tensor];
    return x.rsub(1).square().add(y.sub(x.square()).square().mul(100)).sum();
  }
  if (name === 'quadratic') {
    const A = f64(problems.quadratic.A);
    const b = f64(problems.quadratic.b);
    const x = tg.cat(params as Tensor[]);
    return x.matmul(A.matmul(x)).mul(0.5).sub(b.matmul(x));
  }
  if (name === 'cube') {
    const [W, s] = params as [Tensor, Tensor];
    const C = f64(problems.cube.C);
    const S = f64(problems.cube.S);
    return S.mul(W.sub(C).square()).mean().add(W.sum().mul(s).tanh().square()).add(s.sub(0.5).square());
  }
  return logregLoss(params);
}

/** Parameters, or two groups (first and second half) with the config's overrides. */
export function paramsArg(params: Tensor[], groups: Config['groups']): optim.ParamsArg<never> {
  if (!groups) return params as optim.ParamsArg<never>;
  const half = Math.ceil(params.length / 2);
  return [{ ...groups[0], params: params.slice(0, half) }, { ...groups[1], params: params.slice(half) }] as unknown as optim.ParamsArg<never>;
}

/** All parameters flattened and concatenated. */
export function flatValues(params: readonly Tensor[]): number[] {
  return params.flatMap((p) => Array.from(p.dataSync(), Number));
}

/** The usual closure: zero the gradients, compute the loss, backward, return it. */
export function backwardClosure(opt: { zeroGrad(): void }, loss: () => Tensor): () => Tensor {
  return () => {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    return l;
  };
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

// Fixture tolerances: float64 throughout; 1e-9 relative (atol 1e-12 for values crossing zero).
export const RTOL = 1e-9;
export const ATOL = 1e-12;
