/**
 * Training on the device: a raw-ops MLP and nn/optim models train the same on every device,
 * and a 1,000-step loop under tg.scope() keeps the live device-buffer count flat on every gpu
 * backend that runs here.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Linear } from '../../src/nn/layers.js';
import { SGD } from '../../src/optim/sgd.js';
import { Adam } from '../../src/optim/adam.js';
import { itemOf, values } from './check.js';
import { describeEachDevice, describeGpu, GPU_DEVICES } from './devices.js';

/** A fixed 3-class problem: 64 points in 4-D, labels from a random linear map. */
function data(device: tg.Device): { x: Tensor; y: Tensor } {
  const x = tg.tensor(values(64 * 4, 5), { shape: [64, 4] });
  const w = tg.tensor(values(4 * 3, 6), { shape: [4, 3] });
  return { x: x.to(device), y: x.matmul(w).argmax(1).to(device) };
}

interface Mlp {
  params: Tensor[];
  forward(x: Tensor): Tensor;
}

function mlp(device: tg.Device): Mlp {
  const w1 = tg.tensor(values(4 * 16, 7, -0.5, 0.5), { shape: [4, 16], device, requiresGrad: true });
  const b1 = tg.zeros([16], { device, requiresGrad: true });
  const w2 = tg.tensor(values(16 * 3, 8, -0.5, 0.5), { shape: [16, 3], device, requiresGrad: true });
  return { params: [w1, b1, w2], forward: (x) => x.matmul(w1).add(b1).relu().matmul(w2) };
}

/** Cross-entropy from primitives: logSoftmax, gather, mean. */
const crossEntropy = (logits: Tensor, y: Tensor) => logits.logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();

/** One SGD-with-momentum step written with in-place tensor ops (the optimizer state is updated in place). */
function sgdStep(model: Mlp, x: Tensor, y: Tensor, bufs: Tensor[]): Tensor {
  const loss = crossEntropy(model.forward(x), y);
  loss.backward();
  tg.noGrad(() => {
    model.params.forEach((p, i) => {
      bufs[i]!.mul_(0.9).add_(p.grad!);
      p.sub_(bufs[i]!.mul(0.1));
      p.grad = null;
    });
  });
  return loss;
}

describeEachDevice('training', (dev) => {
  it('a raw-ops MLP trains identically (up to float32) to the CPU', async () => {
    const losses = async (device: tg.Device) => {
      const { x, y } = data(device);
      const model = mlp(device);
      const bufs = model.params.map((p) => tg.zerosLike(p));
      const out: number[] = [];
      for (let step = 0; step < 30; step++) out.push(await itemOf(sgdStep(model, x, y, bufs)));
      return out;
    };
    const got = await losses(dev.device);
    const want = await losses('cpu');
    got.forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThan(1e-4));
    expect(got[29]!).toBeLessThan(got[0]! * 0.7);
  });

  it('nn.Linear + optim.SGD and optim.Adam work unchanged on the device', async () => {
    for (const make of [(ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })]) {
      const run = async (device: tg.Device) => {
        tg.manualSeed(0);
        const l1 = new Linear(4, 8);
        const l2 = new Linear(8, 3);
        l1.to(device);
        l2.to(device);
        const { x, y } = data(device);
        const opt = make([...l1.parameters(), ...l2.parameters()]);
        const out: number[] = [];
        for (let step = 0; step < 10; step++) {
          opt.zeroGrad();
          const loss = crossEntropy(l2.forward(l1.forward(x).relu()), y);
          loss.backward();
          opt.step();
          out.push(await itemOf(loss));
        }
        return out;
      };
      const got = await run(dev.device);
      const want = await run('cpu');
      got.forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThan(1e-4));
    }
  });
}, { asyncReadback: true });

for (const dev of GPU_DEVICES) {
  describeGpu('1,000 training steps', dev, () => {
    it('keep the live buffer count flat under tg.scope()', async () => {
      const { x, y } = data('gpu');
      const model = mlp('gpu');
      const bufs = model.params.map((p) => tg.zerosLike(p));
      const counts: number[] = [];
      let first = 0;
      let last = 0;
      for (let step = 0; step < 1000; step++) {
        const loss = tg.scope(() => sgdStep(model, x, y, bufs));
        if (step === 0) first = await itemOf(loss);
        if (step === 999) last = await itemOf(loss);
        loss.dispose();
        // Count every 10th step, once the queued kernels have run (WebGPU frees buffers then).
        if (step % 10) continue;
        await tg.gpu.synchronize();
        counts.push(tg.gpu.memory().buffers);
      }
      // x, y, 3 parameters and 3 momentum buffers: nothing else survives a step.
      expect(counts[0]).toBe(8);
      expect(new Set(counts)).toEqual(new Set([8]));
      expect(last).toBeLessThan(first * 0.2);
      expect(tg.gpu.stats().hostFallbacks).toBe(0);
    });
  });
}
