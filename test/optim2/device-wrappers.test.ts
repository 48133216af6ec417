/**
 * The optimizer wrappers and weight averages on the gpu device: SAM/ASAM, Schedule-Free SGD and
 * AdamW (with their eval()/train() swaps), Lookahead, EMA, PolyakAveraging, AveragedModel with
 * SWALR and updateBn, and SVRG, SAG and SAGA update gpu tensors with tensor ops on the device.
 * Each case runs on the CPU and on the device and must agree within float32 tolerances, with no
 * readback or host fallback inside a step and a flat device buffer count once the state exists.
 * Every value is read with `await t.data()`, so the suite runs on WebGPU too.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { describeEachDevice } from '../gpu/devices.js';
import { expectRelClose, LOGREG_L2, problems } from './helpers.js';

/** What one run records: values read between steps, and the device's counts per step. */
class Recorder {
  /** Flat values of each `read()`, in order. */
  readonly values: number[][] = [];
  /** Live device buffers after each `step()` (gpu only). */
  readonly buffers: number[] = [];
  /** Readbacks and host fallbacks inside the steps (gpu only). */
  readbacks = 0;
  fallbacks = 0;

  readonly device: tg.Device;

  constructor(device: tg.Device) {
    this.device = device;
  }

  /**
   * Run `fn` as one step under `tg.scope()`, then count what it read back and (unless
   * `countBuffers` is false: a one-off that replaces tensors) the buffers left.
   */
  async step(fn: () => unknown, countBuffers = true): Promise<void> {
    const gpu = this.device === 'gpu';
    const before = gpu ? tg.gpu.stats() : null;
    tg.scope(() => void fn());
    if (!gpu) return;
    await tg.gpu.synchronize();
    const after = tg.gpu.stats();
    this.readbacks += after.readbacks - before!.readbacks;
    this.fallbacks += after.hostFallbacks - before!.hostFallbacks;
    if (countBuffers) this.buffers.push(tg.gpu.memory().buffers);
  }

  /** Read `tensors` (asynchronously: every backend) and record them, concatenated. */
  async read(tensors: readonly Tensor[]): Promise<void> {
    const parts = await Promise.all(tensors.map(async (t) => Array.from(await t.data(), Number)));
    this.values.push(parts.flat());
  }
}

/** One run on `rec.device`; returns what it made (models, optimizers, averages, tensors) to dispose. */
type Case = (rec: Recorder) => Promise<unknown[]>;

/**
 * Dispose every tensor reachable from `roots`: tensors (and their gradients), modules' parameters
 * and buffers, optimizers' state (wrappers' bases too), arrays, maps and plain objects. Device
 * memory is freed deterministically, so a case that disposes what it made leaves the buffer count
 * as it found it (and the next case's count is not disturbed by the garbage collector).
 */
function disposeAll(...roots: unknown[]): void {
  const seen = new Set<unknown>();
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (x instanceof tg.Tensor) {
      if (x.grad) x.grad = null;
      x.dispose();
    } else if (x instanceof nn.Module) {
      [...x.parameters(), ...x.buffers()].forEach(visit);
    } else if (x instanceof optim.Optimizer) {
      visit(x.state);
      visit((x as { base?: unknown }).base);
    } else if (x instanceof optim2.EMA) {
      visit(x.averaged);
      visit(x.tracked);
    } else if (x instanceof Map) {
      for (const [k, v] of x) {
        visit(k);
        visit(v);
      }
    } else if (Array.isArray(x) || Object.getPrototypeOf(x) === Object.prototype) {
      Object.values(x).forEach(visit);
    }
  };
  roots.forEach(visit);
}

/** The mlp problem (3 → 5 → 2, optionally with a BatchNorm1d) in float32 on `device`. */
function mlp(device: tg.Device, batchNorm = false) {
  const first = new nn.Linear(3, 5);
  const last = new nn.Linear(5, 2);
  const model = batchNorm ? new nn.Sequential(first, new nn.BatchNorm1d(5), new nn.Tanh(), last) : new nn.Sequential(first, new nn.Tanh(), last);
  const init = problems.mlp.init as number[][];
  tg.noGrad(() => [first.weight, first.bias!, last.weight, last.bias!].forEach((p, i) => p.copy_(tg.tensor(init[i]!))));
  // NOTE: Module.to() leaves the moved tensors owning the parameters' buffers too, until the
  // garbage collector runs; moving inside a scope releases them (the kept parameters stay), so
  // disposing the model frees its buffers.
  tg.scope(() => {
    model.to(device);
    [...model.parameters(), ...model.buffers()].forEach((t) => tg.keep(t));
  });
  const X = tg.tensor(problems.mlp.X, { device });
  const Y = tg.tensor(problems.mlp.Y, { device });
  const loss = (): Tensor => nn.functional.mseLoss(model.call(X), Y);
  return { model, params: model.parameters(), X, Y, loss };
}

