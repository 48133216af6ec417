// Autograd semantics, judged against PyTorch 1.13's observable behaviour (each expectation was
// checked with /usr/bin/python3): accumulation, retain_graph, create_graph and higher order,
// autograd.grad, backward(inputs=), grad mode, detach, retain_grad, hooks, anomaly detection,
// the engine's self-checks and graph shapes. In-place rules: inplace.test.ts; functional
// transforms: functional.test.ts.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';

const SECOND_TIME = /Trying to backward through the graph a second time/;
const f64 = (data: number[] | number, requiresGrad = true): Tensor => tg.tensor(data, { dtype: 'float64', requiresGrad });

describe('backward and .grad', () => {
  test('.grad accumulates across backward calls, in place', () => {
    const x = f64([1, 2, 3]);
    x.mul(x).sum().backward();
    const first = x.grad!;
    expectClose(first, [2, 4, 6]);
    x.mul(x).sum().backward();
    expect(x.grad).toBe(first); // AccumulateGrad adds into the existing tensor
    expectClose(x.grad!, [4, 8, 12]);
    x.grad = null;
    x.sum().backward();
    expectClose(x.grad!, [1, 1, 1]);
  });

  test('.grad never aliases a graph tensor and records nothing', () => {
    const x = f64([1, 2]);
    const y = x.mul(1);
    y.sum().backward();
    expect(x.grad).not.toBe(y);
    expect(x.grad!.requiresGrad).toBe(false);
    expect(x.grad!.gradFn).toBeNull();
    expect(x.grad!.dtype).toBe('float64');
  });

  test('an explicit gradient gives the vector-Jacobian product', () => {
    const x = f64([1, 2, 3]);
    x.pow(2).backward(f64([1, 10, 100], false));
    expectClose(x.grad!, [2, 40, 600]);
  });

  test('PyTorch errors for a missing or wrong root gradient', () => {
    const x = f64([1, 2]);
    expect(() => x.mul(2).backward()).toThrow('grad can be implicitly created only for scalar outputs');
    expect(() => x.sum().backward(f64([1, 2], false))).toThrow('Mismatch in shape: grad_output[0] has a shape of [2] and output[0] has a shape of [].');
    expect(() => tg.tensor([1, 2]).sum().backward()).toThrow('element 0 of tensors does not require grad and does not have a grad_fn');
  });

  test('a one-element non-0-d output gets an implicit gradient', () => {
    const x = f64([3]);
    x.mul(x).backward();
    expectClose(x.grad!, [6]);
  });
});

describe('retainGraph', () => {
  test('ops that save tensors refuse a second backward (PyTorch)', () => {
    const a = f64([1, 2, 3]);
    const b = f64([4, 5, 6]);
    const prod = a.mul(b).sum();
    prod.backward();
    expect(() => prod.backward()).toThrow(SECOND_TIME);
    const e = a.exp().sum();
    e.backward();
    expect(() => e.backward()).toThrow(SECOND_TIME);
    // mul by a scalar saves the wrapped scalar, so it refuses too (MulBackward0 in PyTorch)
    const s = a.mul(2).sum();
    s.backward();
    expect(() => s.backward()).toThrow(SECOND_TIME);
  });

  test('ops that save nothing can run backward twice, accumulating (PyTorch)', () => {
    const a = f64([1, 2, 3]);
    const b = f64([4, 5, 6]);
    const l = a.add(b).sum();
    l.backward();
    l.backward();
    expectClose(a.grad!, [2, 2, 2]);
    expectClose(b.grad!, [2, 2, 2]);
    const v = a.reshape([3, 1]).t().expand([2, 3]).sub(b).neg().sum();
    v.backward();
    v.backward();
    expectClose(a.grad!, [-2, -2, -2]); // 2 + 2·(-2): each row of the expand gives -1
  });

  test('retainGraph keeps saved tensors for another backward', () => {
    const a = f64([1, 2]);
    const l = a.mul(a).sum();
    l.backward(null, { retainGraph: true });
    l.backward(null, { retainGraph: true });
    l.backward();
    expectClose(a.grad!, [6, 12]);
    expect(() => l.backward()).toThrow(SECOND_TIME);
  });

  test('autograd.grad frees the graph too unless retainGraph', () => {
    const a = f64([1, 2]);
    const l = a.exp().sum();
    tg.autograd.grad(l, [a], { retainGraph: true });
    tg.autograd.grad(l, [a]);
    expect(() => l.backward()).toThrow(SECOND_TIME);
  });
});

