// nn on every device (CPU, and the gpu device on each gpu.js backend here, WebGPU included: values are read with await): a small CNN
// (Conv2d, BatchNorm2d, GELU, MaxPool2d, Linear, cross-entropy with label smoothing) gives the
// CPU's outputs and gradients to float32 tolerance, and a module built or moved inside
// tg.scope() keeps its parameters and buffers alive (the module owns them).
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { describeEachDevice } from '../gpu/devices.js';

const F = nn.functional;

function cnn(): nn.Sequential {
  tg.manualSeed(42);
  return new nn.Sequential(
    new nn.Conv2d(1, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3), new nn.GELU(),
    new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(3 * 9, 4),
  );
}

/** One forward and backward (synchronous: it can run inside tg.scope()); returns the loss. */
function forwardBackward(model: nn.Sequential, device: tg.Device): Tensor {
  tg.manualSeed(7);
  const x = tg.randn([5, 1, 6, 6]).to(device);
  const y = tg.tensor([0, 1, 2, 3, 1], { dtype: 'int32' }).to(device);
  model.zeroGrad();
  const loss = F.crossEntropy(model.call(x), y, { labelSmoothing: 0.1 });
  loss.backward();
  return loss;
}

async function step(model: nn.Sequential, device: tg.Device): Promise<{ loss: number; grads: number[][]; runningVar: number[] }> {
  const loss = forwardBackward(model, device);
  const bn = model.at(1) as nn.BatchNorm2d;
  // Read asynchronously: WebGPU has no synchronous readback.
  const grads: number[][] = [];
  for (const p of model.parameters()) grads.push(Array.from(await p.grad!.data()));
  return { loss: Number((await loss.data())[0]), grads, runningVar: Array.from(await bn.runningVar!.data()) };
}

describeEachDevice('nn training step', (dev) => {
  it('matches the CPU (float32 tolerance)', async () => {
    const want = await step(cnn(), 'cpu');
    const model = cnn().to(dev.device);
    expect(model.parameters().every((p: Tensor) => p.device === dev.device)).toBe(true);
    const got = await step(model, dev.device);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5);
    got.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want.grads[i]![j]!)).toBeLessThan(1e-4)));
    got.runningVar.forEach((v, i) => expect(Math.abs(v - want.runningVar[i]!)).toBeLessThan(1e-5));
  });

  it('parameters and buffers made or moved inside tg.scope() outlive it', async () => {
    const model = tg.scope(() => cnn().to(dev.device));
    // float64 on device 'gpu' lives on the host: the cast reads back, which WebGPU cannot do synchronously.
    if (dev.syncReadback) tg.scope(() => model.double().float());
    for (let i = 0; i < 2; i++) tg.scope(() => void forwardBackward(model, dev.device));
    expect((await model.stateDict()['1.runningMean']!.data()).every(Number.isFinite)).toBe(true);
    expect(Number((await (model.at(1) as nn.BatchNorm2d).numBatchesTracked!.data())[0])).toBe(2);
  });

  it('clipGradNorm (p = 2, 1, inf, 3) and clipGradValue scale on the device, as on the CPU', async () => {
    const grads = (device: tg.Device) => [tg.tensor(values(12, 1), { shape: [3, 4] }), tg.tensor(values(5, 2))].map((g) => g.to(device));
    for (const normType of [2, 1, Infinity, 3]) {
      for (const maxNorm of [0.5, 100]) {
        const run = async (device: tg.Device) => {
          const ps = grads(device).map((g) => {
            const p = tg.zerosLike(g).requiresGrad_();
            p.grad = g;
            return p;
          });
          const total = nn.utils.clipGradNorm(ps, maxNorm, { normType });
          expect(total.device).toBe(device);
          const out = [Number((await total.data())[0])];
          for (const p of ps) out.push(...Array.from(await p.grad!.data()));
          return out;
        };
        const got = await run(dev.device);
        const want = await run('cpu');
        got.forEach((v, i) => expect(Math.abs(v - want[i]!), `normType ${normType}, maxNorm ${maxNorm}, element ${i}`).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!))));
      }
    }
    const p = tg.zeros([5], { device: dev.device }).requiresGrad_();
    p.grad = tg.tensor([-3, -0.2, 0, 0.4, 2], { device: dev.device });
    nn.utils.clipGradValue(p, 0.5);
    expect(Array.from(await p.grad.data())).toEqual([-0.5, -0.2, 0, 0.4, 0.5].map(Math.fround));
  });

  it('model.to(device) leaves the parameters their only owners: disposing them frees the device buffers', async () => {
    if (dev.device !== 'gpu') return;
    await tg.gpu.synchronize();
    const before = tg.gpu.memory().buffers;
    const model = new nn.Linear(20, 10).to(dev.device);
    await tg.gpu.synchronize();
    expect(tg.gpu.memory().buffers - before).toBe(2);
    for (const p of model.parameters()) p.dispose();
    await tg.gpu.synchronize();
    expect(tg.gpu.memory().buffers).toBe(before);
  });

  it('BatchNorm with momentum null (cumulative average) matches the CPU', async () => {
    const run = async (device: tg.Device) => {
      const bn = new nn.BatchNorm1d(3, { momentum: null }).to(device);
      for (let k = 0; k < 3; k++) bn.call(tg.tensor(values(8 * 3, 10 + k), { shape: [8, 3] }).to(device));
      return [...Array.from(await bn.runningMean!.data()), ...Array.from(await bn.runningVar!.data())];
    };
    const got = await run(dev.device);
    const want = await run('cpu');
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
  });
}, { asyncReadback: true });

/** Float32-representable values in [-2, 2) from a fixed LCG. */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(-2 + (4 * s) / 2 ** 32);
  });
}
