/**
 * What every part-2 optimizer shares with the part-1 optimizers: parameter groups, resuming from
 * `stateDict()` (through JSON), schedulers driving `group.lr`, and `maximize` (maximizing −L
 * retraces minimizing L).
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { backwardClosure, flatValues, expectRelClose, logregLoss, paramsArg, problemLoss, problemParams, problems, type Options, type ProblemName } from './helpers.js';

type AnyOptimizer = optim.Optimizer<optim.OptimizerOptions, unknown>;

interface Run {
  params: Tensor[];
  opt: AnyOptimizer;
  /** Step k, on the loss multiplied by `sign`. */
  step(k: number, sign: number): void;
}

/** Build a run: options (maximize among them) and optional two-group overrides. */
type Setup = (options: Options, groups?: [Options, Options]) => Run;

const INDICES = [3, 7, 1, 1, 9, 0, 4, 6, 2, 8, 5, 3];

function plain(problem: ProblemName, make: (p: optim.ParamsArg<never>, o: Options) => AnyOptimizer, base: Options): Setup {
  return (options, groups) => {
    const params = problemParams(problem);
    const opt = make(paramsArg(params, groups), { ...base, ...options });
    return { params, opt, step: (_k, sign) => void opt.step(backwardClosure(opt, () => problemLoss(problem, params).mul(sign))) };
  };
}

function wrapped(wrap: (base: AnyOptimizer, o: Options) => AnyOptimizer, makeBase: (p: optim.ParamsArg<never>, o: Options) => AnyOptimizer, base: Options): Setup {
  return (options, groups) => {
    const params = problemParams('mlp');
    const opt = wrap(makeBase(paramsArg(params, groups), { ...base, ...options }), {});
    return { params, opt, step: (_k, sign) => void opt.step(backwardClosure(opt, () => problemLoss('mlp', params).mul(sign))) };
  };
}

function second(make: (p: optim.ParamsArg<never>, o: Options) => AnyOptimizer, base: Options): Setup {
  return (options, groups) => {
    const params = problemParams('logreg');
    const opt = make(paramsArg(params, groups), { ...base, ...options });
    return { params, opt, step: (_k, sign) => void opt.step(() => problemLoss('logreg', params).mul(sign)) };
  };
}

function natural(Ctor: typeof optim2.KFAC | typeof optim2.DiagonalFisher, base: Options): Setup {
  return (options, groups) => {
    const model = new nn.Sequential(new nn.Linear(3, 5, { dtype: 'float64' }), new nn.Tanh(), new nn.Linear(5, 2, { dtype: 'float64' }));
    const params = model.parameters();
    tg.noGrad(() => params.forEach((p, i) => p.copy_(tg.tensor(problems.mlp.init[i] as number[], { dtype: 'float64' }))));
    const X = tg.tensor(problems.mlp.X, { dtype: 'float64' });
    const Y = tg.tensor(problems.mlp.Y, { dtype: 'float64' });
    const opt = new Ctor(model, { ...base, ...options, ...(groups && { params: paramsArg(params, groups) as optim.ParamsArg<never> }) });
    return { params, opt, step: (_k, sign) => void opt.step(backwardClosure(opt, () => nn.functional.mseLoss(model.call(X), Y).mul(sign))) };
  };
}

function reduced(Ctor: typeof optim2.SVRG | typeof optim2.SAG | typeof optim2.SAGA, base: Options): Setup {
  return (options, groups) => {
    const params = problemParams('logreg');
    const opt = new Ctor(paramsArg(params, groups), { numSamples: 10, ...base, ...options } as never);
    return { params, opt, step: (k, sign) => void opt.step((idx) => logregLoss(params, idx).mul(sign), INDICES[k % INDICES.length]!) };
  };
}

const cast = <T>(f: T): ((p: optim.ParamsArg<never>, o: Options) => AnyOptimizer) => f as unknown as (p: optim.ParamsArg<never>, o: Options) => AnyOptimizer;
const ctor = (C: unknown) => cast((p: optim.ParamsArg<never>, o: Options) => new (C as new (p: unknown, o: unknown) => AnyOptimizer)(p, o));

