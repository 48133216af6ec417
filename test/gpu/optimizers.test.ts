/**
 * Optimizer steps on the device (src/optim/device-step.ts): SGD, Adam/AdamW, RMSprop, Adagrad,
 * Adamax, NAdam, RAdam, Adadelta, ASGD and Rprop update gpu
 * parameters and their state with fused kernels, follow the float64 CPU optimizer's trajectory
 * to float32 accuracy, never read back, launch one or two kernels per parameter, and keep the
 * live buffer count flat over 1,000 steps.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Linear } from '../../src/nn/layers.js';
import { Adadelta } from '../../src/optim/adadelta.js';
import { Adagrad } from '../../src/optim/adagrad.js';
import { Adam, type AdamOptions } from '../../src/optim/adam.js';
import { Adamax } from '../../src/optim/adamax.js';
import { AdamW } from '../../src/optim/adamw.js';
import { ASGD } from '../../src/optim/asgd.js';
import { NAdam } from '../../src/optim/nadam.js';
import { RAdam } from '../../src/optim/radam.js';
import { RMSprop } from '../../src/optim/rmsprop.js';
import { Rprop } from '../../src/optim/rprop.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { SGD, type SGDOptions } from '../../src/optim/sgd.js';
import { stateToJSON } from '../../src/optim/state.js';
import { closeMismatch } from '../helpers/close.js';
import { itemOf, toHost, values } from './check.js';
import { describeGpu, GPU_DEVICES } from './devices.js';

type Make = (ps: Tensor[]) => Optimizer<{ lr: number }, unknown>;

/** The configuration named `name`. */
const config = (name: string): Make => CONFIGS.find(([n]) => n === name)![1];

const CONFIGS: [string, Make][] = [
  ['SGD', (ps) => new SGD(ps, { lr: 0.1 })],
  ['SGD weightDecay maximize', (ps) => new SGD(ps, { lr: 0.05, weightDecay: 0.1, maximize: true })],
  ['SGD momentum', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['SGD momentum dampening weightDecay', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 } satisfies Partial<SGDOptions>)],
  ['SGD nesterov weightDecay maximize', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.05, maximize: true })],
  ['Adam', (ps) => new Adam(ps, { lr: 0.05 })],
  ['Adam amsgrad weightDecay', (ps) => new Adam(ps, { lr: 0.05, amsgrad: true, weightDecay: 0.1, betas: [0.8, 0.95] } satisfies Partial<AdamOptions>)],
  ['Adam maximize amsgrad', (ps) => new Adam(ps, { lr: 0.02, maximize: true, amsgrad: true })],
  ['Adam decoupledWeightDecay eps', (ps) => new Adam(ps, { lr: 0.05, weightDecay: 0.2, decoupledWeightDecay: true, eps: 1e-3 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.05 })],
  ['AdamW amsgrad maximize', (ps) => new AdamW(ps, { lr: 0.03, weightDecay: 0.3, amsgrad: true, maximize: true })],
  ['RMSprop', (ps) => new RMSprop(ps, { lr: 0.01 })],
  ['RMSprop centered weightDecay', (ps) => new RMSprop(ps, { lr: 0.01, alpha: 0.9, centered: true, weightDecay: 0.1 })],
  ['RMSprop momentum maximize eps', (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.9, maximize: true, eps: 1e-3 })],
  ['RMSprop centered momentum weightDecay maximize', (ps) => new RMSprop(ps, { lr: 0.005, alpha: 0.95, centered: true, momentum: 0.5, weightDecay: 0.05, maximize: true })],
  ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.1 })],
  ['Adagrad lrDecay weightDecay', (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.1, weightDecay: 0.1 })],
  ['Adagrad initialAccumulatorValue maximize eps', (ps) => new Adagrad(ps, { lr: 0.05, initialAccumulatorValue: 0.5, maximize: true, eps: 1e-3 })],
  ['Adamax', (ps) => new Adamax(ps, { lr: 0.05 })],
  ['Adamax weightDecay maximize betas', (ps) => new Adamax(ps, { lr: 0.05, weightDecay: 0.1, maximize: true, betas: [0.8, 0.9] })],
  ['NAdam', (ps) => new NAdam(ps, { lr: 0.05 })],
  ['NAdam weightDecay momentumDecay maximize', (ps) => new NAdam(ps, { lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01, maximize: true })],
  ['NAdam decoupledWeightDecay betas', (ps) => new NAdam(ps, { lr: 0.05, weightDecay: 0.2, decoupledWeightDecay: true, betas: [0.8, 0.95] })],
  // β2 = 0.5 makes ρ_t > 5 from the third step: the unrectified, then the rectified update.
  ['RAdam', (ps) => new RAdam(ps, { lr: 0.05, betas: [0.9, 0.5] })],
  ['RAdam weightDecay maximize', (ps) => new RAdam(ps, { lr: 0.05, weightDecay: 0.1, maximize: true })],
  ['RAdam decoupledWeightDecay', (ps) => new RAdam(ps, { lr: 0.05, weightDecay: 0.2, decoupledWeightDecay: true, betas: [0.8, 0.6] })],
  ['Adadelta', (ps) => new Adadelta(ps)],
  ['Adadelta lr rho eps weightDecay maximize', (ps) => new Adadelta(ps, { lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.1, maximize: true })],
  ['ASGD', (ps) => new ASGD(ps, { lr: 0.05 })],
  // t0 = 1: μ < 1 from the fourth step, so the average departs from the iterate.
  ['ASGD lambd alpha t0 weightDecay maximize', (ps) => new ASGD(ps, { lr: 0.05, lambd: 0.1, alpha: 0.5, t0: 1, weightDecay: 0.1, maximize: true })],
  ['Rprop', (ps) => new Rprop(ps, { lr: 0.01 })],
  ['Rprop etas stepSizes maximize', (ps) => new Rprop(ps, { lr: 0.05, etas: [0.3, 1.5], stepSizes: [0.01, 0.06], maximize: true })],
];

