// nn on every device (CPU, and the gpu device on gpu.js's WebAssembly backend): a small CNN
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

function step(model: nn.Sequential, device: tg.Device): { loss: number; grads: number[][]; runningVar: number[] } {
  tg.manualSeed(7);
  const x = tg.randn([5, 1, 6, 6]).to(device);
  const y = tg.tensor([0, 1, 2, 3, 1], { dtype: 'int32' }).to(device);
  model.zeroGrad();
  const loss = F.crossEntropy(model.call(x), y, { labelSmoothing: 0.1 });
  loss.backward();
  const bn = model.at(1) as nn.BatchNorm2d;
  return {
    loss: loss.item(),
    grads: model.parameters().map((p) => Array.from(p.grad!.cpu().dataSync())),
    runningVar: Array.from(bn.runningVar!.cpu().dataSync()),
  };
}

describeEachDevice('nn training step', (dev) => {
  it('matches the CPU (float32 tolerance)', () => {
    const want = step(cnn(), 'cpu');
    const model = cnn().to(dev.device);
    expect(model.parameters().every((p: Tensor) => p.device === dev.device)).toBe(true);
    const got = step(model, dev.device);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5);
    got.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want.grads[i]![j]!)).toBeLessThan(1e-4)));
    got.runningVar.forEach((v, i) => expect(Math.abs(v - want.runningVar[i]!)).toBeLessThan(1e-5));
  });

  it('parameters and buffers made or moved inside tg.scope() outlive it', () => {
    const model = tg.scope(() => cnn().to(dev.device));
    tg.scope(() => model.double().float());
    for (let i = 0; i < 2; i++) tg.scope(() => void step(model, dev.device));
    expect(model.stateDict()['1.runningMean']!.cpu().dataSync().every(Number.isFinite)).toBe(true);
    expect((model.at(1) as nn.BatchNorm2d).numBatchesTracked!.cpu().item()).toBe(2);
  });
}, ['cpu', 'gpu:webasm']);
