// The einsum API around the PyTorch fixtures: call forms, the lowering onto matmul, views and
// autograd details. Values compared exactly or within 1e-12 (float64).
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { einsum } from '../../src/einsum/index.js';
import type { Tensor } from '../../src/index.js';

const f64 = (shape: number[], requiresGrad = false): Tensor => tg.randn(shape, { dtype: 'float64', requiresGrad });
const close = (a: Tensor, b: Tensor): boolean => a.allclose(b, { rtol: 1e-12, atol: 1e-12 });

describe('call forms', () => {
  tg.manualSeed(1);
  const a = f64([2, 3]);
  const b = f64([3, 4]);

  test('operands as one array, as torch.einsum("ij,jk", [a, b])', () => {
    expect(close(einsum('ij,jk', [a, b]), a.matmul(b))).toBe(true);
  });

  test('sublist form with a trailing options object', () => {
    expect(close(einsum(a, [0, 1], b, [1, 2], [0, 2], { optimize: 'greedy' }), a.matmul(b))).toBe(true);
  });

  test('sublist labels 0-25 are uppercase, so [27, 0] is "bA"', () => {
    // implicit output sorts A (0) before b (27): the transpose
    expect(close(einsum(a, [27, 0]), a.t())).toBe(true);
  });

  test('argument errors', () => {
    expect(() => einsum('ij')).toThrow('einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list');
    expect(() => einsum(a, [0, 1], b)).toThrow(TypeError);
  });
});

describe('lowering', () => {
  test('bij,bjk->bik is one batched matmul on the operands themselves', () => {
    const a = f64([2, 3, 4], true);
    const b = f64([2, 4, 5], true);
    const out = einsum('bij,bjk->bik', a, b);
    expect(out.gradFn?.name).toBe('MmBackward');
    expect(out.gradFn?.next).toEqual([a.accumulator(), b.accumulator()]);
  });

  test('a product with nothing summed is a broadcasting mul', () => {
    expect(einsum('ij,ij->ij', f64([2, 3], true), f64([2, 3], true)).gradFn?.name).toBe('MulBackward');
  });

  test('three operands become two pairwise matmuls', () => {
    const names: string[] = [];
    let node = einsum('ij,jk,kl->il', f64([2, 3], true), f64([3, 4], true), f64([4, 5], true)).gradFn;
    while (node) {
      names.push(node.name);
      const next = node.next.find((e) => e !== null && 'def' in e);
      node = next && 'def' in next ? next : null;
    }
    expect(names.filter((n) => n === 'MmBackward')).toHaveLength(2);
  });

  test('diagonals are views of the operand', () => {
    const x = f64([3, 3]);
    const d = einsum('ii->i', x);
    expect(d.storage).toBe(x.storage);
    expect(d.stride()).toEqual([4]);
    expect(Array.from(d.dataSync())).toEqual([0, 4, 8].map((i) => x.dataSync()[i]));
  });

  test('an untouched operand comes back as a new tensor (a view), with gradients', () => {
    const x = f64([2, 3], true);
    const y = einsum('ij->ij', x);
    expect(y).not.toBe(x);
    expect(y.storage).toBe(x.storage);
    y.mul(2).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(new Array(6).fill(2));
  });

  test('int32 operands stay int32', () => {
    const a = tg.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    const out = einsum('ij,jk->ik', a, a);
    expect(out.dtype).toBe('int32');
    expect(out.toArray()).toEqual([[7, 10], [15, 22]]);
  });
});

describe('higher-order gradients', () => {
  test('grad of grad of a trace of a product (createGraph)', () => {
    // f(A) = tr(A A) = Σ A_ij A_ji: df/dA = 2 Aᵀ, and Σ_ij d(2Aᵀ)_ij/dA = 2·ones
    const x = f64([3, 3], true);
    const [g] = tg.autograd.grad(einsum('ij,ji->', x, x), [x], { createGraph: true });
    expect(close(g!, x.t().mul(2))).toBe(true);
    const [gg] = tg.autograd.grad(g!.sum(), [x]);
    expect(Array.from(gg!.dataSync())).toEqual(new Array(9).fill(2));
  });

  test('third order through a diagonal: d³/dx³ Σ_i x_ii³', () => {
    const x = f64([2, 2], true);
    const f = (t: Tensor) => einsum('ii,ii,ii->', t, t, t);
    const [g1] = tg.autograd.grad(f(x), [x], { createGraph: true });
    const [g2] = tg.autograd.grad(g1!.sum(), [x], { createGraph: true });
    const [g3] = tg.autograd.grad(g2!.sum(), [x]);
    // 6 on the diagonal, 0 elsewhere
    expect(Array.from(g3!.dataSync())).toEqual([6, 0, 0, 6]);
  });

  test('gradgradcheck on a 4-operand equation with ellipsis and a trace', () => {
    const xs = [f64([2, 3, 3], true), f64([2, 3, 2], true), f64([2, 2], true), f64([2], true)];
    expect(tg.gradgradcheck((...ys) => einsum('...ii,...ij,jk,k->...', ...ys), xs)).toBe(true);
  });
});
