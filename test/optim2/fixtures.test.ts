/**
 * Every optimizer of part 2, step by step against the independent float64 reference
 * implementations of scripts/optim2_reference.py (each written from its paper's pseudo-code or
 * PyTorch's documented algorithm): parameters after every step within 1e-9 relative.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import {
  ATOL, backwardClosure, flatValues, expectRelClose, loadFixture, logregLoss, paramsArg, problemLoss, problemParams, problems, RTOL,
  type Config, type Options,
} from './helpers.js';

type Ctor = new (params: optim.ParamsArg<never>, options: Options) => optim.Optimizer<optim.OptimizerOptions>;

const PLAIN: Record<string, Ctor> = {
  lion: optim2.Lion as unknown as Ctor,
  lamb: optim2.LAMB as unknown as Ctor,
  lars: optim2.LARS as unknown as Ctor,
  adafactor: optim2.Adafactor as unknown as Ctor,
  muon: optim2.Muon as unknown as Ctor,
  shampoo: optim2.Shampoo as unknown as Ctor,
  schedule_free_sgd: optim2.ScheduleFreeSGD as unknown as Ctor,
  schedule_free_adamw: optim2.ScheduleFreeAdamW as unknown as Ctor,
};

function configs(name: string): Config[] {
  return loadFixture<{ configs: Config[] }>(name).configs;
}

function expectTrajectory(config: Config, params: Tensor[], step: number): void {
  expectRelClose(flatValues(params), config.trajectory[step]!, RTOL, ATOL, `${config.name}, step ${step + 1}`);
}

for (const [name, Ctor] of Object.entries(PLAIN)) {
  describe(`${name} matches its reference`, () => {
    test.each(configs(name).map((c) => [c.name, c] as const))('%s', (_label, config) => {
      const params = problemParams(config.problem);
      const opt = new Ctor(paramsArg(params, config.groups), config.options);
      const closure = backwardClosure(opt, () => problemLoss(config.problem, params));
      config.trajectory.forEach((_, step) => {
        opt.step(closure);
        expectTrajectory(config, params, step);
      });
      if (config.final) {
        (opt as unknown as optim2.ScheduleFreeSGD).eval();
        expectRelClose(flatValues(params), config.final, RTOL, ATOL, `${config.name}: x after eval()`);
      }
    });
  });
}

const BASES = { SGD: optim.SGD, Adam: optim.Adam } as const;

describe('SAM matches its reference', () => {
  test.each(configs('sam').map((c) => [c.name, c] as const))('%s', (_label, config) => {
    const params = problemParams('mlp');
    // Per-group SAM options (rho) may sit in the base's groups: SAM fills in only what they lack.
    const base = new BASES[config.base!](paramsArg(params, config.groups), config.baseOptions as never);
    const sam = new optim2.SAM(base, config.options);
    const closure = backwardClosure(sam, () => problemLoss('mlp', params));
    config.trajectory.forEach((_, step) => {
      sam.step(closure);
      expectTrajectory(config, params, step);
    });
  });
});

describe('Lookahead matches its reference', () => {
  test.each(configs('lookahead').map((c) => [c.name, c] as const))('%s', (_label, config) => {
    const params = problemParams('mlp');
    const base = new BASES[config.base!](paramsArg(params, config.groups), config.baseOptions as never);
    const opt = new optim2.Lookahead(base, config.options);
    const closure = backwardClosure(opt, () => problemLoss('mlp', params));
    config.trajectory.forEach((_, step) => {
      opt.step(closure);
      expectTrajectory(config, params, step);
    });
  });
});

for (const [name, Ctor] of [['newton', optim2.Newton], ['newton_cg', optim2.NewtonCG]] as const) {
  describe(`${name} matches its reference`, () => {
    test.each(configs(name).map((c) => [c.name, c] as const))('%s', (_label, config) => {
      const params = problemParams(config.problem);
      const opt = new Ctor(paramsArg(params, config.groups), config.options);
      config.trajectory.forEach((_, step) => {
        opt.step(() => problemLoss(config.problem, params));
        expectTrajectory(config, params, step);
      });
    });
  });
}

/** The mlp problem as a model of Linear layers, with the fixture's weights. */
function mlpModel(): { model: nn.Sequential; params: Tensor[]; loss: () => Tensor } {
  const model = new nn.Sequential(new nn.Linear(3, 5, { dtype: 'float64' }), new nn.Tanh(), new nn.Linear(5, 2, { dtype: 'float64' }));
  const params = model.parameters();
  tg.noGrad(() => params.forEach((p, i) => p.copy_(tg.tensor(problems.mlp.init[i] as number[], { dtype: 'float64' }))));
  const X = tg.tensor(problems.mlp.X, { dtype: 'float64' });
  const Y = tg.tensor(problems.mlp.Y, { dtype: 'float64' });
  return { model, params, loss: () => nn.functional.mseLoss(model.call(X), Y) };
}

for (const [name, Ctor] of [['kfac', optim2.KFAC], ['diagonal_fisher', optim2.DiagonalFisher]] as const) {
  describe(`${name} matches its reference`, () => {
    test.each(configs(name).map((c) => [c.name, c] as const))('%s', (_label, config) => {
      const { model, params, loss } = mlpModel();
      const opt = new Ctor(model, config.options);
      expect(opt.layers).toHaveLength(2);
      const closure = backwardClosure(opt, loss);
      config.trajectory.forEach((_, step) => {
        opt.step(closure);
        expectTrajectory(config, params, step);
      });
    });
  });
}

const VR = { svrg: optim2.SVRG, sag: optim2.SAG, saga: optim2.SAGA } as const;

for (const [name, Ctor] of Object.entries(VR)) {
  describe(`${name} matches its reference`, () => {
    test.each(configs(name).map((c) => [c.name, c] as const))('%s', (_label, config) => {
      const params = problemParams('logreg');
      const opt = new Ctor(paramsArg(params, config.groups), config.options as never);
      const sampleLoss = (idx: readonly number[]): Tensor => logregLoss(params, idx);
      config.trajectory.forEach((_, step) => {
        opt.step(sampleLoss, config.indices![step]!);
        expectTrajectory(config, params, step);
      });
    });
  });
}

interface AveragingFixture {
  init: number[];
  sequence: number[][];
  configs: { name: string; decay: number | null; warmup: boolean; startStep: number; polyak: boolean; averages: number[][] }[];
}

describe('EMA and PolyakAveraging match their reference', () => {
  const fx = loadFixture<AveragingFixture>('averaging');
  test.each(fx.configs.map((c) => [c.name, c] as const))('%s', (_label, c) => {
    const w = tg.tensor(fx.init, { dtype: 'float64', requiresGrad: true });
    const avg = c.polyak ? new optim2.PolyakAveraging([w], { startStep: c.startStep }) : new optim2.EMA([w], { decay: c.decay!, warmup: c.warmup, startStep: c.startStep });
    fx.sequence.forEach((values, n) => {
      tg.noGrad(() => w.copy_(tg.tensor(values, { dtype: 'float64' })));
      avg.update();
      expectRelClose(Array.from(avg.averaged[0]!.dataSync()), c.averages[n]!, RTOL, ATOL, `${c.name}, update ${n + 1}`);
    });
  });
});
