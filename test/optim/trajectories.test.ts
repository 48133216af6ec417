/**
 * Every optimizer over a grid of its options, 25 steps on three problems, against recorded
 * torch.optim trajectories (float64, parameters after every step within 1e-9 relative).
 * Fixtures: scripts/torch_fixtures_optim.py. Configurations marked `source: "reference"` come
 * from float64 reference implementations of PyTorch 2.x's algorithms (options 1.13 lacks:
 * NAdam/RAdam `decoupledWeightDecay` and `maximize`, NAdam's fixed momentum-cache product,
 * Adam's `decoupledWeightDecay`), checked by the script against 1.13 where 1.13 agrees.
 */
import { describe, expect, test } from 'vitest';
import * as optim from '../../src/optim/index.js';
import type { Tensor } from '../../src/index.js';
import { expectRelClose, flatValues, loadFixture, PROBLEM_NAMES, problemLoss, problemParams, type ProblemName } from './helpers.js';

type Options = Record<string, unknown>;

interface Config {
  name: string;
  options: Options;
  groups?: [Options, Options];
  source: 'torch-1.13' | 'reference';
  trajectories: Record<ProblemName, number[][]>;
  losses?: Record<ProblemName, number[]>;
}

type Ctor = new (params: optim.ParamsArg<never>, options: Options) => optim.Optimizer<optim.OptimizerOptions>;

const OPTIMIZERS: Record<string, Ctor> = {
  sgd: optim.SGD as unknown as Ctor,
  adam: optim.Adam as unknown as Ctor,
  adamw: optim.AdamW as unknown as Ctor,
  adagrad: optim.Adagrad as unknown as Ctor,
  adadelta: optim.Adadelta as unknown as Ctor,
  adamax: optim.Adamax as unknown as Ctor,
  nadam: optim.NAdam as unknown as Ctor,
  radam: optim.RAdam as unknown as Ctor,
  rmsprop: optim.RMSprop as unknown as Ctor,
  rprop: optim.Rprop as unknown as Ctor,
  asgd: optim.ASGD as unknown as Ctor,
  lbfgs: optim.LBFGS as unknown as Ctor,
};

// Tolerances: float64 throughout; 1e-9 relative (atol 1e-12 for values crossing zero).
const RTOL = 1e-9;
const ATOL = 1e-12;

function paramsArg(params: Tensor[], groups: Config['groups']): optim.ParamsArg<never> {
  if (!groups) return params as optim.ParamsArg<never>;
  const half = Math.ceil(params.length / 2);
  return [{ ...groups[0], params: params.slice(0, half) }, { ...groups[1], params: params.slice(half) }] as unknown as optim.ParamsArg<never>;
}

let total = 0;
for (const [name, Ctor] of Object.entries(OPTIMIZERS)) {
  const { configs } = loadFixture<{ configs: Config[] }>(name);
  total += configs.length;
  describe(`${name} matches torch.optim`, () => {
    for (const config of configs) {
      test.each(PROBLEM_NAMES)(`${config.name} (${config.source}) on %s`, (problem) => {
        const params = problemParams(problem);
        const opt = new Ctor(paramsArg(params, config.groups), config.options);
        const closure = (): Tensor => {
          opt.zeroGrad();
          const loss = problemLoss(problem, params);
          loss.backward();
          return loss;
        };
        config.trajectories[problem].forEach((expected, step) => {
          if (name === 'lbfgs') {
            const loss = opt.step(closure);
            expectRelClose([loss!.item()], [config.losses![problem][step]!], RTOL, ATOL, `loss of step ${step + 1}`);
          } else {
            closure();
            opt.step();
          }
          expectRelClose(flatValues(params), expected, RTOL, ATOL, `step ${step + 1}`);
        });
      });
    }
  });
}

test('the grid has at least 80 configurations, two of them with parameter groups', () => {
  expect(total).toBeGreaterThanOrEqual(80);
  const withGroups = Object.keys(OPTIMIZERS).flatMap((n) => loadFixture<{ configs: Config[] }>(n).configs.filter((c) => c.groups));
  expect(withGroups.length).toBeGreaterThanOrEqual(2);
});
