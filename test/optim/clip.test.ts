/**
 * nn.utils gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_
 * (fixtures: scripts/torch_fixtures_optim.py), plus parametersToVector / vectorToParameters.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { clipGradNorm, clipGradValue, parametersToVector, vectorToParameters } from '../../src/nn/utils.js';
import { expectRelClose, loadFixture } from './helpers.js';

interface Rec {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: number[];
}

interface ClipFixture {
  norm: { maxNorm: number; normType: number | 'inf'; grads: (Rec | null)[]; totalNorm: number; clipped: (Rec | null)[] }[];
  value: { clipValue: number; grads: Rec[]; clipped: Rec[] }[];
}

const fixture = loadFixture<ClipFixture>('clip');

function paramsWithGrads(grads: (Rec | null)[]): Tensor[] {
  return grads.map((g, i) => {
    const like = g ?? grads.find((x) => x !== null)!;
    const p = tg.zeros(g ? g.shape : [i + 1], { dtype: like.dtype, requiresGrad: true });
    if (g) p.grad = tg.tensor(g.data, { dtype: g.dtype, shape: g.shape });
    return p;
  });
}

// Tolerances: float64 cases 1e-12 relative; float32 cases 1e-6 (PyTorch rounds each op to float32).
const tol = (dtype: string): number => (dtype === 'float32' ? 1e-6 : 1e-12);

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  fixture.norm.forEach((c, k) => {
    test(`case ${k}: maxNorm ${c.maxNorm}, normType ${c.normType}`, () => {
      const params = paramsWithGrads(c.grads);
      const dtype = c.grads.find((g) => g)!.dtype;
      const total = clipGradNorm(params, c.maxNorm, { normType: c.normType === 'inf' ? Infinity : c.normType });
      expect(total.shape).toEqual([]);
      expect(total.dtype).toBe(dtype);
      expectRelClose([total.item()], [c.totalNorm], tol(dtype), 0, 'total norm');
      c.clipped.forEach((g, i) => {
        if (g === null) expect(params[i]!.grad).toBeNull();
        else expectRelClose(Array.from(params[i]!.grad!.dataSync()), g.data, tol(dtype), 1e-12, `grad ${i}`);
      });
    });
  });

  test('no gradients: a zero norm and nothing changes', () => {
    const p = tg.zeros([3], { requiresGrad: true });
    expect(clipGradNorm([p], 1).item()).toBe(0);
    expect(p.grad).toBeNull();
  });

  test('a single tensor is accepted', () => {
    const p = tg.zeros([2], { dtype: 'float64', requiresGrad: true });
    p.grad = tg.tensor([3, 4], { dtype: 'float64' });
    expect(clipGradNorm(p, 1).item()).toBe(5);
    expectRelClose(Array.from(p.grad.dataSync()), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], 1e-15, 0, 'clipped');
  });

  test('errorIfNonfinite throws PyTorch\'s error; otherwise NaN propagates', () => {
    const p = tg.zeros([2], { dtype: 'float64', requiresGrad: true });
    p.grad = tg.tensor([Infinity, 1], { dtype: 'float64' });
    expect(() => clipGradNorm([p], 1, { errorIfNonfinite: true })).toThrow(/The total norm of order 2\.0 for gradients from `parameters` is non-finite, so it cannot be clipped/);
    expect(clipGradNorm([p], 1).item()).toBe(Infinity);
    expect(Array.from(p.grad.dataSync())).toEqual([NaN, 0]);
  });
});

describe('clipGradValue matches torch.nn.utils.clip_grad_value_', () => {
  fixture.value.forEach((c) => {
    test(`clipValue ${c.clipValue}`, () => {
      const params = paramsWithGrads(c.grads);
      clipGradValue(params, c.clipValue);
      c.clipped.forEach((g, i) => expect(Array.from(params[i]!.grad!.dataSync())).toEqual(g.data));
    });
  });

  test('parameters without gradients are skipped', () => {
    const a = tg.zeros([2], { requiresGrad: true });
    const b = tg.zeros([2], { requiresGrad: true });
    b.grad = tg.tensor([-3, 0.25]);
    clipGradValue([a, b], 1);
    expect(a.grad).toBeNull();
    expect(b.grad.toArray()).toEqual([-1, 0.25]);
  });
});

describe('parametersToVector / vectorToParameters', () => {
  test('round trip in parameter order, and the vector is differentiable', () => {
    const w = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const b = tg.tensor([5, 6], { requiresGrad: true });
    const v = parametersToVector([w, b]);
    expect(v.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    v.mul(tg.arange(6)).sum().backward();
    expect(w.grad!.toArray()).toEqual([[0, 1], [2, 3]]);
    expect(b.grad!.toArray()).toEqual([4, 5]);
    vectorToParameters(tg.arange(10, 16), [w, b]);
    expect(w.toArray()).toEqual([[10, 11], [12, 13]]);
    expect(b.toArray()).toEqual([14, 15]);
    expect(w.isLeaf && w.requiresGrad).toBe(true);
  });

  test('errors as PyTorch', () => {
    expect(() => vectorToParameters([1, 2] as unknown as Tensor, [tg.zeros([2])])).toThrow(/expected torch.Tensor, but got/);
  });
});
