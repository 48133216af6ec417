// AccumulateGrad takes a gradient buffer nothing else references as `.grad` instead of copying it
// (PyTorch's use_count check). These tests pin down that a taken buffer never aliases anything a
// user, a hook, another leaf or the graph still holds, and that accumulation stays correct.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';

const arr = (t: tg.Tensor) => Array.from(t.dataSync());

describe('gradient buffers taken by leaves', () => {
  test('a fresh gradient becomes .grad without a copy; accumulation continues in place', () => {
    const x = tg.tensor([1, 2, 3]).requiresGrad_();
    x.mul(2).sum().backward();
    expect(arr(x.grad!)).toEqual([2, 2, 2]);
    const before = x.grad!;
    x.mul(3).sum().backward();
    expect(x.grad).toBe(before);
    expect(arr(x.grad!)).toEqual([5, 5, 5]);
  });

  test('one gradient passed through to two leaves (add) gives each leaf its own buffer', () => {
    const a = tg.tensor([1, 2]).requiresGrad_();
    const b = tg.tensor([3, 4]).requiresGrad_();
    const g = tg.tensor([0.5, 0.25]);
    a.add(b).backward(g);
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    expect(a.grad!.storage).not.toBe(g.storage);
    a.add(b).mul(tg.tensor([2, 2])).backward(g);
    expect(arr(a.grad!)).toEqual([1.5, 0.75]);
    expect(arr(b.grad!)).toEqual([1.5, 0.75]);
    expect(arr(g)).toEqual([0.5, 0.25]);
  });

  test('mul by a leaf: gradients for both operands are separate, saved tensors untouched', () => {
    const a = tg.tensor([1, 2, 3]).requiresGrad_();
    const b = tg.tensor([4, 5, 6]).requiresGrad_();
    const y = a.mul(b);
    y.sum().backward({ retainGraph: true });
    y.sum().backward();
    expect(arr(a.grad!)).toEqual([8, 10, 12]);
    expect(arr(b.grad!)).toEqual([2, 4, 6]);
    expect(arr(a)).toEqual([1, 2, 3]);
    expect(arr(b)).toEqual([4, 5, 6]);
  });

  test('a leaf hook that keeps the gradient it saw never sees it change', () => {
    const x = tg.tensor([1, 2]).requiresGrad_();
    const seen: tg.Tensor[] = [];
    x.registerHook((g) => void seen.push(g));
    x.mul(2).sum().backward();
    x.mul(2).sum().backward();
    expect(arr(x.grad!)).toEqual([4, 4]);
    expect(seen.map(arr)).toEqual([[2, 2], [2, 2]]);
  });

  test('retainGrad on a non-leaf and the leaf below it hold different buffers', () => {
    const x = tg.tensor([1, 2]).requiresGrad_();
    const h = x.mul(3);
    h.retainGrad();
    h.mul(2).sum().backward();
    expect(arr(h.grad!)).toEqual([2, 2]);
    expect(arr(x.grad!)).toEqual([6, 6]);
    x.mul(1).sum().backward();
    expect(arr(h.grad!)).toEqual([2, 2]);
    expect(arr(x.grad!)).toEqual([7, 7]);
  });

  test('a gradient that is a view of the incoming one (reshape) is copied', () => {
    const x = tg.tensor([1, 2, 3, 4]).requiresGrad_();
    const g = tg.tensor([[1, 2], [3, 4]]);
    x.reshape([2, 2]).backward(g);
    expect(x.grad!.storage).not.toBe(g.storage);
    x.reshape([2, 2]).backward(g);
    expect(arr(g)).toEqual([1, 2, 3, 4]);
    expect(arr(x.grad!)).toEqual([2, 4, 6, 8]);
  });

  test('a leaf used twice sums into a fresh buffer; a linear layer trains as before', () => {
    const x = tg.tensor([1, 2]).requiresGrad_();
    x.mul(x).sum().backward();
    expect(arr(x.grad!)).toEqual([2, 4]);
    tg.manualSeed(0);
    const lin = new tg.nn.Linear(3, 2);
    const inp = tg.randn([4, 3]);
    lin.call(inp).sum().backward();
    const w1 = arr(lin.weight.grad!);
    lin.call(inp).sum().backward();
    expect(arr(lin.weight.grad!)).toEqual(w1.map((v) => v * 2));
    expect(arr(lin.bias!.grad!)).toEqual([8, 8]);
  });

  test('a view of a fresh gradient (w.t() in a linear layer) is taken; hooks and retainGrad on the view keep theirs', () => {
    const w = tg.tensor([[1, 2, 3], [4, 5, 6]]).requiresGrad_();
    const x = tg.tensor([[1, 0, 1], [0, 1, 1]]);
    const wt = w.t();
    wt.retainGrad();
    const seen: tg.Tensor[] = [];
    const wt2 = w.t();
    wt2.registerHook((g) => void seen.push(g));
    x.matmul(wt).sum().add(x.matmul(wt2).sum()).backward();
    const first = arr(w.grad!);
    // d/d(w.t()) of sum(x @ w.t()) = x^T @ ones = [[1, 1], [1, 1], [2, 2]]; two paths into w.
    expect(first).toEqual([2, 2, 4, 2, 2, 4]);
    expect(arr(wt.grad!)).toEqual([1, 1, 1, 1, 2, 2]);
    x.matmul(w.t()).sum().backward();
    expect(arr(w.grad!)).toEqual([3, 3, 6, 3, 3, 6]);
    expect(arr(wt.grad!)).toEqual([1, 1, 1, 1, 2, 2]);
    expect(seen.map(arr)).toEqual([[1, 1, 1, 1, 2, 2]]);
    // The weight's gradient is not a view and owns its buffer.
    expect(w.grad!.base).toBeNull();
    expect(w.grad!.isContiguous()).toBe(true);
  });
});
