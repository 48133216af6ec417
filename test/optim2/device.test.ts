/**
 * The part-2 optimizers on the gpu device (gpu.js kernels; float32): the tensor-op optimizers
 * (Shampoo's matmul-only inverse roots, Muon's Newton-Schulz, K-FAC's factors) and the flat-array
 * ones (copied to and from the device) follow their CPU trajectories within float32 tolerances.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { describeEachDevice } from '../gpu/devices.js';
import { expectRelClose, problems } from './helpers.js';

type AnyOptimizer = optim.Optimizer<optim.OptimizerOptions, unknown>;

/** The mlp problem in float32 on `device`: 5 steps of `make`, returning the flat parameters. */
function trajectory(device: tg.Device, make: (params: Tensor[], model: nn.Sequential) => AnyOptimizer): number[] {
  const model = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
  tg.noGrad(() => model.parameters().forEach((p, i) => p.copy_(tg.tensor(problems.mlp.init[i] as number[]))));
  model.to(device);
  const params = model.parameters();
  const X = tg.tensor(problems.mlp.X, { device });
  const Y = tg.tensor(problems.mlp.Y, { device });
  const opt = make(params, model);
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    nn.functional.mseLoss(model.call(X), Y).backward();
    opt.step();
  }
  return params.flatMap((p) => Array.from(p.cpu().dataSync()));
}

const MAKERS: Record<string, (params: Tensor[], model: nn.Sequential) => AnyOptimizer> = {
  Shampoo: (p) => new optim2.Shampoo(p, { lr: 0.05, grafting: 'adagrad', momentum: 0.5, preconditionFrequency: 3 }),
  Muon: (p) => new optim2.Muon(p.filter((t) => t.dim() === 2), { lr: 0.02 }),
  KFAC: (_p, m) => new optim2.KFAC(m, { lr: 0.05, invUpdateFrequency: 2 }),
  Lion: (p) => new optim2.Lion(p, { lr: 1e-2 }),
  Adafactor: (p) => new optim2.Adafactor(p, { lr: 0.05 }),
};

const cpu = Object.fromEntries(Object.entries(MAKERS).map(([name, make]) => [name, trajectory('cpu', make)]));

describeEachDevice('part-2 optimizers', (dev) => {
  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name} follows the CPU trajectory`, () => {
      // float32 kernels: a few ulps per op, compounded over 5 steps
      expectRelClose(trajectory(dev.device, make), cpu[name]!, 1e-3, 1e-5, name);
    });
  }
  it('matrixInversePthRoot runs on the device', () => {
    const A = tg.tensor([[4, 1], [1, 3]], { device: dev.device });
    const H = optim2.matrixInversePthRoot(A, 2);
    expect(H.device).toBe(dev.device);
    const I = H.matmul(H).matmul(A).cpu();
    expectRelClose(Array.from(I.dataSync()), [1, 0, 0, 1], 1e-4, 1e-5, 'H²A');
  });
});

describeEachDevice('part-2 optimizers free what they replace', (dev) => {
  it('device buffers stay flat over steps (Shampoo, Muon, KFAC, SAM)', () => {
    const makers: Record<string, (params: Tensor[], model: nn.Sequential) => AnyOptimizer> = {
      Shampoo: (p) => new optim2.Shampoo(p, { lr: 0.05, grafting: 'adam', momentum: 0.5, preconditionFrequency: 2 }),
      Muon: (p) => new optim2.Muon(p.filter((t) => t.dim() === 2), { lr: 0.02 }),
      KFAC: (_p, m) => new optim2.KFAC(m, { lr: 0.05, invUpdateFrequency: 2 }),
      SAM: (p) => new optim2.SAM(new optim2.Lion(p, { lr: 1e-3 })),
    };
    for (const [name, make] of Object.entries(makers)) {
      const model = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2)).to(dev.device);
      const X = tg.tensor(problems.mlp.X, { device: dev.device });
      const Y = tg.tensor(problems.mlp.Y, { device: dev.device });
      const opt = make(model.parameters(), model);
      const closure = (): Tensor => {
        opt.zeroGrad();
        const loss = nn.functional.mseLoss(model.call(X), Y);
        loss.backward();
        return loss;
      };
      const live: number[] = [];
      for (let i = 0; i < 6; i++) {
        tg.scope(() => void opt.step(closure));
        if (dev.device === 'gpu') live.push(tg.gpu.memory().buffers);
      }
      // after the state exists (step 2), every step frees what it allocates
      if (dev.device === 'gpu') expect(live.slice(2), name).toEqual(new Array(4).fill(live[2]));
    }
  });
});
