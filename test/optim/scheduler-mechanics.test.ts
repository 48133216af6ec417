/**
 * LRScheduler mechanics beyond the recorded curves: PyTorch's errors, `initialLr` and resuming
 * with `lastEpoch`, the epoch-0 step in the constructor, closed forms, and state dicts
 * (through JSON, with ReduceLROnPlateau's infinite `best`).
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import * as optim from '../../src/optim/index.js';

const S = optim.lrScheduler;
const sgd = (lr = 0.1, groups = 1): optim.SGD =>
  new optim.SGD(Array.from({ length: groups }, () => ({ params: [tg.zeros([1], { requiresGrad: true })] })), { lr, momentum: 0.9 });

describe('LRScheduler base mechanics', () => {
  test('the constructor applies the epoch-0 rate and records initialLr', () => {
    const opt = sgd(0.1);
    const sched = new S.LinearLR(opt, { startFactor: 0.5, totalIters: 4 });
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
    expect(opt.paramGroups[0]!.initialLr).toBe(0.1);
    expect(sched.lastEpoch).toBe(0);
    expect(sched.baseLrs).toEqual([0.1]);
    expect(sched.getLastLr()).toEqual([0.05]);
    // initialLr is in the optimizer's state dict, as PyTorch's initial_lr
    expect(opt.stateDict().paramGroups[0]!['initialLr']).toBe(0.1);
  });

  test('resuming with lastEpoch needs initialLr in every group', () => {
    expect(() => new S.StepLR(sgd(), { stepSize: 2, lastEpoch: 5 })).toThrow("param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer");
    const opt = sgd(0.1);
    opt.paramGroups[0]!.initialLr = 0.1;
    const sched = new S.StepLR(opt, { stepSize: 2, gamma: 0.5, lastEpoch: 5 });
    expect(sched.lastEpoch).toBe(6);
    expect(opt.paramGroups[0]!.lr).toBe(0.05); // chainable: epoch 6 is a decay step from the current lr
  });

  test('step(epoch) uses the closed form where PyTorch has one', () => {
    const opt = sgd(1);
    const sched = new S.ExponentialLR(opt, { gamma: 0.5 });
    sched.step(3);
    expect(opt.paramGroups[0]!.lr).toBe(0.125);
    sched.step();
    expect(opt.paramGroups[0]!.lr).toBe(0.0625);
  });

  test('CosineAnnealingLR: the chainable form follows the closed form', () => {
    const opt = sgd(0.1);
    const sched = new S.CosineAnnealingLR(opt, { TMax: 7, etaMin: 0.01 });
    for (let e = 1; e <= 40; e++) {
      sched.step();
      const closed = 0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * e) / 7))) / 2;
      expect(opt.paramGroups[0]!.lr).toBeCloseTo(closed, 12);
    }
  });

  test('scheduler errors as PyTorch words them', () => {
    const opt = sgd();
    expect(() => new S.StepLR({} as optim.SGD, { stepSize: 1 })).toThrow('Object is not an Optimizer');
    expect(() => new S.LambdaLR(sgd(0.1, 2), { lrLambda: [() => 1] })).toThrow('Expected 2 lr_lambdas, but got 1');
    expect(() => new S.ConstantLR(opt, { factor: 2 })).toThrow('Constant multiplicative factor expected to be between 0 and 1.');
    expect(() => new S.LinearLR(opt, { startFactor: 0 })).toThrow('Starting multiplicative factor expected to be greater than 0 and less or equal to 1.');
    expect(() => new S.LinearLR(opt, { endFactor: 1.5 })).toThrow('Ending multiplicative factor expected to be between 0 and 1.');
    expect(() => new S.ReduceLROnPlateau(opt, { factor: 1 })).toThrow('Factor should be < 1.0.');
    expect(() => new S.ReduceLROnPlateau(opt, { mode: 'up' as 'min' })).toThrow('mode up is unknown!');
    expect(() => new S.ReduceLROnPlateau(opt, { thresholdMode: 'x' as 'rel' })).toThrow('threshold mode x is unknown!');
    expect(() => new S.ReduceLROnPlateau(opt, { minLr: [0, 0] })).toThrow('expected 1 min_lrs, got 2');
    expect(() => new S.CyclicLR(opt, { baseLr: 0.1, maxLr: 1, mode: 'x' as 'triangular' })).toThrow('mode is invalid and scale_fn is None');
    expect(() => new S.CyclicLR(new optim.Adagrad([tg.zeros([1], { requiresGrad: true })]), { baseLr: 0.1, maxLr: 1 })).toThrow('optimizer must support momentum or beta1 with `cycle_momentum` option enabled');
    expect(() => new S.OneCycleLR(opt, { maxLr: 1 })).toThrow('You must define either total_steps OR (epochs AND steps_per_epoch)');
    expect(() => new S.OneCycleLR(opt, { maxLr: 1, totalSteps: 0 })).toThrow('Expected positive integer total_steps, but got 0');
    expect(() => new S.OneCycleLR(opt, { maxLr: 1, totalSteps: 10, annealStrategy: 'exp' as 'cos' })).toThrow("anneal_strategy must by one of 'cos' or 'linear', instead got exp");
    expect(() => new S.OneCycleLR(opt, { maxLr: [1, 2], totalSteps: 10 })).toThrow('expected 1 values for max_lr, got 2');
    expect(() => new S.CosineAnnealingWarmRestarts(opt, { T0: 0 })).toThrow('Expected positive integer T_0, but got 0');
    expect(() => new S.CosineAnnealingWarmRestarts(opt, { T0: 2, TMult: 1.5 })).toThrow('Expected integer T_mult >= 1, but got 1.5');
    const a = new S.StepLR(opt, { stepSize: 1 });
    expect(() => new S.SequentialLR(opt, { schedulers: [a], milestones: [3] })).toThrow('Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers 1 and the number of milestones to be equal to 1');
    expect(() => new S.SequentialLR(sgd(), { schedulers: [a], milestones: [] })).toThrow('Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index 0 to be different than the optimizer passed in.');
    expect(() => new S.ChainedScheduler([a, new S.StepLR(sgd(), { stepSize: 1 })])).toThrow('ChainedScheduler expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and 1 to be different');
    expect(() => new optim.swaUtils.SWALR(opt, { swaLr: 0.1, annealEpochs: -1 })).toThrow('anneal_epochs must be equal or greater than 0, got -1');
  });

  test('OneCycleLR refuses to step past totalSteps', () => {
    const sched = new S.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) sched.step();
    expect(() => sched.step()).toThrow('Tried to step 5 times. The specified number of total steps is 3');
  });
});

describe('scheduler state dicts', () => {
  test.each([
    ['OneCycleLR', (o: optim.SGD) => new S.OneCycleLR(o, { maxLr: 0.5, totalSteps: 30, threePhase: true })],
    ['CyclicLR', (o: optim.SGD) => new S.CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, mode: 'triangular2' })],
    ['CosineAnnealingWarmRestarts', (o: optim.SGD) => new S.CosineAnnealingWarmRestarts(o, { T0: 3, TMult: 2 })],
    ['CosineAnnealingLR', (o: optim.SGD) => new S.CosineAnnealingLR(o, { TMax: 5 })],
    ['LambdaLR', (o: optim.SGD) => new S.LambdaLR(o, { lrLambda: (e) => 1 / (1 + e) })],
    ['SequentialLR', (o: optim.SGD) => new S.SequentialLR(o, { schedulers: [new S.LinearLR(o, { totalIters: 3 }), new S.ExponentialLR(o, { gamma: 0.9 })], milestones: [3] })],
    ['ChainedScheduler', (o: optim.SGD) => new S.ChainedScheduler([new S.MultiStepLR(o, { milestones: [2, 6] }), new S.ExponentialLR(o, { gamma: 0.9 })])],
    ['SWALR', (o: optim.SGD) => new optim.swaUtils.SWALR(o, { swaLr: 0.05, annealEpochs: 6 })],
  ] as const)('%s resumes exactly through JSON', (_name, make) => {
    const optA = sgd(0.1);
    const a = make(optA);
    const lrsA: number[] = [];
    for (let i = 0; i < 25; i++) {
      a.step();
      lrsA.push(optA.paramGroups[0]!.lr);
    }
    const optB = sgd(0.1);
    const b = make(optB);
    for (let i = 0; i < 10; i++) b.step();
    const text = JSON.stringify({ opt: optim.stateToJSON(optB.stateDict()), sched: optim.stateToJSON(b.stateDict()) });
    const saved = JSON.parse(text) as { opt: optim.JsonValue; sched: optim.JsonValue };
    const optC = sgd(0.1);
    const c = make(optC);
    optC.loadStateDict(optim.stateFromJSON(saved.opt));
    c.loadStateDict(optim.stateFromJSON(saved.sched));
    const lrsC: number[] = [];
    for (let i = 10; i < 25; i++) {
      c.step();
      lrsC.push(optC.paramGroups[0]!.lr);
    }
    expect(lrsC).toEqual(lrsA.slice(10));
    expect(c.getLastLr()).toEqual(a.getLastLr());
  });

  test('ReduceLROnPlateau keeps an infinite best and its counters through JSON', () => {
    const opt = sgd(1);
    const p = new S.ReduceLROnPlateau(opt, { patience: 1, mode: 'max' });
    expect(p.stateDict()['best']).toBe(-Infinity);
    p.step(tg.tensor(0.5));
    p.step(0.4);
    const q = new S.ReduceLROnPlateau(sgd(1), { patience: 1, mode: 'max' });
    q.loadStateDict(optim.stateFromJSON(JSON.parse(JSON.stringify(optim.stateToJSON(p.stateDict())))));
    expect(q.stateDict()).toEqual(p.stateDict());
    p.step(0.3);
    q.step(0.3);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1, 15);
    expect(q.getLastLr()).toEqual(p.getLastLr());
  });

  test('lambdas are left out of the state dict', () => {
    const sd = new S.LambdaLR(sgd(), { lrLambda: (e) => 0.9 ** e }).stateDict();
    expect(Object.keys(sd).sort()).toEqual(['baseLrs', 'lastEpoch', 'lastLr', 'stepCount']);
  });
});