/** The usual closure for `opt`. */
function closureOf(opt: { zeroGrad(): void }, loss: () => Tensor): () => Tensor {
  return () => {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    return l;
  };
}

/** Steps of `opt` (a wrapper or optimizer), reading the parameters after each. */
function optimizerCase(steps: number, make: (params: Tensor[]) => optim.Optimizer<optim.OptimizerOptions, unknown>, withClosure = false): Case {
  return async (rec) => {
    const made = mlp(rec.device);
    const { params, loss } = made;
    const opt = make(params);
    const closure = closureOf(opt, loss);
    for (let i = 0; i < steps; i++) {
      await rec.step(() => (withClosure ? opt.step(closure) : (closure(), opt.step())));
      await rec.read(params);
    }
    return [made, opt];
  };
}

/** Schedule-Free, twice: 3 steps, eval() (x into the parameters), train() (y back). */
function scheduleFreeCase(make: (params: Tensor[]) => optim2.ScheduleFreeSGD | optim2.ScheduleFreeAdamW): Case {
  return async (rec) => {
    const made = mlp(rec.device);
    const { params, loss } = made;
    const opt = make(params);
    const closure = closureOf(opt, loss);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) {
        await rec.step(() => opt.step(closure));
        await rec.read(params);
      }
      await rec.step(() => opt.eval());
      await rec.read(params);
      await rec.step(() => opt.train());
      await rec.read(params);
    }
    return [made, opt];
  };
}

/** The logreg problem: w, b on `device` and a sample loss (mean over `indices`, duplicates counted, plus the ridge term). */
function logreg(device: tg.Device) {
  const init = problems.logreg.init as number[][];
  const w = tg.tensor(init[0]!, { device, requiresGrad: true });
  const b = tg.tensor(init[1]!, { device, requiresGrad: true });
  const X = tg.tensor(problems.logreg.X, { device });
  const y = tg.tensor(problems.logreg.y, { device });
  const n = problems.logreg.y.length;
  // NOTE: a weight per sample instead of indexSelect, whose index range check reads back.
  const lossOf = (indices: readonly number[]): Tensor => {
    const weights = new Float32Array(n);
    for (const i of indices) weights[i] = weights[i]! + 1 / indices.length;
    const m = tg.tensor(weights).to(device);
    const per = y.mul(X.matmul(w).add(b)).neg().exp().log1p();
    return per.mul(m).sum().add(w.square().sum().add(b.square().sum()).mul(0.5 * LOGREG_L2));
  };
  return { params: [w, b], X, y, n, lossOf };
}

/** Steps of a variance-reduced method on fixed sample indices, reading the parameters and the loss. */
function varianceCase(make: (params: Tensor[], n: number) => optim2.SVRG | optim2.SAG | optim2.SAGA): Case {
  return async (rec) => {
    const made = logreg(rec.device);
    const { params, n, lossOf } = made;
    const opt = make(params, n);
    const batches = [[3], [7, 1], [0], [9, 9], [4, 2], [5], [8, 6], [3]];
    for (const idx of batches) {
      let loss: Tensor | undefined;
      await rec.step(() => {
        loss = tg.keep(opt.step(lossOf, idx)!);
      });
      await rec.read([...params, loss!]);
      loss!.dispose();
    }
    return [made, opt];
  };
}

