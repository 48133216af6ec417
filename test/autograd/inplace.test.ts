// In-place ops under autograd, as PyTorch 1.13 behaves (each case checked with /usr/bin/python3):
// leaves that require grad refuse in-place writes outside noGrad, non-leaves rebase their
// history, and the version counter catches a saved tensor overwritten before backward, but only
// tensors the backward really reads.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';

const MODIFIED = /one of the variables needed for gradient computation has been modified by an inplace operation/;
const leaf = (data: number[]): Tensor => tg.tensor(data, { requiresGrad: true });

describe('leaves', () => {
  test('an in-place op on a leaf that requires grad throws outside noGrad', () => {
    const x = leaf([1, 2]);
    expect(() => x.add_(1)).toThrow('a leaf Variable that requires grad is being used in an in-place operation.');
    expect(() => x.zero_()).toThrow('a leaf Variable that requires grad is being used in an in-place operation.');
    expect(x.toArray()).toEqual([1, 2]);
  });

  test('inside noGrad it works, keeps requiresGrad and bumps the version', () => {
    const x = leaf([1, 2]);
    const v = x.storage.version;
    tg.noGrad(() => x.mul_(3).add_(1));
    expect(x.toArray()).toEqual([4, 7]);
    expect(x.requiresGrad).toBe(true);
    expect(x.isLeaf).toBe(true);
    expect(x.storage.version).toBe(v + 2);
  });

  test('a view of a leaf that requires grad refuses in-place writes (PyTorch wording)', () => {
    const x = leaf([1, 2, 3]);
    expect(() => x.slice(0, 0, 2).mul_(2)).toThrow('a view of a leaf Variable that requires grad is being used in an in-place operation.');
    tg.noGrad(() => x.slice(0, 0, 2).mul_(2));
    expect(x.toArray()).toEqual([2, 4, 3]);
  });

  test('tensors without grad are written in place through views', () => {
    const x = tg.tensor([[1, 2], [3, 4]]);
    x.t().select(0, 1).fill_(0);
    expect(x.toArray()).toEqual([[1, 0], [3, 0]]);
  });
});

describe('non-leaves rebase their history', () => {
  test('y = x*2; y.add_(1) has gradient 2', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.add_(1);
    expect(y.toArray()).toEqual([3, 5]);
    expect(y.gradFn!.name).toBe('AddBackward');
    y.sum().backward();
    expectClose(x.grad!, [2, 2]);
  });

  test('ops whose backward needs the old value: mul_, div_, pow_, exp_, sqrt_ (PyTorch values)', () => {
    const cases: [string, (y: Tensor, x: Tensor) => void, number[]][] = [
      ['mul_(3)', (y) => y.mul_(3), [6, 6]],
      ['div_(x)', (y, x) => y.div_(x), [0, 0]],
      ['pow_(2)', (y) => y.pow_(2), [8, 16]],
      ['exp_()', (y) => y.exp_(), [2 * Math.exp(2), 2 * Math.exp(4)]],
      ['sqrt_()', (y) => y.sqrt_(), [1 / Math.sqrt(2), 0.5]],
      ['clamp_(0, 3)', (y) => y.clamp_(0, 3), [2, 0]],
      ['addcmul_', (y, x) => y.addcmul_(x, x, { value: 0.5 }), [3, 4]],
    ];
    for (const [name, op, grad] of cases) {
      const x = leaf([1, 2]);
      const y = x.mul(2);
      op(y, x);
      y.sum().backward();
      expect(x.grad, name).not.toBeNull();
      expectClose(x.grad!, grad, { atol: 1e-6, rtol: 1e-6 }); // float32
    }
  });

  test('y.mul_(w) gives w the old y (PyTorch saves original_self)', () => {
    const x = leaf([1, 2]);
    const w = leaf([3, 4]);
    const y = x.mul(2);
    y.mul_(w);
    y.sum().backward();
    expectClose(x.grad!, [6, 8]);
    expectClose(w.grad!, [2, 4]);
  });

  test('a tensor without grad becomes part of the graph when written with one that has it', () => {
    const w = leaf([3, 4]);
    const buf = tg.tensor([1, 1]);
    buf.mul_(w).add_(w);
    expect(buf.requiresGrad).toBe(true);
    buf.sum().backward();
    expectClose(w.grad!, [2, 2]);
  });

  test('fill_ / zero_ / uniform_ on a non-leaf cut the old history to a zero gradient (PyTorch)', () => {
    for (const write of [(y: Tensor) => y.fill_(0), (y: Tensor) => y.zero_(), (y: Tensor) => y.uniform_()]) {
      const x = leaf([1, 2]);
      const y = x.mul(2);
      write(y);
      expect(y.requiresGrad).toBe(true);
      y.add(x).sum().backward();
      expectClose(x.grad!, [1, 1]); // only the `+ x` path: the filled values do not depend on x
    }
  });

  test('copy_ into a non-leaf routes the gradient to the source only', () => {
    const x = leaf([1, 2]);
    const s = leaf([5, 6]);
    const y = x.mul(2);
    y.copy_(s.mul(3));
    y.sum().backward();
    expectClose(s.grad!, [3, 3]);
    expectClose(x.grad!, [0, 0]);
  });

  test('an in-place op on a view of a non-leaf rebases the base (CopySlices)', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.slice(0, 0, 1).mul_(3);
    expect(y.gradFn!.name).toBe('CopySlices');
    y.sum().backward();
    expectClose(x.grad!, [6, 2]);
  });
});

