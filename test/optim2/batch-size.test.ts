/**
 * Batch size as a schedule: BatchSizeScheduler's curves, the learning-rate decay it applies once
 * the batch size is capped (Smith et al., 2018), a DataLoader following it epoch by epoch, and
 * the loader's count of distinct samples per epoch with and without replacement.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { DataLoader, RandomSampler, TensorDataset } from '../../src/data/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';

function sizes(sched: optim2.BatchSizeScheduler, epochs: number): number[] {
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) {
    out.push(sched.batchSize);
    sched.step();
  }
  return out;
}

describe('BatchSizeScheduler curves', () => {
  test.each([
    ['step', { batchSize: 8, mode: 'step', stepSize: 2, factor: 2 }, [8, 8, 16, 16, 32, 32]],
    ['step, capped', { batchSize: 8, mode: 'step', stepSize: 2, factor: 2, maxBatchSize: 20 }, [8, 8, 16, 16, 20, 20]],
    ['multistep', { batchSize: 4, mode: 'multistep', milestones: [1, 3], factor: 3 }, [4, 12, 12, 36, 36]],
    ['linear', { batchSize: 10, mode: 'linear', endBatchSize: 50, totalEpochs: 4 }, [10, 20, 30, 40, 50, 50]],
    ['exponential', { batchSize: 4, mode: 'exponential', gamma: 1.5 }, [4, 6, 9, 14, 20]],
    ['constant', { batchSize: 7, mode: 'constant' }, [7, 7, 7]],
  ] as const)('%s', (_name, options, expected) => {
    expect(sizes(new optim2.BatchSizeScheduler(options as optim2.BatchSizeSchedulerOptions), expected.length)).toEqual(expected);
  });

  test('once capped, the shortfall decays the learning rate instead (B·lr stays on the schedule)', () => {
    const w = tg.zeros([2], { requiresGrad: true });
    const opt = new optim.SGD([{ params: [w] }, { params: [tg.zeros([1], { requiresGrad: true })], lr: 1 }], { lr: 0.5 });
    const sched = new optim2.BatchSizeScheduler({ batchSize: 10, mode: 'step', stepSize: 1, factor: 5, maxBatchSize: 100, optimizer: opt });
    const seen: [number, number, number][] = [];
    for (let e = 0; e < 4; e++) {
      seen.push([sched.batchSize, opt.paramGroups[0]!.lr, opt.paramGroups[1]!.lr]);
      sched.step();
    }
    expect(seen).toEqual([[10, 0.5, 1], [50, 0.5, 1], [100, 0.5 * 0.4, 0.4], [100, 0.5 * 0.08, 0.08].map((v) => expect.closeTo(v, 12))]);
    expect(sched.targetBatchSize(3)).toBe(1250);
  });

  test('stateDict and option errors', () => {
    const sched = new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'exponential', gamma: 2 });
    sched.step();
    sched.step();
    const other = new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'exponential', gamma: 2 });
    other.loadStateDict(sched.stateDict());
    expect(other.batchSize).toBe(32);
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 0 })).toThrow('batch_size should be a positive integer value, but got batch_size=0');
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'step' })).toThrow('step_size should be a positive integer value, but got step_size=undefined');
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'step', stepSize: 1, factor: 0.5 })).toThrow('Batch size growth factor should be >= 1, got 0.5');
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'multistep', milestones: [3, 1] })).toThrow('Milestones should be a list of increasing integers');
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'exponential' })).toThrow('gamma should be > 0');
    expect(() => new optim2.BatchSizeScheduler({ batchSize: 8, mode: 'cosine' as never })).toThrow(/mode should be one of/);
  });
});

describe('a DataLoader follows a batch-size schedule', () => {
  const ds = new TensorDataset(tg.arange(20).reshape([20, 1]).float(), tg.arange(20));

  test('the batch size is read when each epoch starts', () => {
    const sched = new optim2.BatchSizeScheduler({ batchSize: 4, mode: 'step', stepSize: 1, factor: 2 });
    const loader = new DataLoader(ds, { batchSize: sched, shuffle: true, generator: new tg.Generator(0) });
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      expect(loader.batchSize).toBe(4 * 2 ** e);
      expect(loader.length).toBe(Math.ceil(20 / (4 * 2 ** e)));
      const batches: number[] = [];
      for (const [x] of loader) batches.push((x as Tensor).shape[0]!);
      epochs.push(batches);
      sched.step();
    }
    expect(epochs).toEqual([[4, 4, 4, 4, 4], [8, 8, 4], [16, 4]]);
  });

  test('increasing the batch size replaces a learning-rate decay with fewer parameter updates', () => {
    // Linear regression: the same number of epochs with lr decay vs batch-size growth.
    const X = tg.randn([64, 3], { generator: new tg.Generator().manualSeed(1) });
    const y = X.matmul(tg.tensor([1, -2, 0.5])).add(tg.randn([64], { generator: new tg.Generator().manualSeed(2) }).mul(0.1));
    const data = new TensorDataset(X, y);
    const train = (grow: boolean): { loss: number; updates: number } => {
      const w = tg.zeros([3], { requiresGrad: true });
      const opt = new optim.SGD([w], { lr: 0.1 });
      // The same step schedule, applied either to the batch size (×2) or to the learning rate (×½).
      const sched = grow ? new optim2.BatchSizeScheduler({ batchSize: 4, mode: 'step', stepSize: 2, factor: 2 }) : new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
      const loader = new DataLoader(data, { batchSize: sched instanceof optim2.BatchSizeScheduler ? sched : 4, shuffle: true, generator: new tg.Generator(3) });
      let updates = 0;
      for (let e = 0; e < 6; e++) {
        for (const [xb, yb] of loader) {
          opt.zeroGrad();
          (xb as Tensor).matmul(w).sub(yb as Tensor).square().mean().backward();
          opt.step();
          updates += 1;
        }
        sched.step();
      }
      return { loss: X.matmul(w).sub(y).square().mean().item(), updates };
    };
    const decay = train(false);
    const grow = train(true);
    expect(decay.updates).toBe(6 * 16);
    expect(grow.updates).toBe(2 * 16 + 2 * 8 + 2 * 4);
    expect(grow.loss).toBeLessThan(0.05);
    expect(decay.loss).toBeLessThan(0.05);
  });

  test('epochStats: distinct samples per epoch with and without replacement', () => {
    const n = 400;
    const big = new TensorDataset(tg.zeros([n, 1]));
    const without = new DataLoader(big, { batchSize: 32, shuffle: true, generator: new tg.Generator(1) });
    for (const _ of without) void _;
    expect(without.epochStats).toEqual({ drawn: n, distinct: n });
    const withRepl = new DataLoader(big, { batchSize: 32, sampler: new RandomSampler(big, { replacement: true, generator: new tg.Generator(1) }) });
    for (const _ of withRepl) void _;
    const stats = withRepl.epochStats;
    expect(stats.drawn).toBe(n);
    // 1 − (1 − 1/n)^n ≈ 1 − 1/e ≈ 0.632 of the samples are seen
    expect(stats.distinct / n).toBeGreaterThan(0.57);
    expect(stats.distinct / n).toBeLessThan(0.69);
  });
});