/**
 * Three parameters: a matrix, a vector, and a transposed view of a buffer (a strided leaf: the
 * update writes through its strides). The loss mixes them so every gradient differs.
 */
function problem(device: tg.Device, dtype: 'float32' | 'float64') {
  const make = (shape: number[], seed: number) => tg.tensor(values(shape.reduce((a, b) => a * b, 1), seed, -1, 1), { shape, dtype }).to(device);
  const w = make([5, 4], 1).requiresGrad_();
  const b = make([4], 2).requiresGrad_();
  const base = make([4, 3], 3);
  const v = base.t().requiresGrad_();
  const x = make([6, 5], 4);
  const c = make([3, 6], 5);
  const loss = () => x.matmul(w).add(b).tanh().matmul(v.t()).mul(c.t()).sum().add(w.square().sum().mul(0.05)).add(v.sin().sum());
  return { params: [w, b, v], loss };
}

function steps(opt: Optimizer<{ lr: number }, unknown>, loss: () => Tensor, n: number, after: (step: number) => void = () => {}): void {
  for (let k = 0; k < n; k++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    after(k);
  }
}

/** The state tensors of a parameter (momentumBuffer, expAvg, ...), by name. */
function stateTensors(opt: Optimizer<{ lr: number }, unknown>, p: Tensor): [string, Tensor][] {
  const s = opt.state.get(p) as Record<string, unknown>;
  return Object.entries(s).filter((e): e is [string, Tensor] => e[1] instanceof tg.Tensor);
}

// float32 tolerance: five steps of float32 arithmetic (unit roundoff 6e-8) on values of order 1.
// The largest parameter deviation from float64 measured over these configurations was 3.0e-7
// (webasm, cpu, WebGPU on llvmpipe; 2.1e-7 before RMSprop..RAdam, headless-gl included), so
// atol 1e-6 leaves a margin of about 3.
const F32 = { atol: 1e-6, rtol: 1e-5 };