describe('createGraph and higher order', () => {
  test('d/dx, d²/dx², d³/dx³ of x³ at 2 are 12, 12, 6', () => {
    const x = f64(2);
    const [d1] = tg.autograd.grad(x.pow(3), [x], { createGraph: true });
    const [d2] = tg.autograd.grad(d1!, [x], { createGraph: true });
    const [d3] = tg.autograd.grad(d2!, [x]);
    expect([d1!.item(), d2!.item(), d3!.item()]).toEqual([12, 12, 6]);
    expect(d1!.requiresGrad).toBe(true);
    expect(d3!.requiresGrad).toBe(false);
  });

  test('backward({ createGraph }) leaves a differentiable .grad', () => {
    const x = f64(2);
    x.mul(x).mul(x).backward(null, { createGraph: true });
    const g = x.grad!;
    expect(g.item()).toBe(12);
    expect(g.requiresGrad).toBe(true);
    x.grad = null;
    g.backward();
    expect(x.grad!.item()).toBe(12); // 6x
  });

  test('mixed partials of x²·y and the second derivative of sin', () => {
    const x = f64(1.5);
    const y = f64(-2);
    const [dx] = tg.autograd.grad(x.pow(2).mul(y), [x], { createGraph: true });
    const [dxy, dxx] = tg.autograd.grad(dx!, [y, x]);
    expectClose(dxy!, 3); // 2x
    expectClose(dxx!, -4); // 2y
    const z = f64([0.3, -1.2]);
    const [g] = tg.autograd.grad(z.sin().sum(), [z], { createGraph: true });
    const [gg] = tg.autograd.grad(g!.sum(), [z]);
    expectClose(gg!, [-Math.sin(0.3), -Math.sin(-1.2)], { atol: 1e-12, rtol: 1e-12 });
  });

  test('without createGraph the backward records nothing', () => {
    const x = f64([1, 2]);
    const [g] = tg.autograd.grad(x.pow(3).sum(), [x]);
    expect(g!.requiresGrad).toBe(false);
    expect(g!.gradFn).toBeNull();
  });
});

describe('autograd.grad', () => {
  test('gradOutputs weight the outputs', () => {
    const x = f64([1, 2]);
    const [g] = tg.autograd.grad(x.mul(3), [x], { gradOutputs: [f64([1, 10], false)] });
    expectClose(g!, [3, 30]);
  });

  test('several outputs are summed; several inputs each get theirs', () => {
    const x = f64([1, 2]);
    const w = f64([3, 4]);
    const y = x.mul(w);
    const [gx, gw] = tg.autograd.grad([y.sum(), x.sum()], [x, w]);
    expectClose(gx!, [4, 5]);
    expectClose(gw!, [1, 2]);
    expect(x.grad).toBeNull(); // returned, not accumulated
  });

  test('allowUnused returns null; without it PyTorch raises', () => {
    const x = f64([1, 2]);
    const unused = f64([1, 2]);
    expect(() => tg.autograd.grad(x.sum(), [x, unused])).toThrow(
      'One of the differentiated Tensors (input 1) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.',
    );
    const [gx, gu] = tg.autograd.grad(x.sum(), [x, unused], { allowUnused: true });
    expectClose(gx!, [1, 1]);
    expect(gu).toBeNull();
  });

  test('non-leaf inputs get the gradient flowing into them', () => {
    const x = f64([1, 2]);
    const y = x.mul(3);
    const [gy, gx] = tg.autograd.grad(y.pow(2).sum(), [y, x]);
    expectClose(gy!, [6, 12]); // 2y
    expectClose(gx!, [18, 36]); // 2y·3
  });

  test('inputs must require grad', () => {
    expect(() => tg.autograd.grad(f64([1]).sum(), [tg.tensor([1])])).toThrow('One of the differentiated Tensors does not require grad');
  });
});

describe('backward({ inputs })', () => {
  test('accumulates only into the listed tensors (PyTorch)', () => {
    const x = f64([1, 2]);
    const w = f64([3, 4]);
    x.mul(w).sum().backward(null, { inputs: [w] });
    expect(x.grad).toBeNull();
    expectClose(w.grad!, [1, 2]);
  });

  test('a non-leaf input gets .grad, and its leaves do not', () => {
    const x = f64([1, 2]);
    const y = x.mul(3);
    y.mul(y).sum().backward(null, { inputs: y });
    expect(x.grad).toBeNull();
    expectClose(y.grad!, [6, 12]);
  });

  test('an empty list is an error', () => {
    expect(() => f64([1]).sum().backward(null, { inputs: [] })).toThrow("'inputs' argument to backward() cannot be empty.");
  });
});

