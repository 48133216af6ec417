/**
 * The part-2 optimizers on the gpu device (gpu.js kernels; float32): Lion, LAMB, LARS, Adafactor
 * and Muon (tensor-op updates off the CPU), Shampoo (matmul-only inverse roots), K-FAC (Newton
 * inverses of the damped factors) and the diagonal Fisher follow their CPU trajectories within
 * float32 tolerances, read nothing back during a step, and free what they replace. Every value
 * is read with `await t.data()`, so the suite runs on WebGPU too.
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
type Maker = (params: Tensor[], model: nn.Sequential) => AnyOptimizer;

/** The host reads of the gpu runtime so far: readbacks and CPU fallbacks (0 off device 'gpu'). */
async function hostReads(device: tg.Device): Promise<[number, number]> {
  if (device !== 'gpu') return [0, 0];
  await tg.gpu.synchronize();
  const { readbacks, hostFallbacks } = tg.gpu.stats();
  return [readbacks, hostFallbacks];
}

/**
 * The mlp problem in float32 on `device`: 5 steps of `make`, returning the flat parameters and
 * the host reads (readbacks, CPU fallbacks) that the steps themselves made.
 */
async function trajectory(device: tg.Device, make: Maker): Promise<{ params: number[]; reads: [number, number] }> {
  const model = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
  tg.noGrad(() => model.parameters().forEach((p, i) => p.copy_(tg.tensor(problems.mlp.init[i] as number[]))));
  model.to(device);
  const params = model.parameters();
  const X = tg.tensor(problems.mlp.X, { device });
  const Y = tg.tensor(problems.mlp.Y, { device });
  const opt = make(params, model);
  const reads: [number, number] = [0, 0];
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    nn.functional.mseLoss(model.call(X), Y).backward();
    const before = await hostReads(device);
    opt.step();
    const after = await hostReads(device);
    reads[0] += after[0] - before[0];
    reads[1] += after[1] - before[1];
  }
  const flat: number[] = [];
  for (const p of params) flat.push(...Array.from(await p.data()));
  return { params: flat, reads };
}

const weights = (p: Tensor[]): Tensor[] => p.filter((t) => t.dim() === 2);
const biases = (p: Tensor[]): Tensor[] => p.filter((t) => t.dim() === 1);

const MAKERS: Record<string, Maker> = {
  Lion: (p) => new optim2.Lion(p, { lr: 1e-2 }),
  'Lion (weight decay, betas)': (p) => new optim2.Lion(p, { lr: 1e-2, weightDecay: 0.5, betas: [0.8, 0.9] }),
  LAMB: (p) => new optim2.LAMB(p, { lr: 0.05 }),
  'LAMB (weight decay, clamp value)': (p) => new optim2.LAMB(p, { lr: 0.05, weightDecay: 0.1, clampValue: 0.5 }),
  'LAMB (no bias correction, maximize)': (p) => new optim2.LAMB(p, { lr: 0.01, biasCorrection: false, maximize: true }),
  LARS: (p) => new optim2.LARS(p, { lr: 1 }),
  'LARS (weight decay, eps; biases without trust adaptation)': (p) => new optim2.LARS([
    { params: weights(p) },
    { params: biases(p), trustAdaptation: false, weightDecay: 0 },
  ], { lr: 0.5, momentum: 0.8, weightDecay: 1e-2, eps: 1e-3 }),
  'Adafactor (factored weights, unfactored biases)': (p) => new optim2.Adafactor(p, { lr: 0.05 }),
  'Adafactor (weight decay, eps, d, beta2Decay, maximize)': (p) => new optim2.Adafactor(p, {
    lr: 0.05, weightDecay: 0.1, eps: [1e-20, 1e-2], d: 1.5, beta2Decay: -0.5, maximize: true,
  }),
  Muon: (p) => new optim2.Muon(weights(p), { lr: 0.02 }),
  'Muon (no Nesterov, match_rms_adamw, no decay)': (p) => new optim2.Muon(weights(p), {
    lr: 0.01, nesterov: false, adjustLrFn: 'match_rms_adamw', weightDecay: 0,
  }),
  Shampoo: (p) => new optim2.Shampoo(p, { lr: 0.05, grafting: 'adagrad', momentum: 0.5, preconditionFrequency: 3 }),
  'Shampoo (adam grafting, diagonal beyond 3, weight decay)': (p) => new optim2.Shampoo(p, {
    lr: 0.05, grafting: 'adam', maxPreconditionerDim: 3, weightDecay: 1e-2, beta2: 0.9, preconditionFrequency: 2,
  }),
  'Shampoo (no grafting, exponent override)': (p) => new optim2.Shampoo(p, { lr: 0.02, exponentOverride: 2 }),
  KFAC: (_p, m) => new optim2.KFAC(m, { lr: 0.05, invUpdateFrequency: 2 }),
  'KFAC (tight KL clip, weight decay)': (_p, m) => new optim2.KFAC(m, { lr: 0.05, invUpdateFrequency: 1, klClip: 1e-6, weightDecay: 1e-2 }),
  'KFAC (no KL clip)': (_p, m) => new optim2.KFAC(m, { lr: 0.02, invUpdateFrequency: 3, klClip: null, damping: 1e-2 }),
  DiagonalFisher: (_p, m) => new optim2.DiagonalFisher(m, { lr: 1e-3, damping: 1e-2 }),
};