for (const dev of GPU_DEVICES) {
  describeGpu('optimizers on the device', dev, () => {
    for (const [name, make] of CONFIGS) {
      it(`${name}: five steps follow the float64 CPU trajectory; state stays on the device; nothing is read back`, async () => {
        const want = problem('cpu', 'float64');
        const got = problem('gpu', 'float32');
        const ref = make(want.params);
        const opt = make(got.params);
        for (let k = 0; k < 5; k++) {
          steps(ref, want.loss, 1);
          opt.zeroGrad();
          got.loss().backward();
          await tg.gpu.synchronize();
          const before = tg.gpu.stats();
          opt.step();
          await tg.gpu.synchronize();
          const after = tg.gpu.stats();
          expect([after.readbacks, after.hostFallbacks], `${name} step ${k}: readbacks, host fallbacks`).toEqual([before.readbacks, before.hostFallbacks]);
          for (const [i, p] of got.params.entries()) {
            expect(closeMismatch(await toHost(p), want.params[i]!, F32), `${name} step ${k} param ${i}`).toBeNull();
            for (const [key, t] of stateTensors(opt, p)) {
              expect(t.device, key).toBe('gpu');
              const r = stateTensors(ref, want.params[i]!).find(([k2]) => k2 === key)![1];
              expect(closeMismatch(await toHost(t), r, F32), `${name} step ${k} param ${i} ${key}`).toBeNull();
            }
          }
        }
      });
    }

    it('a step launches one kernel per parameter (SGD) or two (momentum, Adam, RMSprop, ...) and reads nothing back', async () => {
      const cases: [string, number][] = [
        ['SGD', 1], ['SGD momentum', 2], ['Adam amsgrad weightDecay', 2], ['AdamW amsgrad maximize', 2],
        ['RMSprop', 2], ['RMSprop centered momentum weightDecay maximize', 2], ['Adagrad lrDecay weightDecay', 2],
        ['Adamax weightDecay maximize betas', 2], ['NAdam decoupledWeightDecay betas', 2], ['RAdam', 2],
        ['Adadelta lr rho eps weightDecay maximize', 2], ['ASGD lambd alpha t0 weightDecay maximize', 2], ['Rprop etas stepSizes maximize', 2],
      ];
      for (const [make, perParam] of cases.map(([n, k]) => [config(n), k] as const)) {
        const { params, loss } = problem('gpu', 'float32');
        const opt = make(params);
        steps(opt, loss, 1);
        opt.zeroGrad();
        loss().backward();
        await tg.gpu.synchronize();
        const before = tg.gpu.stats();
        opt.step();
        await tg.gpu.synchronize();
        const after = tg.gpu.stats();
        // The transposed parameter is written through its strides: one more kernel.
        expect(after.launches - before.launches).toBe(perParam * params.length + 1);
        expect([after.readbacks, after.uploads, after.hostFallbacks]).toEqual([before.readbacks, before.uploads, before.hostFallbacks]);
      }
    });

    it('updates state in place from the second step; stateDict and loadStateDict round-trip on the device', async () => {
      const a = problem('gpu', 'float32');
      const b = problem('gpu', 'float32');
      const optA = new Adam(a.params, { lr: 0.05, amsgrad: true });
      steps(optA, a.loss, 2);
      const held = stateTensors(optA, a.params[0]!);
      steps(optA, a.loss, 1);
      const now = stateTensors(optA, a.params[0]!);
      expect(now.map(([k]) => k)).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq']);
      now.forEach(([k, t], i) => expect(t, k).toBe(held[i]![1]));
      // b takes a's parameters and state, then both take two more steps: identical arithmetic.
      tg.noGrad(() => a.params.forEach((p, i) => b.params[i]!.copy_(p)));
      const optB = new Adam(b.params, { lr: 0.05, amsgrad: true });
      const saved = optA.stateDict();
      for (const s of Object.values(saved.state)) for (const t of Object.values(s)) if (t instanceof tg.Tensor) expect(t.device).toBe('gpu');
      optB.loadStateDict(saved);
      if (dev.syncReadback) expect(JSON.stringify(stateToJSON(optB.stateDict()))).toBe(JSON.stringify(stateToJSON(saved)));
      steps(optA, a.loss, 2);
      steps(optB, b.loss, 2);
      for (const [i, p] of a.params.entries()) expect(Array.from(await b.params[i]!.data())).toEqual(Array.from(await p.data()));
      expect(optB.state.get(b.params[0]!)).toMatchObject({ step: 5 });
    });

    it.each(['RMSprop centered momentum weightDecay maximize', 'Adagrad initialAccumulatorValue maximize eps', 'Adamax', 'NAdam weightDecay momentumDecay maximize', 'RAdam decoupledWeightDecay', 'Adadelta lr rho eps weightDecay maximize', 'ASGD lambd alpha t0 weightDecay maximize', 'Rprop etas stepSizes maximize'])(
      '%s: state updated in place from the second step; stateDict and loadStateDict round-trip on the device',
      async (name) => {
        const make = config(name);
        const a = problem('gpu', 'float32');
        const b = problem('gpu', 'float32');
        const optA = make(a.params);
        steps(optA, a.loss, 2);
        const held = stateTensors(optA, a.params[0]!);
        steps(optA, a.loss, 1);
        stateTensors(optA, a.params[0]!).forEach(([k, t], i) => expect(t, k).toBe(held[i]![1]));
        tg.noGrad(() => a.params.forEach((p, i) => b.params[i]!.copy_(p)));
        const optB = make(b.params);
        const saved = optA.stateDict();
        for (const s of Object.values(saved.state)) for (const t of Object.values(s)) if (t instanceof tg.Tensor) expect(t.device).toBe('gpu');
        optB.loadStateDict(saved);
        steps(optA, a.loss, 2);
        steps(optB, b.loss, 2);
        for (const [i, p] of a.params.entries()) expect(Array.from(await b.params[i]!.data())).toEqual(Array.from(await p.data()));
        expect(optB.state.get(b.params[0]!)).toMatchObject({ step: 5 });
      },
    );

    it('state left on the CPU by a model moved after stepping is refused with the fix; loadStateDict moves it', async () => {
      const model = new Linear(200, 100); // 20,000 weights: device-resident at any host threshold
      const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = tg.ones([3, 200]);
      const step = (input: Tensor) => {
        opt.zeroGrad();
        model.forward(input).square().sum().backward();
        opt.step();
      };
      step(x);
      model.to('gpu');
      expect(() => step(x.to('gpu'))).toThrow(/optimizer state is on 'cpu' but its parameter is on 'gpu'.*loadStateDict/);
      opt.loadStateDict(opt.stateDict());
      step(x.to('gpu'));
      expect((opt.state.get(model.weight) as { momentumBuffer: Tensor }).momentumBuffer.device).toBe('gpu');
      expect(Number.isFinite(await itemOf(model.weight.sum()))).toBe(true);
    });

    it('1,000 Adam (AMSGrad) steps under tg.scope() keep live buffers and bytes flat, with no readback', async () => {
      const { params, loss } = problem('gpu', 'float32');
      const opt = new Adam(params, { lr: 0.01, amsgrad: true, weightDecay: 0.01 });
      const first = await itemOf(tg.scope(() => loss()));
      await tg.gpu.synchronize();
      const base = tg.gpu.memory();
      const before = tg.gpu.stats();
      const memory: string[] = [];
      for (let k = 0; k < 1000; k++) {
        tg.scope(() => steps(opt, loss, 1));
        // Count every 10th step, once the queued kernels have run (WebGPU frees buffers then).
        if (k % 10) continue;
        await tg.gpu.synchronize();
        const m = tg.gpu.memory();
        memory.push(`+${m.buffers - base.buffers} buffers, +${m.bytes - base.bytes} bytes`);
      }
      const after = tg.gpu.stats();
      // What a step leaves: the gradients (3) and one packed state buffer per parameter (3, each
      // three times the parameter's 20, 4 and 12 elements).
      expect(memory[0]).toBe(`+6 buffers, +${4 * (20 + 4 + 12) * 4} bytes`);
      expect(new Set(memory)).toEqual(new Set([memory[0]]));
      // (The loss's scalar constants are uploaded every step: hostThreshold is 0 here.)
      expect([after.readbacks, after.hostFallbacks]).toEqual([before.readbacks, before.hostFallbacks]);
      expect(await itemOf(tg.scope(() => loss()))).toBeLessThan(first - 1);
    });
  });
}

