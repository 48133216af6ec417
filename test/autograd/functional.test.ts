// tg.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp on functions with hand-computed
// derivatives, in every input/output form (one tensor or a list), as torch.autograd.functional.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';

const F = tg.autograd.functional;
const f64 = (data: number[] | number[][] | number): Tensor => tg.tensor(data, { dtype: 'float64' });
const diag = (v: number[]): number[][] => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
const TOL = { atol: 1e-12, rtol: 1e-12 };
const x = () => f64([1, 2, 3]);

describe('jacobian', () => {
  test('one input, one output: J of x² is diag(2x); of sum is ones', () => {
    expectClose(F.jacobian((a) => a.pow(2), x()) as Tensor, diag([2, 4, 6]), TOL);
    expectClose(F.jacobian((a) => a.sum(), x()) as Tensor, [1, 1, 1], TOL);
    expectClose(F.jacobian((a) => a.mul(a), f64(3)) as Tensor, 6, TOL); // 0-d in and out
  });

  test('shape is out.shape ++ in.shape: J of A·Aᵀ', () => {
    const J = F.jacobian((a) => a.matmul(a.t()), f64([[1, 2], [3, 4]])) as Tensor;
    expect(J.shape).toEqual([2, 2, 2, 2]);
    // d(AAᵀ)_ij / dA_kl = δ_ik A_jl + δ_jk A_il
    expectClose(J, [[[[2, 4], [0, 0]], [[3, 4], [1, 2]]], [[[3, 4], [1, 2]], [[0, 0], [6, 8]]]], TOL);
  });

  test('list forms: two inputs, two outputs, both', () => {
    const b = f64([4, 5, 6]);
    const two = F.jacobian((p, q) => p.mul(q), [x(), b]) as Tensor[];
    expectClose(two[0]!, diag([4, 5, 6]), TOL);
    expectClose(two[1]!, diag([1, 2, 3]), TOL);
    const outs = F.jacobian((p) => [p.mul(2), p.sum()], x()) as Tensor[];
    expectClose(outs[0]!, diag([2, 2, 2]), TOL);
    expectClose(outs[1]!, [1, 1, 1], TOL);
    const both = F.jacobian((p, q) => [p.mul(q), p.sum()], [x(), b]) as Tensor[][];
    expectClose(both[0]![1]!, diag([1, 2, 3]), TOL);
    expectClose(both[1]![0]!, [1, 1, 1], TOL);
    expectClose(both[1]![1]!, [0, 0, 0], TOL); // sum(p) does not depend on q
  });

  test('independent outputs give zeros, or errors in strict mode', () => {
    expectClose(F.jacobian(() => tg.tensor(1, { dtype: 'float64' }), x()) as Tensor, [0, 0, 0]);
    expect(() => F.jacobian(() => tg.tensor(1), x(), { strict: true })).toThrow('Output 0 of the user-provided function is independent of input 0. This is not allowed in strict mode.');
  });

  test('results are detached unless createGraph', () => {
    const a = tg.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    expect((F.jacobian((p) => p.pow(3), a) as Tensor).requiresGrad).toBe(false);
    const J = F.jacobian((p) => p.pow(3), a, { createGraph: true }) as Tensor;
    expect(J.requiresGrad).toBe(true);
    J.sum().backward(); // Σ_ii 3a_i² → 6a
    expectClose(a.grad!, [6, 12, 18], TOL);
  });
});

describe('hessian', () => {
  test('H of Σx³ is diag(6x)', () => {
    expectClose(F.hessian((a) => a.pow(3).sum(), x()) as Tensor, diag([6, 12, 18]), TOL);
  });

  test('two inputs give the block matrix: Σ p·q has [[0, I], [I, 0]]', () => {
    const H = F.hessian((p, q) => p.mul(q).sum(), [x(), f64([4, 5, 6])]) as Tensor[][];
    expectClose(H[0]![0]!, diag([0, 0, 0]), TOL);
    expectClose(H[0]![1]!, diag([1, 1, 1]), TOL);
    expectClose(H[1]![0]!, diag([1, 1, 1]), TOL);
    expectClose(H[1]![1]!, diag([0, 0, 0]), TOL);
  });

  test('a non-quadratic with cross terms: f = x0²·x1 + sin(x1)', () => {
    const H = F.hessian((a) => a.select(0, 0).pow(2).mul(a.select(0, 1)).add(a.select(0, 1).sin()), f64([1.5, 0.5])) as Tensor;
    expectClose(H, [[2 * 0.5, 2 * 1.5], [2 * 1.5, -Math.sin(0.5)]], TOL);
  });

  test('the function must return one element', () => {
    expect(() => F.hessian((a) => a.pow(2), x())).toThrow('The function given to hessian should return a single element Tensor, but got shape [3]');
  });
});

