/**
 * Saving optimizer + scheduler state mid-run and loading it into fresh objects continues the
 * trajectory bit for bit: Adam + OneCycleLR, SGD with momentum + StepLR, LBFGS (strong Wolfe),
 * through the plain-JSON form (JSON.stringify / JSON.parse).
 */
import { expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { flatValues, problemLoss, problemParams, type ProblemName } from './helpers.js';

const { OneCycleLR, StepLR } = optim.lrScheduler;

type Sched = { step(): void; stateDict(): optim.lrScheduler.SchedulerStateDict; loadStateDict(s: optim.StateValue): void };
type Setup = (params: Tensor[]) => { opt: optim.Optimizer<optim.OptimizerOptions>; sched: Sched | null };

function runSteps(problem: ProblemName, params: Tensor[], opt: optim.Optimizer<optim.OptimizerOptions>, sched: Sched | null, n: number, closure: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const f = (): Tensor => {
      opt.zeroGrad();
      const loss = problemLoss(problem, params);
      loss.backward();
      return loss;
    };
    if (closure) opt.step(f);
    else {
      f();
      opt.step();
    }
    sched?.step();
    out.push(flatValues(params));
  }
  return out;
}

function checkResume(problem: ProblemName, setup: Setup, closure = false): void {
  // the uninterrupted run
  const full = problemParams(problem);
  const a = setup(full);
  const reference = runSteps(problem, full, a.opt, a.sched, 20, closure);

  // 8 steps, save through JSON, rebuild everything fresh, load, continue 12 steps
  const first = problemParams(problem);
  const b = setup(first);
  runSteps(problem, first, b.opt, b.sched, 8, closure);
  const saved = JSON.stringify({
    params: flatValues(first),
    opt: optim.stateToJSON(b.opt.stateDict()),
    sched: b.sched ? optim.stateToJSON(b.sched.stateDict()) : null,
  });
  const loaded = JSON.parse(saved) as { params: number[]; opt: optim.JsonValue; sched: optim.JsonValue };
  const resumed = problemParams(problem);
  let offset = 0;
  for (const p of resumed) {
    tg.noGrad(() => p.copy_(tg.tensor(loaded.params.slice(offset, offset + p.numel()), { dtype: 'float64', shape: p.shape })));
    offset += p.numel();
  }
  const c = setup(resumed);
  c.opt.loadStateDict(optim.stateFromJSON(loaded.opt));
  if (c.sched) c.sched.loadStateDict(optim.stateFromJSON(loaded.sched));
  const continued = runSteps(problem, resumed, c.opt, c.sched, 12, closure);
  // bit for bit
  expect(continued).toEqual(reference.slice(8));
  if (c.sched) expect(c.opt.paramGroups.map((g) => [g.lr, g.betas?.[0] ?? g.momentum])).toEqual(a.opt.paramGroups.map((g) => [g.lr, g.betas?.[0] ?? g.momentum]));
}

test.each(['quadratic', 'mlp'] as const)('Adam + OneCycleLR resumes bit for bit (%s)', (problem) => {
  checkResume(problem, (params) => {
    const opt = new optim.Adam(params, { lr: 0.01, amsgrad: true });
    return { opt, sched: new OneCycleLR(opt, { maxLr: 0.05, totalSteps: 25 }) };
  });
});

test.each(['rosenbrock', 'mlp'] as const)('SGD with momentum + StepLR resumes bit for bit (%s)', (problem) => {
  checkResume(problem, (params) => {
    const opt = new optim.SGD([{ params: params.slice(0, 1) }, { params: params.slice(1), lr: 5e-4 }], { lr: 1e-3, momentum: 0.9, nesterov: true });
    return { opt, sched: new StepLR(opt, { stepSize: 3, gamma: 0.7 }) };
  });
});

test.each(['rosenbrock', 'quadratic', 'mlp'] as const)('LBFGS (strong Wolfe, small history) resumes bit for bit (%s)', (problem) => {
  checkResume(problem, (params) => ({ opt: new optim.LBFGS(params, { maxIter: 3, historySize: 4, lineSearchFn: 'strong_wolfe' }), sched: null }), true);
});

test('LBFGS state dict holds its history as tensors on the first parameter', () => {
  const params = problemParams('quadratic');
  const opt = new optim.LBFGS(params, { maxIter: 3, historySize: 2 });
  runSteps('quadratic', params, opt, null, 2, true);
  const s = opt.stateDict().state['0']!;
  expect(Object.keys(s).sort()).toEqual(['al', 'd', 'funcEvals', 'hDiag', 'nIter', 'oldDirs', 'oldStps', 'prevFlatGrad', 'prevLoss', 'ro', 't'].sort());
  expect((s['oldDirs'] as Tensor[]).length).toBe(2);
  expect((s['d'] as Tensor).shape).toEqual([6]);
  // PyTorch 1.13 on the same run: n_iter 4, func_evals 6, H_diag 0.024239298013072057
  expect(s['nIter']).toBe(4);
  expect(s['funcEvals']).toBe(6);
  expect(s['hDiag']).toBeCloseTo(0.024239298013072057, 14);
});