/** An MLP 784-32-10 whose first weight (25,088 elements) is a device tensor and whose other parameters are small. */
function mlp(device: tg.Device, dtype: 'float32' | 'float64') {
  const make = (shape: number[], seed: number, scale: number) => tg.tensor(values(shape.reduce((a, b) => a * b, 1), seed, -scale, scale), { shape, dtype }).to(device);
  const params = [make([784, 32], 11, 0.05), make([32], 12, 0.1), make([32, 10], 13, 0.2), make([10], 14, 0.1)].map((p) => p.requiresGrad_());
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const x = make([64, 784], 15, 1);
  const y = tg.tensor(Int32Array.from(values(64, 16, 0, 10), Math.floor)).to(device);
  const loss = () => x.matmul(w1).add(b1).relu().matmul(w2).add(b2).logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
  return { params, loss };
}

for (const dev of GPU_DEVICES) {
  // The default host threshold: tensors below 16,384 elements start on the host.
  const { hostThreshold: _all, ...init } = dev.init!;
  describeGpu('optimizers at the default host threshold', { ...dev, init }, () => {
    it('small parameters with gradients on the device move there at the first step; later steps read nothing back', async () => {
      const want = mlp('cpu', 'float64');
      const got = mlp('gpu', 'float32');
      const resident = () => got.params.map((p) => (p.storage as unknown as { handle: unknown }).handle !== null);
      expect(resident()).toEqual([true, false, false, false]);
      const ref = new Adam(want.params, { lr: 0.01, weightDecay: 0.01 });
      const opt = new Adam(got.params, { lr: 0.01, weightDecay: 0.01 });
      steps(ref, want.loss, 1);
      steps(opt, got.loss, 1);
      expect(resident()).toEqual([true, true, true, true]);
      await tg.gpu.synchronize();
      const before = tg.gpu.stats();
      steps(ref, want.loss, 3);
      steps(opt, got.loss, 3);
      await tg.gpu.synchronize();
      const after = tg.gpu.stats();
      expect([after.readbacks, after.hostFallbacks]).toEqual([before.readbacks, before.hostFallbacks]);
      // Adam scales every gradient element to a step of about lr, so an element whose float32
      // gradient (a sum over the batch of 64) cancels to near zero carries its relative error
      // into an lr-sized step: 2.1e-6 = 2e-4·lr measured on WebGL2 (SwiftShader). atol is lr·1e-3.
      for (const [i, p] of got.params.entries()) expect(closeMismatch(await toHost(p), want.params[i]!, { ...F32, atol: 1e-5 }), `param ${i}`).toBeNull();
    });
  });
}