const cpu: Record<string, number[]> = {};
for (const [name, make] of Object.entries(MAKERS)) cpu[name] = (await trajectory('cpu', make)).params;

describeEachDevice('part-2 optimizers', (dev) => {
  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name} follows the CPU trajectory and reads nothing back`, async () => {
      const { params, reads } = await trajectory(dev.device, make);
      // float32 kernels: a few ulps per op, compounded over 5 steps
      expectRelClose(params, cpu[name]!, 1e-3, 1e-5, name);
      expect(reads, `${name}: readbacks, CPU fallbacks during the steps`).toEqual([0, 0]);
    });
  }
  it('matrixInversePthRoot runs on the device', async () => {
    const A = tg.tensor([[4, 1], [1, 3]], { device: dev.device });
    const before = await hostReads(dev.device);
    const H = optim2.matrixInversePthRoot(A, 2);
    const inverse = optim2.matrixInversePthRoot(A, 1);
    expect(await hostReads(dev.device)).toEqual(before);
    expect(H.device).toBe(dev.device);
    expectRelClose(Array.from(await H.matmul(H).matmul(A).data()), [1, 0, 0, 1], 1e-4, 1e-5, 'H²A');
    expectRelClose(Array.from(await inverse.matmul(A).data()), [1, 0, 0, 1], 1e-4, 1e-5, 'A⁻¹A');
  });
}, { asyncReadback: true });

describeEachDevice('part-2 optimizers free what they replace', (dev) => {
  const makers: Record<string, Maker> = {
    Lion: (p) => new optim2.Lion(p, { lr: 1e-3, weightDecay: 0.1 }),
    LAMB: (p) => new optim2.LAMB(p, { lr: 1e-2, weightDecay: 0.1, clampValue: 10 }),
    LARS: (p) => new optim2.LARS(p, { lr: 0.1, weightDecay: 1e-3 }),
    Adafactor: (p) => new optim2.Adafactor(p, { lr: 1e-2, weightDecay: 0.1 }),
    Muon: (p) => new optim2.Muon(weights(p), { lr: 0.02 }),
    Shampoo: (p) => new optim2.Shampoo(p, { lr: 0.05, grafting: 'adam', momentum: 0.5, preconditionFrequency: 2 }),
    KFAC: (_p, m) => new optim2.KFAC(m, { lr: 0.05, invUpdateFrequency: 2 }),
    DiagonalFisher: (_p, m) => new optim2.DiagonalFisher(m, { lr: 1e-3 }),
    SAM: (p) => new optim2.SAM(new optim2.Lion(p, { lr: 1e-3 })),
  };
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: device buffers stay flat over steps`, async () => {
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
        if (dev.device === 'gpu') {
          await tg.gpu.synchronize();
          live.push(tg.gpu.memory().buffers);
        }
      }
      // after the state exists (step 2), every step frees what it allocates
      if (dev.device === 'gpu') expect(live.slice(2), name).toEqual(new Array(4).fill(live[2]));
      for (const p of model.parameters()) expect(Array.from(await p.data()).every(Number.isFinite), name).toBe(true);
    });
  }
}, { asyncReadback: true });
