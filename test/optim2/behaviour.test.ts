/**
 * Behaviour of the part-2 optimizers beyond their trajectories: the wrappers' shared groups and
 * exact restores, weight averages swapped into a model, Schedule-Free's train/eval modes, the
 * matmul-only matrix functions (Newton-Schulz, inverse p-th roots), Newton's damping, K-FAC's
 * hooks, the variance-reduction API, and PyTorch-worded option errors.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { backwardClosure, expectRelClose, flatValues, logregLoss, problemLoss, problemParams } from './helpers.js';

const f64 = (v: number[] | number[][]): Tensor => tg.tensor(v, { dtype: 'float64' });

describe('SAM', () => {
  test('shares its groups with the base optimizer, so schedulers on either reach both', () => {
    const params = problemParams('mlp');
    const base = new optim.SGD(params, { lr: 0.1, momentum: 0.9 });
    const sam = new optim2.SAM(base, { rho: 0.05 });
    expect(sam.paramGroups).toBe(base.paramGroups);
    expect(base.paramGroups[0]!).toMatchObject({ lr: 0.1, rho: 0.05, adaptive: false, momentum: 0.9 });
    const sched = new optim.lrScheduler.StepLR(sam, { stepSize: 1, gamma: 0.5 });
    sam.step(backwardClosure(sam, () => problemLoss('mlp', params)));
    sched.step();
    expect(base.paramGroups[0]!.lr).toBe(0.05);
    sam.addParamGroup({ params: [tg.zeros([2], { dtype: 'float64', requiresGrad: true })], lr: 0.3 });
    expect(base.paramGroups[1]!).toMatchObject({ lr: 0.3, rho: 0.05, momentum: 0.9 });
  });

  test('firstStep/secondStep: perturb by rho along g/‖g‖ and restore the weights exactly', () => {
    const w = f64([3, 4]).requiresGrad_(true);
    const base = new optim.SGD([w], { lr: 0 });
    const sam = new optim2.SAM(base, { rho: 0.5 });
    w.square().sum().backward(); // g = (6, 8), ‖g‖ = 10
    sam.firstStep();
    expect(Array.from(w.dataSync())).toEqual([3 + 0.5 * 0.6, 4 + 0.5 * 0.8].map((v) => expect.closeTo(v, 12)));
    sam.secondStep();
    expect(Array.from(w.dataSync())).toEqual([3, 4]);
    expect(sam.state.size).toBe(0);
  });

  test('ASAM scales the perturbation by w²·g/‖w·g‖', () => {
    const w = f64([1, -2]).requiresGrad_(true);
    const sam = new optim2.SAM(new optim.SGD([w], { lr: 0 }), { rho: 1, adaptive: true });
    w.mul(f64([3, 1])).sum().backward(); // g = (3, 1); |w|·g = (3, 2), norm √13
    sam.firstStep();
    const n = Math.sqrt(13);
    expect(Array.from(w.dataSync())).toEqual([1 + (1 * 3) / n, -2 + (4 * 1) / n].map((v) => expect.closeTo(v, 12)));
  });

  test('needs a closure; loads the base state dict', () => {
    const params = problemParams('mlp');
    const sam = new optim2.SAM(new optim.Adam(params, { lr: 0.01 }));
    expect(() => sam.step()).toThrow('Sharpness Aware Minimization requires closure, but it was not provided');
    expect(() => new optim2.SAM(new optim.Adam(params), { rho: -1 })).toThrow('Invalid rho, should be non-negative: -1');
    expect(() => new optim2.SAM({} as never)).toThrow(TypeError);
    sam.step(backwardClosure(sam, () => problemLoss('mlp', params)));
    expect(Object.keys(sam.stateDict().state)).toHaveLength(4);
    expect(sam.stateDict().paramGroups[0]).toMatchObject({ rho: 0.05, adaptive: false });
  });
});

describe('Lookahead', () => {
  test('syncs every k steps: slow ← slow + α(fast − slow), fast ← slow', () => {
    const w = f64([0]).requiresGrad_(true);
    // With a constant gradient of -1 and SGD lr 1, the fast weights move +1 per step.
    const opt = new optim2.Lookahead(new optim.SGD([w], { lr: 1 }), { k: 3, alpha: 0.5 });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      opt.step(backwardClosure(opt, () => w.neg().sum()));
      seen.push(w.item());
    }
    expect(seen).toEqual([1, 2, 1.5, 2.5, 3.5, 3]);
    expect(() => new optim2.Lookahead(new optim.SGD([w], { lr: 1 }), { k: 0 })).toThrow('Invalid lookahead steps: 0');
    expect(() => new optim2.Lookahead(new optim.SGD([w], { lr: 1 }), { alpha: 2 })).toThrow('Invalid slow update rate: 2');
    expect(() => opt.loadStateDict(new optim.SGD([w], { lr: 1 }).stateDict())).toThrow(/lookaheadState/);
  });
});

describe('EMA and PolyakAveraging', () => {
  function model(): nn.Sequential {
    tg.manualSeed(1);
    return new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
  }

  test('swap exchanges the averages with the live weights in place; withAveraged restores even on throw', () => {
    const m = model();
    const ema = new optim2.EMA(m, { decay: 0.5 });
    const live0 = flatValues(m.parameters());
    tg.noGrad(() => m.parameters().forEach((p) => p.add_(1)));
    ema.update();
    const live = flatValues(m.parameters());
    const expected = live0.map((v, i) => 0.5 * v + 0.5 * live[i]!);
    const seen = ema.withAveraged(() => flatValues(m.parameters()));
    seen.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(flatValues(m.parameters())).toEqual(live);
    const weight = m.parameters()[0]!;
    ema.swap();
    expect(ema.isSwapped).toBe(true);
    expect(m.parameters()[0]).toBe(weight); // same tensors, new values
    expect(() => ema.update()).toThrow(/swapped/);
    ema.swap();
    expect(() => ema.withAveraged(() => { throw new Error('boom'); })).toThrow('boom');
    expect(flatValues(m.parameters())).toEqual(live);
  });

  test('attach updates after every optimizer step; stateDict round-trips through JSON; copyTo fills another model', () => {
    const m = model();
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const ema = new optim2.EMA(m, { decay: 0.9, warmup: true });
    const handle = ema.attach(opt);
    const x = tg.randn([4, 2]);
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      m.call(x).square().mean().backward();
      opt.step();
    }
    expect(ema.numUpdates).toBe(3);
    handle.remove();
    opt.step();
    expect(ema.numUpdates).toBe(3);
    const copy = new optim2.EMA(model(), { decay: 0.9, warmup: true });
    copy.loadStateDict(optim.stateFromJSON(JSON.parse(JSON.stringify(optim.stateToJSON(ema.stateDict() as unknown as optim.StateValue)))));
    expect(copy.numUpdates).toBe(3);
    expect(flatValues(copy.averaged)).toEqual(flatValues(ema.averaged));
    const other = model();
    ema.copyTo(other);
    expect(flatValues(other.parameters())).toEqual(flatValues(ema.averaged));
    expect(() => ema.copyTo([tg.zeros([1])])).toThrow('copyTo: expected 4 tensors, got 1');
    expect(() => new optim2.EMA(m, { decay: 2 })).toThrow('Invalid decay value: 2');
  });

  test('PolyakAveraging is the running mean; buffers are averaged on request', () => {
    const w = tg.zeros([2], { dtype: 'float64' });
    const avg = new optim2.PolyakAveraging([w]);
    [1, 2, 3, 6].forEach((v) => {
      w.fill_(v);
      avg.update();
    });
    expect(Array.from(avg.averaged[0]!.dataSync())).toEqual([3, 3]);
    const bn = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
    expect(new optim2.EMA(bn, { includeBuffers: true }).tracked.length).toBe(bn.parameters().length + 2);
  });
});

describe('Schedule-Free', () => {
  test('eval() puts x in the parameters and train() puts y back; step() refuses eval mode', () => {
    const params = problemParams('mlp');
    const opt = new optim2.ScheduleFreeAdamW(params, { lr: 0.05 });
    const closure = backwardClosure(opt, () => problemLoss('mlp', params));
    for (let i = 0; i < 3; i++) opt.step(closure);
    const y = flatValues(params);
    opt.eval();
    expect(opt.paramGroups[0]!.trainMode).toBe(false);
    const x = flatValues(params);
    expect(x).not.toEqual(y);
    opt.eval(); // idempotent
    expect(flatValues(params)).toEqual(x);
    const k = opt.paramGroups[0]!.k;
    expect(() => opt.step(closure)).toThrow('Optimizer was not in train mode when step is called. Please insert .train() and .eval() calls on the optimizer. See documentation for details.');
    expect(opt.paramGroups[0]!.k).toBe(k);
    opt.train();
    flatValues(params).forEach((v, i) => expect(v).toBeCloseTo(y[i]!, 12));
    expect(() => new optim2.ScheduleFreeSGD(params, { momentum: 0 })).toThrow('Momentum must be between 0 and 1 exclusive: 0');
  });
});

describe('matmul-only matrix functions', () => {
  test('matrixInversePthRoot matches the eigendecomposition on an ill-conditioned SPD matrix', () => {
    const g = tg.randn([6, 3], { dtype: 'float64', generator: new tg.Generator().manualSeed(3) });
    const A = g.matmul(g.t()).add(tg.eye(6, { dtype: 'float64' }).mul(1e-5)); // rank 3 plus ε·I: cond ~1e6
    for (const p of [1, 2, 4, 6]) {
      const H = optim2.matrixInversePthRoot(A, p);
      let Hp = H;
      for (let i = 1; i < p; i++) Hp = Hp.matmul(H);
      expect(Hp.matmul(A).sub(tg.eye(6, { dtype: 'float64' })).abs().max().item(), `p=${p}`).toBeLessThan(1e-8);
    }
    expect(() => optim2.matrixInversePthRoot(tg.zeros([2, 3]), 2)).toThrow('expects a square matrix');
    expect(() => optim2.matrixInversePthRoot(tg.eye(2), 1.5)).toThrow('p should be a positive integer, got 1.5');
  });

  test('zeropowerViaNewtonSchulz pushes the singular values towards 1 (tall and wide)', () => {
    for (const shape of [[8, 3], [3, 8]]) {
      const G = tg.randn(shape, { dtype: 'float64', generator: new tg.Generator().manualSeed(7) }).mul(5);
      const O = optim2.zeropowerViaNewtonSchulz(G);
      expect(O.shape).toEqual(shape);
      const small = shape[0]! > shape[1]! ? O.t().matmul(O) : O.matmul(O.t());
      // The quintic iteration trades exactness for speed: singular values land in about [0.7, 1.2].
      const diag = Array.from(small.dataSync()).filter((_, i) => i % 4 === 0);
      diag.forEach((d) => expect(Math.sqrt(d)).toBeGreaterThan(0.5));
      diag.forEach((d) => expect(Math.sqrt(d)).toBeLessThan(1.3));
    }
  });

  test('Muon accepts only 2-D parameters, with PyTorch message', () => {
    expect(() => new optim2.Muon([tg.zeros([3], { requiresGrad: true })])).toThrow('Muon only supports 2D parameters whereas we found a parameter with size: [3]');
    expect(() => new optim2.Muon([tg.zeros([3, 2], { requiresGrad: true })], { adjustLrFn: 'bogus' as never })).toThrow('Adjust learning rate function bogus is not supported');
    expect(optim2.muonAdjustedLr(0.1, null, [8, 2])).toBeCloseTo(0.2, 12);
    expect(optim2.muonAdjustedLr(0.1, 'match_rms_adamw', [8, 2])).toBeCloseTo(0.1 * 0.2 * Math.sqrt(8), 12);
  });
});

describe('Shampoo', () => {
  test('keeps full statistics up to maxPreconditionerDim and diagonals beyond', () => {
    const W = tg.randn([6, 2], { requiresGrad: true });
    const opt = new optim2.Shampoo([W], { maxPreconditionerDim: 4 });
    opt.step(backwardClosure(opt, () => W.square().sum()));
    const s = opt.state.get(W)!;
    expect(s.statistics.map((t) => t.shape)).toEqual([[6], [2, 2]]);
    expect(s.preconditioners.map((t) => t.shape)).toEqual([[6], [2, 2]]);
    expect(() => new optim2.Shampoo([W], { grafting: 'rmsprop' as never })).toThrow('Invalid grafting type: rmsprop');
    expect(() => new optim2.Shampoo([W], { preconditionFrequency: 0 })).toThrow('Invalid precondition frequency: 0');
  });
});

describe('Newton and NewtonCG', () => {
  test('raise the damping until H + λI is positive definite (a saddle)', () => {
    const x = f64([0.5, 0.5]).requiresGrad_(true);
    const opt = new optim2.Newton([x], { lineSearch: null });
    opt.step(() => x.select(0, 0).square().sub(x.select(0, 1).square())); // H = diag(2, −2)
    const s = opt.state.get(x)!;
    expect(s.damping).toBeGreaterThan(2);
    expect(s.nIter).toBe(1);
    // A descent step: f went down.
    expect(x.select(0, 0).square().sub(x.select(0, 1).square()).item()).toBeLessThan(0);
  });

  test('need a loss closure that does not call backward', () => {
    const x = f64([1]).requiresGrad_(true);
    const opt = new optim2.NewtonCG([x]);
    expect(() => opt.step()).toThrow('NewtonCG.step() requires a closure that computes and returns the loss');
    expect(() => opt.step(() => 3)).toThrow(TypeError);
    expect(() => opt.step(() => x.detach().sum())).toThrow('the loss does not require grad');
    expect(() => new optim2.Newton([x], { lineSearch: 'wolfe' as never })).toThrow("only 'armijo' line search is supported, got wolfe");
  });
});

describe('KFAC and DiagonalFisher', () => {
  test('find the Linear layers, read them through hooks, and step other parameters with SGD', () => {
    tg.manualSeed(0);
    const scale = new nn.Parameter(tg.ones([1]));
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const opt = new optim2.KFAC(model, { params: [...model.parameters(), scale], lr: 0.1, momentum: 0 });
    expect(opt.layers).toHaveLength(2);
    const x = tg.randn([8, 3]);
    const closure = backwardClosure(opt, () => model.call(x).mul(scale).square().mean());
    opt.step(closure);
    expect(opt.state.get(model.parameters()[0]!)!.factorA!.shape).toEqual([4, 4]);
    expect(opt.state.get(model.parameters()[0]!)!.factorG!.shape).toEqual([4, 4]);
    // `scale` is not in a Linear layer: a plain SGD step.
    const before = scale.item();
    opt.zeroGrad();
    model.call(x).mul(scale).square().mean().backward();
    const g = scale.grad!.item();
    opt.step();
    expect(scale.item()).toBeCloseTo(before - 0.1 * g, 6);
  });

  test('without hooks (removed) every parameter takes plain momentum-SGD steps', () => {
    tg.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const twin = new nn.Sequential(new nn.Linear(3, 2));
    tg.noGrad(() => twin.parameters().forEach((p, i) => p.copy_(model.parameters()[i]!)));
    const opt = new optim2.DiagonalFisher(model, { lr: 0.1 });
    opt.removeHooks();
    const sgd = new optim.SGD(twin.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = tg.randn([5, 3]);
    for (let i = 0; i < 3; i++) {
      opt.step(backwardClosure(opt, () => model.call(x).square().mean()));
      sgd.step(backwardClosure(sgd, () => twin.call(x).square().mean()));
    }
    // float32: the same steps up to rounding (SGD adds −lr·g, this subtracts lr·g)
    expectRelClose(flatValues(model.parameters()), flatValues(twin.parameters()), 1e-6, 1e-7, 'plain SGD');
  });

  test('option errors', () => {
    const model = new nn.Sequential(new nn.Linear(3, 2));
    expect(() => new optim2.KFAC(model, { invUpdateFrequency: 0 })).toThrow('Invalid TInv value: 0');
    expect(() => new optim2.KFAC(model, { statDecay: 1 })).toThrow('Invalid stat_decay value: 1');
    expect(() => new optim2.DiagonalFisher(model, { lr: -1 })).toThrow('Invalid learning rate: -1');
  });
});

describe('variance reduction API', () => {
  test('draws indices from its generator, counts gradient evaluations, validates indices', () => {
    const params = problemParams('logreg');
    const opt = new optim2.SVRG(params, { lr: 0.1, numSamples: 10, batchSize: 2, updateFrequency: 3, generator: new tg.Generator().manualSeed(0) });
    const seen: (readonly number[])[] = [];
    const lossOf = (idx: readonly number[]): Tensor => {
      seen.push(idx);
      return logregLoss(params, idx);
    };
    const loss = opt.step(lossOf);
    expect(loss).toBeInstanceOf(tg.Tensor);
    // snapshot (all 10 samples), then the batch at w and at the snapshot
    expect(seen.map((s) => s.length)).toEqual([10, 2, 2]);
    expect(opt.gradientEvaluations).toBe(14);
    opt.step(lossOf);
    opt.step(lossOf);
    opt.step(lossOf); // 4th step: a new snapshot (m = 3)
    expect(opt.gradientEvaluations).toBe(14 + 4 + 4 + 10 + 4);
    expect(() => opt.step(lossOf, 10)).toThrow('sample index 10 is out of range for numSamples=10');
    expect(() => opt.step(lossOf, [])).toThrow('step() needs at least one sample index');
    expect(() => opt.step()).toThrow('SVRG.step() requires a sample loss');
    expect(() => new optim2.SAGA(params, { numSamples: 0 })).toThrow('num_samples should be a positive integer value, but got num_samples=0');
    expect(() => new optim2.SAGA(params, { numSamples: 5, tableInit: 'mean' as never })).toThrow("tableInit should be 'zeros' or 'full', got mean");
  });

  test('SAG normalises by the samples seen so far; SAGA keeps the table mean', () => {
    const params = problemParams('logreg');
    const sag = new optim2.SAG(params, { lr: 0.1, numSamples: 10 });
    sag.step((idx) => logregLoss(params, idx), [2, 2, 5]);
    const s = sag.state.get(params[0]!)!;
    expect(Array.from(s.seen!.dataSync()).reduce((a, b) => a + b)).toBe(2);
    const saga = new optim2.SAGA(problemParams('logreg'), { lr: 0.1, numSamples: 10, tableInit: 'full' });
    const ps = saga.paramGroups[0]!.params;
    saga.step((idx) => logregLoss(ps, idx), 4);
    const st = saga.state.get(ps[0]!)!;
    const table = Array.from(st.table.dataSync());
    const mean = [0, 1, 2].map((j) => table.filter((_, i) => i % 3 === j).reduce((a, b) => a + b) / 10);
    Array.from(st.tableSum.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(mean[j]!, 12));
    expect(saga.gradientEvaluations).toBe(11);
  });
});

describe('option errors worded as PyTorch', () => {
  const p = (): Tensor[] => [tg.zeros([2, 2], { requiresGrad: true })];
  test.each([
    ['Lion', () => new optim2.Lion(p(), { lr: -0.1 }), 'Invalid learning rate: -0.1'],
    ['Lion betas', () => new optim2.Lion(p(), { betas: [1.5, 0.9] }), 'Invalid beta parameter at index 0: 1.5'],
    ['LAMB eps', () => new optim2.LAMB(p(), { eps: -1 }), 'Invalid epsilon value: -1'],
    ['LAMB clamp', () => new optim2.LAMB(p(), { clampValue: 0 }), 'Invalid clamp value: 0'],
    ['LARS', () => new optim2.LARS(p(), { weightDecay: -1 }), 'Invalid weight_decay value: -1'],
    ['Adafactor lr', () => new optim2.Adafactor(p(), { lr: -1 }), 'Learning rate should be >= 0 but is: -1'],
    ['Adafactor decay', () => new optim2.Adafactor(p(), { beta2Decay: 0.5 }), 'beta2_decay should be <= 0 but is: 0.5'],
    ['Adafactor eps1', () => new optim2.Adafactor(p(), { eps: [-1, 1e-3] }), 'epsilon1 should be >= 0 but is: -1'],
    ['Adafactor d', () => new optim2.Adafactor(p(), { d: 0.5 }), 'Clipping threshold d should be >= 1'],
    ['Muon momentum', () => new optim2.Muon(p(), { momentum: -1 }), 'momentum should be >= 0 but is: -1'],
    ['Shampoo eps', () => new optim2.Shampoo(p(), { epsilon: 0 }), 'Invalid epsilon value: 0'],
    ['ScheduleFreeAdamW', () => new optim2.ScheduleFreeAdamW(p(), { betas: [0.9, 1] }), 'Invalid beta parameter at index 1: 1'],
    ['Newton', () => new optim2.Newton(p(), { damping: -1 }), 'Invalid damping value: -1'],
    ['empty', () => new optim2.Lion([]), 'optimizer got an empty parameter list'],
  ] as const)('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});