describe('grad mode', () => {
  test('noGrad records nothing and restores the mode, also on throw', () => {
    const x = f64([1, 2]);
    const y = tg.noGrad(() => {
      expect(tg.isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(tg.isGradEnabled()).toBe(true);
    expect(() => tg.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(tg.isGradEnabled()).toBe(true);
  });

  test('enableGrad inside noGrad records, and restores no-grad after a throw', () => {
    const x = f64([1, 2]);
    tg.noGrad(() => {
      const y = tg.enableGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(true);
      expect(() => tg.enableGrad(() => { throw new Error('inner'); })).toThrow('inner');
      expect(tg.isGradEnabled()).toBe(false);
    });
    expect(tg.isGradEnabled()).toBe(true);
  });

  test('setGradEnabled: global switch and scoped form', () => {
    const x = f64([1]);
    try {
      tg.setGradEnabled(false);
      expect(x.mul(2).requiresGrad).toBe(false);
      expect(tg.setGradEnabled(true, () => x.mul(2).requiresGrad)).toBe(true);
      expect(tg.isGradEnabled()).toBe(false);
    } finally {
      tg.setGradEnabled(true);
    }
    expect(() => tg.setGradEnabled(false, () => { throw new Error('x'); })).toThrow('x');
    expect(tg.isGradEnabled()).toBe(true);
  });
});

describe('detach and requiresGrad', () => {
  test('detach shares storage, leaves the graph, and sees in-place writes', () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.storage).toBe(y.storage);
    d.add_(1);
    expect(y.toArray()).toEqual([3, 5]);
  });

  test('detach_ turns a non-leaf into a leaf without grad', () => {
    const y = f64([1, 2]).mul(2);
    y.detach_();
    expect([y.requiresGrad, y.isLeaf, y.gradFn]).toEqual([false, true, null]);
    expect(() => y.sum().backward()).toThrow('element 0 of tensors does not require grad');
  });

  test('requiresGrad_ errors (PyTorch wording)', () => {
    expect(() => tg.tensor([1, 2], { dtype: 'int32' }).requiresGrad_()).toThrow('only Tensors of floating point dtype can require gradients');
    expect(() => tg.tensor([true]).requiresGrad_(true)).toThrow('only Tensors of floating point dtype can require gradients');
    expect(() => tg.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow('only Tensors of floating point dtype can require gradients');
    const y = f64([1]).mul(2);
    expect(() => y.requiresGrad_(false)).toThrow('you can only change requires_grad flags of leaf variables.');
    expect(y.requiresGrad_(true)).toBe(y);
    const z = tg.tensor([1]);
    z.requiresGrad = true;
    expect(z.requiresGrad).toBe(true);
    expect(tg.tensor([1], { dtype: 'int32' }).requiresGrad_(false).requiresGrad).toBe(false);
  });
});

describe('retainGrad and hooks', () => {
  test('non-leaf .grad is kept only after retainGrad', () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    const z = x.mul(3);
    y.retainGrad();
    y.add(z).mul(y).sum().backward();
    expectClose(y.grad!, [7, 14]); // d/dy (y + z)·y = 2y + z at y = [2, 4], z = [3, 6]
    expect(z.grad).toBeNull();
    expect(y.retainsGrad).toBe(true);
    expect(() => tg.tensor([1]).mul(2).retainGrad()).toThrow("can't retain_grad on Tensor that has requires_grad=False");
  });

  test('a leaf hook can replace the gradient and be removed', () => {
    const x = f64([1, 2]);
    const h = x.registerHook((g) => g.mul(10));
    x.mul(2).sum().backward();
    expectClose(x.grad!, [20, 20]);
    h.remove();
    x.grad = null;
    x.mul(2).sum().backward();
    expectClose(x.grad!, [2, 2]);
  });

  test('a non-leaf hook changes what flows on; hooks run in registration order', () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    const seen: number[][] = [];
    y.registerHook((g) => g.add(1));
    y.registerHook((g) => { seen.push(Array.from(g.dataSync())); }); // observe only
    y.registerHook((g) => g.mul(10));
    y.retainGrad();
    y.sum().backward();
    expect(seen).toEqual([[2, 2]]);
    expectClose(x.grad!, [40, 40]);
    expectClose(y.grad!, [20, 20]); // hook registered before retainGrad sees the hooked value
  });

  test('hooks: no grad, or a changed shape, are errors', () => {
    expect(() => tg.tensor([1]).registerHook((g) => g)).toThrow("cannot register a hook on a tensor that doesn't require gradient");
    const x = f64([1, 2]);
    x.registerHook((g) => g.sum());
    expect(() => x.mul(2).sum().backward()).toThrow(/hook 'hook' has changed the size of value/);
    const w = f64([1, 2]);
    const y = w.mul(2);
    y.registerHook(function halve(g) { return g.sum().div(2); });
    expect(() => y.sum().backward()).toThrow(/hook 'halve' has changed the size of value/);
  });
});

describe('detectAnomaly', () => {
  test('names the backward op that first produced NaN', () => {
    const x = f64([4, -1]);
    x.sqrt().mul(2).sum().backward(); // silently NaN without anomaly mode
    expect(Number.isNaN(x.grad!.dataSync()[1])).toBe(true);
    expect(() => tg.detectAnomaly(() => x.sqrt().mul(2).sum().backward())).toThrow("Function 'SqrtBackward' returned nan values in its 0th output.");
    expect(tg.autograd.isAnomalyEnabled()).toBe(false);
  });

  test('a global switch; infinite gradients are not anomalies (PyTorch)', () => {
    const x = f64([0]);
    try {
      tg.detectAnomaly(true);
      expect(tg.autograd.isAnomalyEnabled()).toBe(true);
      x.log().sum().backward();
      expect(x.grad!.dataSync()[0]).toBe(Infinity);
      // sqrt(x)·log(x) at 0: MulBackward passes 0 to log, whose 0/0 is the first NaN
      expect(() => x.sqrt().mul(x.log()).sum().backward()).toThrow("Function 'LogBackward' returned nan values in its 0th output.");
    } finally {
      tg.detectAnomaly(false);
    }
    expect(tg.autograd.isAnomalyEnabled()).toBe(false);
  });
});

describe('engine structure', () => {
  test('a wrong gradient shape from a backward formula is caught, naming the op', () => {
    const x = f64([1, 2, 3]);
    const bad = { name: 'bad', forward: ([v]: readonly Tensor[]) => v!, backward: (_c: unknown, g: Tensor) => [g.sum()] };
    const y = x.applyOp(bad, [x], undefined);
    expect(() => y.sum().backward()).toThrow('Function BadBackward returned an invalid gradient at index 0 - got [] but expected shape compatible with [3]');
  });

  test('a diamond graph sums into shared nodes once', () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    let calls = 0;
    y.registerHook((g) => { calls++; expectClose(g, [6, 10]); });
    y.add(y).add(y.mul(y)).sum().backward(); // d/dy (2y + y²) = 2 + 2y at y = [2, 4]
    expect(calls).toBe(1);
    expectClose(x.grad!, [12, 20]);
  });

  test('a 5000-op chain does not overflow the stack (iterative walk)', () => {
    const x = f64([1, 2]);
    let y = x;
    for (let i = 0; i < 5000; i++) y = y.mul(1.0001).add(0.5);
    y.sum().backward();
    expectClose(x.grad!, [1.0001 ** 5000, 1.0001 ** 5000], { atol: 0, rtol: 1e-10 });
  });

  test('a 1000-op chain differentiated twice', () => {
    const x = f64(0.7);
    let y = x;
    for (let i = 0; i < 1000; i++) y = y.mul(1.001);
    const [g] = tg.autograd.grad(y.pow(2), [x], { createGraph: true });
    const [gg] = tg.autograd.grad(g!, [x]);
    expectClose(gg!, 2 * 1.001 ** 2000, { atol: 0, rtol: 1e-10 });
  });

  test('nodes a backward does not run keep their saved tensors (PyTorch)', () => {
    const x = f64([1, 2]);
    const head1 = f64([3, 4]);
    const head2 = f64([5, 6]);
    const trunk = x.exp();
    tg.autograd.grad(trunk.mul(head1).sum(), [head1]); // does not run ExpBackward
    trunk.mul(head2).sum().backward();
    expectClose(x.grad!, [5 * Math.E, 6 * Math.exp(2)], { atol: 1e-12, rtol: 1e-12 });
    const w = f64([3, 4]);
    const h = x.exp();
    h.mul(w).sum().backward(null, { inputs: [w] });
    x.grad = null;
    h.sum().backward();
    expectClose(x.grad!, [Math.E, Math.exp(2)], { atol: 1e-12, rtol: 1e-12 });
  });

  test('inputs that do not require grad get no gradient and no work', () => {
    const x = f64([1, 2]);
    const c = tg.tensor([3, 4], { dtype: 'float64' });
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expect(x.mul(c).gradFn!.next[1]).toBeNull();
  });
});