const SETUPS: Record<string, Setup> = {
  Lion: plain('mlp', ctor(optim2.Lion), { lr: 1e-2, weightDecay: 0.1 }),
  LAMB: plain('mlp', ctor(optim2.LAMB), { lr: 1e-2, weightDecay: 0.01 }),
  LARS: plain('mlp', ctor(optim2.LARS), { lr: 5 }),
  Adafactor: plain('mlp', ctor(optim2.Adafactor), { lr: 0.05, weightDecay: 0.1 }),
  Muon: plain('mlp2d', ctor(optim2.Muon), { lr: 0.02 }),
  Shampoo: plain('mlp', ctor(optim2.Shampoo), { lr: 0.05, grafting: 'adam', momentum: 0.5, preconditionFrequency: 2 }),
  ScheduleFreeSGD: plain('mlp', ctor(optim2.ScheduleFreeSGD), { lr: 0.5, warmupSteps: 2 }),
  ScheduleFreeAdamW: plain('mlp', ctor(optim2.ScheduleFreeAdamW), { lr: 0.05, weightDecay: 0.01 }),
  SAM: wrapped((b) => new optim2.SAM(b, { rho: 0.1 }), ctor(optim.SGD), { lr: 0.1, momentum: 0.9 }),
  'SAM (adaptive)': wrapped((b) => new optim2.SAM(b, { rho: 0.5, adaptive: true }), ctor(optim.Adam), { lr: 0.01 }),
  Lookahead: wrapped((b) => new optim2.Lookahead(b, { k: 2, alpha: 0.5 }), ctor(optim.Adam), { lr: 0.05 }),
  Newton: second(ctor(optim2.Newton), { damping: 1e-3 }),
  NewtonCG: second(ctor(optim2.NewtonCG), { cgTol: 1e-6 }),
  KFAC: natural(optim2.KFAC, { lr: 0.05, invUpdateFrequency: 2 }),
  DiagonalFisher: natural(optim2.DiagonalFisher, { lr: 1e-3 }),
  SVRG: reduced(optim2.SVRG, { lr: 0.5, updateFrequency: 4 }),
  SAG: reduced(optim2.SAG, { lr: 0.5 }),
  SAGA: reduced(optim2.SAGA, { lr: 0.5, tableInit: 'full' }),
};

const CASES = Object.entries(SETUPS);

describe('maximize: maximizing −L retraces minimizing L', () => {
  test.each(CASES)('%s', (_name, setup) => {
    const up = setup({ maximize: true });
    const down = setup({ maximize: false });
    const start = flatValues(down.params);
    for (let k = 0; k < 5; k++) {
      up.step(k, -1);
      down.step(k, 1);
      expectRelClose(flatValues(up.params), flatValues(down.params), 1e-12, 1e-15, `step ${k + 1}`);
    }
    expect(flatValues(down.params)).not.toEqual(start);
  });
});

describe('stateDict: resuming through JSON continues the same trajectory', () => {
  test.each(CASES)('%s', (_name, setup) => {
    const straight = setup({});
    for (let k = 0; k < 6; k++) straight.step(k, 1);
    const first = setup({});
    for (let k = 0; k < 3; k++) first.step(k, 1);
    const saved = JSON.stringify(optim.stateToJSON(first.opt.stateDict() as unknown as optim.StateValue));
    const resumed = setup({});
    tg.noGrad(() => resumed.params.forEach((p, i) => p.copy_(first.params[i]!)));
    resumed.opt.loadStateDict(optim.stateFromJSON(JSON.parse(saved)));
    for (let k = 3; k < 6; k++) resumed.step(k, 1);
    expectRelClose(flatValues(resumed.params), flatValues(straight.params), 1e-13, 1e-15, 'after resuming');
  });
});

describe('schedulers drive group.lr: a LambdaLR run equals setting the rates by hand', () => {
  test.each(CASES)('%s', (_name, setup) => {
    const factor = (epoch: number): number => 0.5 ** epoch;
    const scheduled = setup({});
    const sched = new optim.lrScheduler.LambdaLR(scheduled.opt, { lrLambda: factor });
    const manual = setup({});
    const constant = setup({});
    const baseLrs = manual.opt.paramGroups.map((g) => g.lr);
    for (let k = 0; k < 4; k++) {
      scheduled.step(k, 1);
      sched.step();
      manual.opt.paramGroups.forEach((g, i) => (g.lr = baseLrs[i]! * factor(k)));
      manual.step(k, 1);
      constant.step(k, 1);
    }
    expect(flatValues(scheduled.params)).toEqual(flatValues(manual.params));
    expect(flatValues(scheduled.params)).not.toEqual(flatValues(constant.params));
    expect(scheduled.opt.paramGroups[0]!.lr).toBe(baseLrs[0]! * factor(4));
  });
});

describe('parameter groups: each group steps with its own options', () => {
  test.each(CASES)('%s', (_name, setup) => {
    const run = setup({}, [{ lr: 0 }, {}]);
    expect(run.opt.paramGroups).toHaveLength(2);
    const half = Math.ceil(run.params.length / 2);
    const before = run.params.map((p) => Array.from(p.dataSync()));
    for (let k = 0; k < 3; k++) run.step(k, 1);
    run.params.forEach((p, i) => {
      if (i < half) expect(Array.from(p.dataSync()), `frozen param ${i}`).toEqual(before[i]);
    });
    expect(run.params.slice(half).some((p, i) => Array.from(p.dataSync()).some((v, j) => v !== before[half + i]![j]))).toBe(true);
  });
});
