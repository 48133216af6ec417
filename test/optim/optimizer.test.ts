/**
 * The Optimizer base class: PyTorch's parameter-group mechanics, validation messages, state
 * keyed by parameter, zeroGrad, step closures and hooks, stateDict layout and loading.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';

const leaf = (values: number[]): Tensor => tg.tensor(values, { dtype: 'float64', requiresGrad: true });

function gradStep(opt: optim.Optimizer<optim.OptimizerOptions>, params: Tensor[]): void {
  opt.zeroGrad();
  params.reduce((acc: Tensor | null, p) => (acc ? acc.add(p.square().sum()) : p.square().sum()), null)!.backward();
  opt.step();
}

describe('parameter groups', () => {
  test('defaults fill in missing options; per-group options override them', () => {
    const a = leaf([1]);
    const b = leaf([2]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5, nesterov: true, momentum: 0.9 }], { lr: 0.1, momentum: 0.5 });
    expect(opt.paramGroups).toHaveLength(2);
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.5, dampening: 0, weightDecay: 0, nesterov: false, maximize: false });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.5, momentum: 0.9, nesterov: true });
    expect(opt.paramGroups[0]!.params[0]).toBe(a);
    expect(new optim.Adam([a]).paramGroups[0]).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(new optim.AdamW([a]).paramGroups[0]!.weightDecay).toBe(1e-2);
    expect(new optim.Adadelta([a]).paramGroups[0]!.lr).toBe(1.0);
    expect(new optim.LBFGS([a], { maxIter: 8 }).paramGroups[0]).toMatchObject({ maxEval: 10, toleranceGrad: 1e-7, historySize: 100, lineSearchFn: null });
  });

  test('addParamGroup adds a group and its parameters get updated', () => {
    const a = leaf([1]);
    const b = leaf([1]);
    const opt = new optim.SGD([a], { lr: 0.1 });
    opt.addParamGroup({ params: b, lr: 0.2 });
    gradStep(opt, [a, b]);
    expect(a.item()).toBeCloseTo(0.8, 15);
    expect(b.item()).toBeCloseTo(0.6, 15);
    expect(() => opt.addParamGroup({ params: [b] })).toThrow('some parameters appear in more than one parameter group');
  });

  test('a parameter without a gradient is skipped and gets no state', () => {
    const a = leaf([1]);
    const b = leaf([1]);
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    opt.zeroGrad();
    a.square().sum().backward();
    opt.step();
    expect(b.item()).toBe(1);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.get(a)?.step).toBe(1);
  });
});

describe('validation with PyTorch\'s messages', () => {
  const p = (): Tensor[] => [leaf([1])];
  test.each([
    ['Invalid learning rate: -0.1', () => new optim.SGD(p(), { lr: -0.1 })],
    ['Invalid momentum value: -1', () => new optim.SGD(p(), { momentum: -1 })],
    ['Invalid weight_decay value: -0.5', () => new optim.Adam(p(), { weightDecay: -0.5 })],
    ['Invalid epsilon value: -1e-08', () => new optim.Adam(p(), { eps: -1e-8 })],
    ['Invalid beta parameter at index 0: 1.5', () => new optim.Adam(p(), { betas: [1.5, 0.999] })],
    ['Invalid beta parameter at index 1: 1', () => new optim.AdamW(p(), { betas: [0.9, 1] })],
    ['Nesterov momentum requires a momentum and zero dampening', () => new optim.SGD(p(), { nesterov: true })],
    ['Nesterov momentum requires a momentum and zero dampening', () => new optim.SGD(p(), { nesterov: true, momentum: 0.9, dampening: 0.1 })],
    ['Invalid rho value: 1.5', () => new optim.Adadelta(p(), { rho: 1.5 })],
    ['Invalid lr_decay value: -1', () => new optim.Adagrad(p(), { lrDecay: -1 })],
    ['Invalid initial_accumulator_value value: -1', () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 })],
    ['Invalid momentum_decay value: -1', () => new optim.NAdam(p(), { momentumDecay: -1 })],
    ['Invalid alpha value: -1', () => new optim.RMSprop(p(), { alpha: -1 })],
    ['Invalid eta values: 1.5, 1.2', () => new optim.Rprop(p(), { etas: [1.5, 1.2] })],
    ['Invalid learning rate: nan', () => new optim.ASGD(p(), { lr: NaN })],
    ["LBFGS doesn't support per-parameter options (parameter groups)", () => new optim.LBFGS([{ params: [leaf([1])] }, { params: [leaf([2])] }])],
    ["only 'strong_wolfe' is supported", () => new optim.LBFGS(p(), { lineSearchFn: 'wolfe' as 'strong_wolfe' })],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  test('bad parameter lists', () => {
    expect(() => new optim.SGD([])).toThrow('optimizer got an empty parameter list');
    expect(() => new optim.SGD(leaf([1]) as unknown as Tensor[])).toThrow('params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.DoubleTensor');
    const x = leaf([1]);
    expect(() => new optim.SGD([x.mul(2)])).toThrow("can't optimize a non-leaf Tensor");
    expect(() => new optim.SGD([{ params: [x] }, { params: [x] }])).toThrow('some parameters appear in more than one parameter group');
    expect(() => new optim.SGD([{ params: new Set([x]) }])).toThrow('optimizer parameters need to be organized in ordered collections');
    expect(() => new optim.SGD([3 as unknown as Tensor])).toThrow('param group must be a dict');
    expect(() => new optim.SGD([x, 3 as unknown as Tensor])).toThrow('optimizer can only optimize Tensors, but one of the params is number');
  });

  test('a non-leaf that retains its grad can be optimized', () => {
    const y = leaf([1]).mul(2);
    y.retainGrad();
    expect(() => new optim.SGD([y])).not.toThrow();
  });
});

describe('zeroGrad, step and hooks', () => {
  test('zeroGrad sets grads to null by default, or zeros them in place', () => {
    const a = leaf([1, 2]);
    const opt = new optim.SGD([a], { lr: 0.1 });
    a.sum().backward();
    const g = a.grad!;
    opt.zeroGrad(false);
    expect(a.grad).toBe(g);
    expect(g.toArray()).toEqual([0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  test('step(closure) runs the closure with grad enabled (even under noGrad) and returns its loss', () => {
    const a = leaf([3]);
    const opt = new optim.SGD([a], { lr: 0.25 });
    const loss = tg.noGrad(() => opt.step(() => {
      expect(tg.isGradEnabled()).toBe(true);
      opt.zeroGrad();
      const l = a.square().sum();
      l.backward();
      return l;
    }));
    expect(loss!.item()).toBe(9);
    expect(a.item()).toBe(1.5);
    expect(opt.step()).toBeUndefined();
  });

  test('the update runs without recording a graph and bumps the version counter', () => {
    const a = leaf([3]);
    const opt = new optim.SGD([a], { lr: 0.25 });
    a.square().sum().backward();
    const version = a.storage.version;
    opt.step();
    expect(a.isLeaf).toBe(true);
    expect(a.gradFn).toBeNull();
    expect(a.storage.version).toBe(version + 1);
  });

  test('pre and post hooks run around step and can be removed', () => {
    const a = leaf([1]);
    const opt = new optim.SGD([a], { lr: 0.1 });
    const log: string[] = [];
    const pre = opt.registerStepPreHook((o) => void log.push(`pre ${o.paramGroups[0]!.params[0]!.item()}`));
    const post = opt.registerStepPostHook((o) => void log.push(`post ${o.paramGroups[0]!.params[0]!.item()}`));
    a.sum().backward();
    opt.step();
    expect(log).toEqual(['pre 1', 'post 0.9']);
    pre.remove();
    post.remove();
    opt.step();
    expect(log).toHaveLength(2);
  });

  test('LBFGS needs a closure', () => {
    const opt = new optim.LBFGS([leaf([1])]);
    expect(() => opt.step()).toThrow('LBFGS.step() requires a closure');
  });

  test('toString prints the groups as PyTorch does', () => {
    const opt = new optim.Adam([leaf([1])], { lr: 0.01 });
    expect(String(opt)).toBe('Adam (\nParameter Group 0\n    amsgrad: false\n    betas: (0.9, 0.999)\n    decoupledWeightDecay: false\n    eps: 1e-08\n    lr: 0.01\n    maximize: false\n    weightDecay: 0\n)');
  });
});

describe('stateDict / loadStateDict', () => {
  test('PyTorch layout: state by parameter index, groups with parameter indices', () => {
    const a = leaf([1, 2]);
    const b = leaf([3]);
    const c = leaf([4]);
    const opt = new optim.SGD([{ params: [a, b] }, { params: [c], lr: 0.5 }], { lr: 0.1, momentum: 0.9 });
    gradStep(opt, [a, c]);
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '2']);
    expect(sd.paramGroups.map((g) => g['params'])).toEqual([[0, 1], [2]]);
    expect(sd.paramGroups[1]).toMatchObject({ lr: 0.5, momentum: 0.9 });
    const buf = sd.state['0']!['momentumBuffer'] as Tensor;
    expect(buf.toArray()).toEqual([2, 4]);
    // a copy: later steps leave it alone
    gradStep(opt, [a, c]);
    expect(buf.toArray()).toEqual([2, 4]);
  });

  test('loading casts state tensors to the parameter dtype and restores group options', () => {
    const a32 = tg.tensor([1, 2], { requiresGrad: true });
    const a64 = leaf([1, 2]);
    const src = new optim.Adam([a64], { lr: 0.1 });
    gradStep(src, [a64]);
    src.paramGroups[0]!.lr = 0.05;
    const dst = new optim.Adam([a32], { lr: 0.1 });
    dst.loadStateDict(src.stateDict());
    expect(dst.paramGroups[0]!.lr).toBe(0.05);
    expect(dst.paramGroups[0]!.params[0]).toBe(a32);
    const s = dst.state.get(a32)!;
    expect(s.step).toBe(1);
    expect(s.expAvg.dtype).toBe('float32');
    expect(s.expAvg.toArray()).toEqual([Math.fround(0.2), Math.fround(0.4)]);
  });

  test('mismatched state dicts are rejected', () => {
    const opt = new optim.SGD([leaf([1]), leaf([2])]);
    const other = new optim.SGD([leaf([1])]);
    expect(() => opt.loadStateDict(other.stateDict())).toThrow("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    const two = new optim.SGD([{ params: [leaf([1])] }, { params: [leaf([1])] }]);
    expect(() => opt.loadStateDict(two.stateDict())).toThrow('loaded state dict has a different number of parameter groups');
  });

  test('JSON round trip keeps every bit, including non-finite numbers', () => {
    const a = tg.tensor([0.1, -3, 1e-30], { requiresGrad: true });
    const opt = new optim.Adam([a], { lr: 0.1, amsgrad: true });
    gradStep(opt, [a]);
    const text = JSON.stringify(optim.stateToJSON(opt.stateDict()));
    const back = optim.stateFromJSON(JSON.parse(text));
    const fresh = new optim.Adam([tg.tensor([0.1, -3, 1e-30], { requiresGrad: true })], { lr: 0.1, amsgrad: true });
    fresh.loadStateDict(back);
    const [s1, s2] = [opt.state.get(a)!, fresh.state.values().next().value!];
    expect(Array.from(s2.expAvgSq.dataSync())).toEqual(Array.from(s1.expAvgSq.dataSync()));
    expect(s2.maxExpAvgSq!.dtype).toBe('float32');
    expect(optim.stateFromJSON(JSON.parse(JSON.stringify(optim.stateToJSON({ best: Infinity, x: [NaN, -Infinity] }))))).toEqual({ best: Infinity, x: [NaN, -Infinity] });
  });
});