describe('version counter', () => {
  test('a saved input overwritten before backward is an error (PyTorch wording)', () => {
    const x = leaf([1, 2]);
    const y = x.mul(1);
    const z = y.sin();
    y.add_(1);
    expect(() => z.sum().backward()).toThrow(MODIFIED);
  });

  test('a saved output overwritten before backward is an error', () => {
    const x = leaf([1, 2]);
    const y = x.exp();
    y.mul_(2); // ExpBackward saved y itself: PyTorch fails too ("output 0 of ExpBackward0")
    expect(() => y.sum().backward()).toThrow(MODIFIED);
    const a = leaf([1, 2]);
    const e = a.exp();
    const f = e.sum();
    e.add_(1); // ExpBackward saved e
    expect(() => f.backward()).toThrow(MODIFIED);
  });

  test('writes through a view bump the shared counter', () => {
    const x = leaf([1, 2]);
    const y = x.mul(1);
    const z = y.sin();
    tg.noGrad(() => y.view([2]).add_(1));
    expect(() => z.sum().backward()).toThrow(MODIFIED);
  });

  test('y.mul_(y) computes forward and fails in backward, as PyTorch', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.mul_(y);
    expect(y.toArray()).toEqual([4, 16]);
    expect(() => y.sum().backward()).toThrow(MODIFIED);
  });

  test('only tensors the backward reads are checked (PyTorch saves by need)', () => {
    const cases: [string, (v: Tensor) => Tensor, number[]][] = [
      ['v * 3', (v) => v.mul(3), [3, 3]],
      ['v / 2', (v) => v.div(2), [0.5, 0.5]],
      ['where(c, v, 0)', (v) => tg.where(tg.tensor([true, false]), v, 0), [1, 0]],
      ['v @ ones', (v) => v.reshape([1, 2]).matmul(tg.ones(2, 2)), [2, 2]],
      ['max(dim).values', (v) => v.reshape([2, 1]).max(1).values, [1, 1]],
      ['indexSelect', (v) => v.indexSelect(0, tg.tensor([1, 1], { dtype: 'int32' })), [0, 2]],
      ['gather', (v) => v.gather(0, tg.tensor([0], { dtype: 'int32' })), [1, 0]],
      ['scatter', (v) => v.scatter(0, tg.tensor([1], { dtype: 'int32' }), 5), [1, 0]],
      ['relu', (v) => v.relu(), [1, 1]],
      ['softmax', (v) => v.softmax(0).select(0, 0), [0.19661193, -0.19661193]],
    ];
    for (const [name, f, grad] of cases) {
      const x = leaf([1, 2]);
      const v = x.mul(1);
      const out = f(v);
      v.add_(1);
      expect(() => out.sum().backward(), name).not.toThrow();
      expectClose(x.grad!, grad, { atol: 1e-6, rtol: 1e-5 });
    }
  });

  test('v * w still checks v when w needs a gradient', () => {
    const x = leaf([1, 2]);
    const w = leaf([3, 4]);
    const v = x.mul(1);
    const out = v.mul(w);
    v.add_(1);
    expect(() => out.sum().backward()).toThrow(MODIFIED);
  });
});
