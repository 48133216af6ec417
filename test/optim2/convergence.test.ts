/**
 * optax-style sweep for part 2: every optimizer reaches the minimum of a parabola (or of a
 * matrix quadratic, for Muon) and makes its way down the Rosenbrock valley; the second-order
 * methods solve Rosenbrock outright; the natural-gradient methods fit a small regression MLP;
 * the variance-reduced methods converge linearly on regularised logistic regression.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { logregLoss, problemParams } from './helpers.js';

type AnyOptimizer = optim.Optimizer<optim.OptimizerOptions, unknown>;
type Make = (params: Tensor[]) => AnyOptimizer;

const parabola = (p: Tensor): Tensor => p.sub(tg.tensor([1, -2, 3])).square().sum();
const rosenbrock = (p: Tensor): Tensor => {
  const x = p.narrow(0, 0, 1);
  const y = p.narrow(0, 1, 1);
  return x.rsub(1).square().add(y.sub(x.square()).square().mul(100)).sum();
};

function minimize(make: Make, f: (p: Tensor) => Tensor, x0: number[], steps: number): { initial: number; final: number; x: number[] } {
  const p = tg.tensor(x0, { requiresGrad: true });
  const opt = make([p]);
  const initial = f(p).item();
  const closure = (): Tensor => {
    opt.zeroGrad();
    const loss = f(p);
    loss.backward();
    return loss;
  };
  for (let i = 0; i < steps; i++) opt.step(closure);
  if (opt instanceof optim2.ScheduleFreeSGD || opt instanceof optim2.ScheduleFreeAdamW) opt.eval();
  return { initial, final: f(p).item(), x: Array.from(p.dataSync()) };
}

/** Decay the learning rate linearly to 1% over `steps` steps, stepping the scheduler from a post-step hook. */
function decayed<O extends AnyOptimizer>(opt: O, steps: number): O {
  const sched = new optim.lrScheduler.LinearLR(opt, { startFactor: 1, endFactor: 0.01, totalIters: steps });
  opt.registerStepPostHook(() => sched.step());
  return opt;
}

// [parabola optimizer, Rosenbrock optimizer], float32 parameters, hyperparameters tuned per optimizer.
const SWEEP: Record<string, [Make, Make] | [Make, Make, number]> = {
  Lion: [(p) => new optim2.Lion(p, { lr: 0.01, betas: [0.5, 0.5] }), (p) => new optim2.Lion(p, { lr: 3e-3 })],
  // LAMB moves every tensor by lr·‖w‖ per step, so it needs a decaying rate to settle (as always in practice).
  LAMB: [(p) => decayed(new optim2.LAMB(p, { lr: 0.05 }), 300), (p) => new optim2.LAMB(p, { lr: 0.01 })],
  LARS: [(p) => new optim2.LARS(p, { lr: 1, trustCoefficient: 0.02, momentum: 0.5 }), (p) => new optim2.LARS(p, { lr: 0.1, trustCoefficient: 0.01 })],
  Adafactor: [(p) => new optim2.Adafactor(p, { lr: 0.5 }), (p) => new optim2.Adafactor(p, { lr: 0.05 })],
  // (a root per step on Rosenbrock: stale roots of ε·I + ggᵀ blow up directions g has not visited yet)
  Shampoo: [(p) => new optim2.Shampoo(p, { lr: 0.2, grafting: 'adam', preconditionFrequency: 5 }), (p) => new optim2.Shampoo(p, { lr: 0.5, beta2: 0.99, momentum: 0.5 }), 400],
  ScheduleFreeSGD: [(p) => new optim2.ScheduleFreeSGD(p, { lr: 0.2 }), (p) => new optim2.ScheduleFreeSGD(p, { lr: 2e-3 })],
  ScheduleFreeAdamW: [(p) => new optim2.ScheduleFreeAdamW(p, { lr: 0.1 }), (p) => new optim2.ScheduleFreeAdamW(p, { lr: 0.05 })],
  SAM: [(p) => new optim2.SAM(new optim.SGD(p, { lr: 0.1 }), { rho: 0.01 }), (p) => new optim2.SAM(new optim.Adam(p, { lr: 0.02 }), { rho: 0.01 })],
  Lookahead: [(p) => new optim2.Lookahead(new optim.SGD(p, { lr: 0.1 })), (p) => new optim2.Lookahead(new optim.Adam(p, { lr: 0.05 }))],
};

describe('every first-order optimizer minimizes a parabola and Rosenbrock (float32)', () => {
  test.each(Object.entries(SWEEP))('%s', (_name, [forParabola, forRosenbrock, rosenSteps]) => {
    const para = minimize(forParabola, parabola, [0, 0, 0], 300);
    expect(para.final).toBeLessThan(1e-3);
    para.x.forEach((v, i) => expect(v).toBeCloseTo([1, -2, 3][i]!, 1));
    const rosen = minimize(forRosenbrock, rosenbrock, [-1.2, 1], rosenSteps ?? 800);
    expect(Number.isFinite(rosen.final)).toBe(true);
    expect(rosen.final).toBeLessThan(0.1 * rosen.initial);
  });
});