describe('vjp / jvp', () => {
  test('vjp: outputs and vᵀJ, one or two inputs', () => {
    const [out, g] = F.vjp((a) => a.pow(2), x(), f64([1, 0.5, -1]));
    expectClose(out as Tensor, [1, 4, 9], TOL);
    expectClose(g as Tensor, [2, 2, -6], TOL);
    const [, gs] = F.vjp((p, q) => p.mul(q), [x(), f64([4, 5, 6])], f64([1, 1, 1]));
    expectClose((gs as Tensor[])[0]!, [4, 5, 6], TOL);
    expectClose((gs as Tensor[])[1]!, [1, 2, 3], TOL);
  });

  test('vjp: v may be omitted only for a one-element output (PyTorch)', () => {
    const [out, g] = F.vjp((a) => a.pow(2).sum(), x());
    expectClose(out as Tensor, 14, TOL);
    expectClose(g as Tensor, [2, 4, 6], TOL);
    expect(() => F.vjp((a) => a.mul(2), x())).toThrow('The vector v can only be None if the user-provided function returns a single Tensor with a single element.');
  });

  test('jvp: outputs and Jv, several inputs and outputs', () => {
    const [out, jv] = F.jvp((a) => a.pow(2), x(), f64([1, 0, -2]));
    expectClose(out as Tensor, [1, 4, 9], TOL);
    expectClose(jv as Tensor, [2, 0, -12], TOL);
    // f(p, q) = p·q with v = (1, 0): J v = q
    const [, jv2] = F.jvp((p, q) => p.mul(q), [x(), f64([4, 5, 6])], [f64([1, 1, 1]), f64([0, 0, 0])]);
    expectClose(jv2 as Tensor, [4, 5, 6], TOL);
    const [outs, jvs] = F.jvp((a) => [a.pow(2), a.sum()], x(), f64([1, 1, 1]));
    expectClose((outs as Tensor[])[1]!, 6, TOL);
    expectClose((jvs as Tensor[])[0]!, [2, 4, 6], TOL);
    expectClose((jvs as Tensor[])[1]!, 3, TOL);
  });

  test('jvp: v may be omitted only for a one-element input (PyTorch)', () => {
    const [, jv] = F.jvp((a) => a.mul(a).mul(3), f64([2]));
    expectClose(jv as Tensor, [12], TOL);
    expect(() => F.jvp((a) => a.mul(2), x())).toThrow('The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.');
  });
});

describe('hvp / vhp', () => {
  test('Σx³: H v = 6x·v', () => {
    const [out, hv] = F.hvp((a) => a.pow(3).sum(), x(), f64([1, -1, 2]));
    expectClose(out, 36, TOL);
    expectClose(hv as Tensor, [6, -12, 36], TOL);
    const [, vh] = F.vhp((a) => a.pow(3).sum(), x(), f64([1, -1, 2]));
    expectClose(vh as Tensor, [6, -12, 36], TOL);
  });

  test('two inputs: Σ p·q with v = (1, 0) gives (0, 1)', () => {
    const [out, hv] = F.hvp((p, q) => p.mul(q).sum(), [x(), f64([4, 5, 6])], [f64([1, 1, 1]), f64([0, 0, 0])]);
    expectClose(out, 32, TOL);
    expectClose((hv as Tensor[])[0]!, [0, 0, 0], TOL);
    expectClose((hv as Tensor[])[1]!, [1, 1, 1], TOL);
  });

  test('a linear function has a zero Hessian; createGraph keeps the result differentiable', () => {
    const [, hv] = F.hvp((a) => a.sum(), x(), f64([1, 1, 1]));
    expectClose(hv as Tensor, [0, 0, 0]);
    const a = tg.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const [, h] = F.hvp((p) => p.pow(3).sum(), a, f64([1, 1, 1]), { createGraph: true });
    expect((h as Tensor).requiresGrad).toBe(true);
    (h as Tensor).sum().backward(); // Σ 6a → 6
    expectClose(a.grad!, [6, 6, 6], TOL);
  });
});
