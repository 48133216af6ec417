/**
 * optax's alias_test, for every optimizer: float32 parameters reach the minimum of a parabola
 * and make their way down the Rosenbrock valley. Also: gradient accumulation over micro-batches
 * equals one big-batch step, and float32 trajectories stay close to the float64 ones.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { loadFixture, problemLoss, problemParams } from './helpers.js';

type Make = (params: Tensor[]) => optim.Optimizer<optim.OptimizerOptions>;

const parabola = (p: Tensor): Tensor => p.sub(tg.tensor([1, -2, 3])).square().sum();
const rosenbrock = (p: Tensor): Tensor => {
  const x = p.narrow(0, 0, 1);
  const y = p.narrow(0, 1, 1);
  return x.rsub(1).square().add(y.sub(x.square()).square().mul(100)).sum();
};

// [parabola optimizer, Rosenbrock optimizer]: hyperparameters tuned per optimizer, as optax does.
const SWEEP: Record<string, [Make, Make]> = {
  SGD: [(p) => new optim.SGD(p, { lr: 0.1 }), (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9 })],
  Adam: [(p) => new optim.Adam(p, { lr: 0.1 }), (p) => new optim.Adam(p, { lr: 0.02 })],
  AdamW: [(p) => new optim.AdamW(p, { lr: 0.1, weightDecay: 1e-4 }), (p) => new optim.AdamW(p, { lr: 0.02, weightDecay: 1e-4 })],
  Adagrad: [(p) => new optim.Adagrad(p, { lr: 0.5 }), (p) => new optim.Adagrad(p, { lr: 1 })],
  Adadelta: [(p) => new optim.Adadelta(p, { lr: 10 }), (p) => new optim.Adadelta(p, { lr: 10, rho: 0.99 })],
  Adamax: [(p) => new optim.Adamax(p, { lr: 0.1 }), (p) => new optim.Adamax(p, { lr: 0.05 })],
  NAdam: [(p) => new optim.NAdam(p, { lr: 0.1 }), (p) => new optim.NAdam(p, { lr: 0.02 })],
  RAdam: [(p) => new optim.RAdam(p, { lr: 0.1 }), (p) => new optim.RAdam(p, { lr: 0.005 })],
  RMSprop: [(p) => new optim.RMSprop(p, { lr: 0.01 }), (p) => new optim.RMSprop(p, { lr: 5e-3, alpha: 0.9 })],
  Rprop: [(p) => new optim.Rprop(p, { lr: 0.01 }), (p) => new optim.Rprop(p, { lr: 1e-3 })],
  ASGD: [(p) => new optim.ASGD(p, { lr: 0.1 }), (p) => new optim.ASGD(p, { lr: 2e-3 })],
  LBFGS: [(p) => new optim.LBFGS(p, { lineSearchFn: 'strong_wolfe' }), (p) => new optim.LBFGS(p, { lineSearchFn: 'strong_wolfe' })],
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
  for (let i = 0; i < (opt instanceof optim.LBFGS ? 20 : steps); i++) opt.step(closure);
  return { initial, final: f(p).item(), x: Array.from(p.dataSync()) };
}

describe('every optimizer minimizes a parabola and Rosenbrock', () => {
  test.each(Object.entries(SWEEP))('%s', (_name, [forParabola, forRosenbrock]) => {
    const para = minimize(forParabola, parabola, [0, 0, 0], 500);
    expect(para.final).toBeLessThan(1e-4);
    para.x.forEach((v, i) => expect(v).toBeCloseTo([1, -2, 3][i]!, 1));
    const rosen = minimize(forRosenbrock, rosenbrock, [-1.2, 1], 3000);
    expect(Number.isFinite(rosen.final)).toBe(true);
    expect(rosen.final).toBeLessThan(0.1 * rosen.initial);
  });
});

describe('gradient accumulation', () => {
  test.each([
    ['SGD with momentum', (p: Tensor[]) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 })],
    ['Adam', (p: Tensor[]) => new optim.Adam(p, { lr: 0.01 })],
  ] as const)('%s: 4 micro-batches with the loss scaled by 1/4 step like one batch', (_name, make) => {
    const X = tg.randn([16, 3], { dtype: 'float64', generator: new tg.Generator().manualSeed(3) });
    const Y = tg.randn([16, 2], { dtype: 'float64', generator: new tg.Generator().manualSeed(4) });
    const mse = (ps: Tensor[], x: Tensor, y: Tensor): Tensor => x.matmul(ps[0]!).add(ps[1]!).sub(y).square().mean();
    const init = (): Tensor[] => [tg.tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], { dtype: 'float64', requiresGrad: true }), tg.tensor([0.05, -0.05], { dtype: 'float64', requiresGrad: true })];
    const big = init();
    const small = init();
    const optBig = make(big);
    const optSmall = make(small);
    for (let step = 0; step < 3; step++) {
      optBig.zeroGrad();
      mse(big, X, Y).backward();
      optBig.step();
      optSmall.zeroGrad();
      for (let k = 0; k < 4; k++) mse(small, X.narrow(0, 4 * k, 4), Y.narrow(0, 4 * k, 4)).div(4).backward();
      optSmall.step();
    }
    // Tolerance: float64; only the summation order of the gradient differs.
    big.forEach((p, i) => expect(p.allclose(small[i]!, { rtol: 1e-12, atol: 1e-14 })).toBe(true));
  });
});

describe('float32 parameters', () => {
  const { configs } = loadFixture<{ configs: { name: string; options: Record<string, unknown>; trajectories: Record<string, number[][]> }[] }>('adam');
  test('Adam (amsgrad) in float32 follows the float64 trajectory within float32 precision', () => {
    const config = configs.find((c) => c.name === 'amsgrad')!;
    const params = problemParams('mlp').map((p) => p.detach().float().requiresGrad_());
    const opt = new optim.Adam(params, config.options as Partial<optim.AdamOptions>);
    for (const expected of config.trajectories['mlp']!) {
      opt.zeroGrad();
      problemLoss('mlp', params.map((p) => p.double())).backward();
      opt.step();
      const got = params.flatMap((p) => Array.from(p.dataSync()));
      // Tolerance: float32 storage of params and moments, 25 steps: 2e-5 absolute.
      got.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(2e-5));
    }
    expect(opt.state.get(params[0]!)!.expAvg.dtype).toBe('float32');
  });
});