test('Muon minimizes a matrix least-squares problem', () => {
  const gen = new tg.Generator().manualSeed(5);
  const A = tg.randn([6, 4], { generator: gen });
  const T = tg.randn([6, 3], { generator: gen });
  const W = tg.zeros([4, 3]).requiresGrad_(true);
  const loss = (): Tensor => A.matmul(W).sub(T).square().mean();
  const initial = loss().item();
  const opt = new optim2.Muon([W], { lr: 0.05, weightDecay: 0 });
  const sched = new optim.lrScheduler.LinearLR(opt, { startFactor: 1, endFactor: 0.01, totalIters: 400 });
  for (let i = 0; i < 400; i++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    sched.step();
  }
  // The least-squares optimum, for comparison.
  const best = loss().item();
  expect(best).toBeLessThan(0.5 * initial);
  const opt2 = new optim.LBFGS([W], { lineSearchFn: 'strong_wolfe', maxIter: 100 });
  opt2.step(() => {
    opt2.zeroGrad();
    const l = loss();
    l.backward();
    return l;
  });
  expect(best).toBeLessThan(loss().item() + 0.02 * initial);
});

describe('second-order methods solve Rosenbrock and a quadratic (float64)', () => {
  const rosen64 = (ps: Tensor[]): Tensor => rosenbrock(ps[0]!);
  test.each([
    ['Newton', (p: Tensor[]) => new optim2.Newton(p), 25],
    ['NewtonCG (tight CG)', (p: Tensor[]) => new optim2.NewtonCG(p, { cgTol: 1e-10 }), 25],
    ['NewtonCG (forcing sequence)', (p: Tensor[]) => new optim2.NewtonCG(p, { cgMaxIter: 2 }), 200],
  ] as const)('%s', (_name, make, steps) => {
    const p = [tg.tensor([-1.2, 1], { dtype: 'float64', requiresGrad: true })];
    const opt = make(p);
    for (let i = 0; i < steps; i++) opt.step(() => rosen64(p));
    expect(rosen64(p).item()).toBeLessThan(1e-12);
    Array.from(p[0]!.dataSync()).forEach((v) => expect(v).toBeCloseTo(1, 5));
  });

  test('Newton takes the exact minimizer of a quadratic in one step', () => {
    const A = tg.tensor([[1000, 3, 0], [3, 10, 1], [0, 1, 1]], { dtype: 'float64' });
    const b = tg.tensor([1, 2, 3], { dtype: 'float64' });
    const x = tg.zeros([3], { dtype: 'float64' }).requiresGrad_(true);
    const opt = new optim2.Newton([x], { lineSearch: null });
    opt.step(() => x.matmul(A.matmul(x)).mul(0.5).sub(b.matmul(x)));
    const residual = A.matmul(x.detach()).sub(b).abs().max().item();
    expect(residual).toBeLessThan(1e-12);
  });
});

describe('natural-gradient methods fit a regression MLP', () => {
  test.each([
    ['KFAC', (m: nn.Sequential) => new optim2.KFAC(m, { lr: 0.1, damping: 1e-2, klClip: 1e-2 })],
    ['DiagonalFisher', (m: nn.Sequential) => new optim2.DiagonalFisher(m, { lr: 2e-3, damping: 1e-3 })],
    ['SGD with momentum (reference point)', (m: nn.Sequential) => new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }) as unknown as AnyOptimizer],
  ] as const)('%s', (name, make) => {
    tg.manualSeed(0);
    const X = tg.randn([64, 4]);
    const Y = X.matmul(tg.randn([4, 2])).tanh().add(X.narrow(1, 0, 2).square().mul(0.5));
    const model = new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new nn.Linear(16, 2));
    const opt = make(model);
    const loss = (): Tensor => nn.functional.mseLoss(model.call(X), Y);
    const initial = loss().item();
    for (let i = 0; i < 150; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    expect(loss().item(), name).toBeLessThan(0.1 * initial);
  });
});

describe('variance reduction: linear convergence on regularised logistic regression', () => {
  // f(w) = (1/n)·Σ softplus(−yᵢ·(xᵢ·w + b)) + 0.05·‖(w, b)‖², n = 10: strongly convex.
  const fStar = ((): number => {
    const params = problemParams('logreg');
    const opt = new optim2.Newton(params);
    for (let i = 0; i < 20; i++) opt.step(() => logregLoss(params));
    return logregLoss(params).item();
  })();

  // Plain SGD with a constant step size stalls at its noise floor.
  const sgdGap = ((): number => {
    const params = problemParams('logreg');
    const sgd = new optim.SGD(params, { lr: 0.3 });
    const gen = new tg.Generator().manualSeed(1);
    for (let k = 0; k < 400; k++) {
      sgd.zeroGrad();
      logregLoss(params, [Math.floor(gen.uniformDouble() * 10)]).backward();
      sgd.step();
    }
    return logregLoss(params).item() - fStar;
  })();

  test.each([
    ['SVRG', (p: Tensor[]) => new optim2.SVRG(p, { lr: 0.5, numSamples: 10, generator: new tg.Generator().manualSeed(1) })],
    ['SAG', (p: Tensor[]) => new optim2.SAG(p, { lr: 0.3, numSamples: 10, generator: new tg.Generator().manualSeed(1) })],
    ['SAGA', (p: Tensor[]) => new optim2.SAGA(p, { lr: 0.3, numSamples: 10, generator: new tg.Generator().manualSeed(1) })],
  ] as const)('%s reaches 1e-10 suboptimality in 400 steps where SGD stalls', (_name, make) => {
    const params = problemParams('logreg');
    const opt = make(params);
    for (let k = 0; k < 400; k++) opt.step((idx) => logregLoss(params, idx));
    expect(logregLoss(params).item() - fStar).toBeLessThan(1e-10);
    expect(opt.gradientEvaluations).toBeGreaterThanOrEqual(400);
    expect(sgdGap).toBeGreaterThan(1e-6);
  });
});