const CASES: Record<string, Case> = {
  'SAM (SGD with momentum)': optimizerCase(5, (p) => new optim2.SAM(new optim.SGD(p, { lr: 0.05, momentum: 0.9 }), { rho: 0.05 }), true),
  'ASAM (Adam)': optimizerCase(5, (p) => new optim2.SAM(new optim.Adam(p, { lr: 0.01 }), { rho: 0.5, adaptive: true }), true),
  'SAM, two groups (ASAM; maximize)': optimizerCase(4, (p) => {
    const sam = new optim2.SAM(new optim.SGD([{ params: p.slice(0, 2) }, { params: p.slice(2), maximize: true }], { lr: 0.02 }), { rho: 0.1 });
    Object.assign(sam.paramGroups[0]!, { adaptive: true, rho: 0.3 });
    return sam;
  }, true),
  ScheduleFreeSGD: scheduleFreeCase((p) => new optim2.ScheduleFreeSGD(p, { lr: 0.1, momentum: 0.9, warmupSteps: 2, weightDecay: 0.01 })),
  'ScheduleFreeSGD (maximize)': scheduleFreeCase((p) => new optim2.ScheduleFreeSGD(p, { lr: 0.01, momentum: 0.8, maximize: true, r: 1 })),
  ScheduleFreeAdamW: scheduleFreeCase((p) => new optim2.ScheduleFreeAdamW(p, { lr: 0.01, warmupSteps: 2, weightDecay: 0.01 })),
  'ScheduleFreeAdamW (maximize)': scheduleFreeCase((p) => new optim2.ScheduleFreeAdamW(p, { lr: 0.005, betas: [0.8, 0.99], maximize: true })),
  Lookahead: optimizerCase(6, (p) => new optim2.Lookahead(new optim.Adam(p, { lr: 0.01 }), { k: 2, alpha: 0.5 })),
  'Lookahead (closure)': optimizerCase(5, (p) => new optim2.Lookahead(new optim.SGD(p, { lr: 0.05, momentum: 0.9 }), { k: 3, alpha: 0.3 }), true),
  EMA: async (rec) => {
    const made = mlp(rec.device);
    const { model, params, loss } = made;
    const opt = new optim.SGD(params, { lr: 0.1, momentum: 0.9 });
    const ema = new optim2.EMA(model, { decay: 0.9, warmup: true, startStep: 1 });
    ema.attach(opt);
    const second = mlp(rec.device);
    const other = second.params;
    const closure = closureOf(opt, loss);
    for (let i = 0; i < 4; i++) {
      await rec.step(() => opt.step(closure));
      await rec.read(ema.averaged);
    }
    await rec.step(() => ema.swap());
    await rec.read(params);
    await rec.read(ema.averaged);
    await rec.step(() => ema.copyTo(other));
    await rec.read(other);
    await rec.step(() => ema.swap());
    await rec.read(params);
    await rec.step(() => opt.step(closure));
    await rec.read(ema.averaged);
    return [made, second, opt, ema];
  },
  PolyakAveraging: async (rec) => {
    const made = mlp(rec.device);
    const { params, loss } = made;
    const opt = new optim.Adam(params, { lr: 0.01 });
    const avg = new optim2.PolyakAveraging(params, { startStep: 1 });
    avg.attach(opt);
    const closure = closureOf(opt, loss);
    for (let i = 0; i < 5; i++) {
      await rec.step(() => opt.step(closure));
      await rec.read(avg.averaged);
    }
    await rec.step(() => avg.swap());
    await rec.read(params);
    await rec.step(() => avg.swap());
    return [made, opt, avg];
  },
  'AveragedModel (SWA) with SWALR': async (rec) => {
    const made = mlp(rec.device);
    const { model, params, loss } = made;
    const opt = new optim.SGD(params, { lr: 0.1 });
    const swa = new optim.swaUtils.AveragedModel(model, { device: rec.device });
    const sched = new optim.swaUtils.SWALR(opt, { swaLr: 0.02, annealEpochs: 3 });
    const closure = closureOf(opt, loss);
    for (let i = 0; i < 5; i++) {
      await rec.step(() => {
        opt.step(closure);
        swa.updateParameters(model);
        sched.step();
      });
      await rec.read([...swa.parameters(), swa.nAveraged]);
    }
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.02, 12);
    return [made, opt, swa];
  },
  'AveragedModel (EMA multiAvgFn, buffers) and updateBn': async (rec) => {
    const made = mlp(rec.device, true);
    const { model, params, loss, X } = made;
    // NOTE: not Adam: the bias before a BatchNorm has a zero gradient up to rounding, which Adam
    // would normalise into full steps.
    const opt = new optim.SGD(params, { lr: 0.1, momentum: 0.5 });
    const swa = new optim.swaUtils.AveragedModel(model, { multiAvgFn: optim.swaUtils.getEmaMultiAvgFn(0.8), useBuffers: true }).to(rec.device);
    const closure = closureOf(opt, loss);
    for (let i = 0; i < 4; i++) {
      await rec.step(() => {
        opt.step(closure);
        swa.updateParameters(model);
      });
      await rec.read([...swa.parameters(), ...swa.module.buffers(), swa.nAveraged]);
    }
    // NOTE: updateBn replaces the running statistics (as PyTorch): not a flat-buffer step, and
    // the replaced ones are disposed here.
    const replaced = swa.module.buffers();
    const bn = (x: Tensor) => optim.swaUtils.updateBn([0, 4, 8].map((s) => x.narrow(0, s, 4)), swa as unknown as nn.Module<[Tensor], unknown>);
    await rec.step(() => bn(X), false);
    await rec.read(swa.module.buffers());
    return [made, opt, swa, replaced];
  },
  'SVRG': varianceCase((p, n) => new optim2.SVRG(p, { lr: 0.5, numSamples: n, updateFrequency: 3, fullBatchSize: 4, weightDecay: 1e-3 })),
  'SVRG (maximize, one snapshot batch)': varianceCase((p, n) => new optim2.SVRG(p, { lr: 0.05, numSamples: n, updateFrequency: 4, maximize: true })),
  SAG: varianceCase((p, n) => new optim2.SAG(p, { lr: 0.2, numSamples: n, weightDecay: 1e-3 })),
  'SAGA (zeros)': varianceCase((p, n) => new optim2.SAGA(p, { lr: 0.2, numSamples: n })),
  'SAGA (full table)': varianceCase((p, n) => new optim2.SAGA(p, { lr: 0.2, numSamples: n, tableInit: 'full', weightDecay: 1e-3 })),
};

describeEachDevice('optimizer wrappers and averages on the device', (dev) => {
  for (const [name, run] of Object.entries(CASES)) {
    it(`${name} follows the CPU trajectory, in place`, async () => {
      const ref = new Recorder('cpu');
      await run(ref);
      const got = new Recorder(dev.device);
      const gpu = dev.device === 'gpu';
      if (gpu) await tg.gpu.synchronize();
      const baseline = gpu ? tg.gpu.memory().buffers : 0;
      const made = await run(got);
      expect(got.values.length).toBe(ref.values.length);
      // float32 kernels against the CPU's float32 flat updates (computed in float64): a few ulps
      // per op, compounded over the steps (measured on every backend here: at most 2.4e-7
      // absolute, 5.5e-6 relative)
      got.values.forEach((v, i) => expectRelClose(v, ref.values[i]!, 1e-4, 2e-6, `${name}, read ${i}`));
      if (dev.device !== 'gpu') return;
      expect(got.readbacks, `${name}: readbacks inside the steps`).toBe(0);
      expect(got.fallbacks, `${name}: host fallbacks inside the steps`).toBe(0);
      // the state is made in the first step: from then on every step frees what it allocates
      expect(got.buffers, `${name}: live device buffers after each step`).toEqual(new Array(got.buffers.length).fill(got.buffers[0]));
      // and what the run made (model, state, averages) was all there was
      disposeAll(made);
      await tg.gpu.synchronize();
      expect(tg.gpu.memory().buffers, `${name}: device buffers after disposing the run`).toBe(baseline);
    });
  }
  it('AveragedModel takes its count from a CPU checkpoint and keeps it across to(), reading nothing back', async () => {
    const host = mlp('cpu');
    const ref = new optim.swaUtils.AveragedModel(host.model);
    tg.noGrad(() => host.params.forEach((p) => p.mul_(0.5)));
    ref.updateParameters(host.model);
    ref.updateParameters(host.model);
    const made = mlp(dev.device);
    const swa = new optim.swaUtils.AveragedModel(made.model);
    swa.loadStateDict(ref.stateDict());
    swa.to(dev.device);
    tg.noGrad(() => made.params.forEach((p) => p.mul_(0.25)));
    tg.noGrad(() => host.params.forEach((p) => p.mul_(0.5)));
    const rec = new Recorder(dev.device);
    await rec.step(() => swa.updateParameters(made.model));
    ref.updateParameters(host.model);
    await rec.read([...swa.parameters(), swa.nAveraged]);
    const expected = await Promise.all([...ref.parameters(), ref.nAveraged].map(async (t) => Array.from(await t.data(), Number)));
    expectRelClose(rec.values[0]!, expected.flat(), 1e-5, 1e-7, 'averaged after the load');
    expect(rec.values[0]!.at(-1)).toBe(3);
    expect(rec.readbacks).toBe(0);
    disposeAll(made, swa);
  });
}, { asyncReadback: true });
