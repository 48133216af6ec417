/**
 * `stepAsync` of the host algorithms (LBFGS, Newton, NewtonCG: written once as generators,
 * src/optim/readback.ts): on the CPU it replays `step()` bit for bit, async closures included;
 * on every gpu device, WebGPU included (values read with `await t.data()` only), it follows the
 * CPU float32 trajectory; where readback is asynchronous `step()` refuses before any work.
 */
import { describe, expect, it, vi } from 'vitest';
import * as tg from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import * as optim2 from '../../src/optim/extras.js';
import { readsSync } from '../../src/optim/readback.js';
import { describeEachDevice } from '../gpu/devices.js';
import { expectRelClose, problems } from './helpers.js';

type AnyOptimizer = optim.Optimizer<optim.OptimizerOptions, unknown>;

interface Problem {
  params: Tensor[];
  /** The loss from the parameters (no backward). */
  loss: () => Tensor;
}

/** The optim2 fixtures' mlp (3-5-2, tanh) and logreg problems in `dtype` on `device`. */
function problem(name: 'mlp' | 'logreg', device: tg.Device, dtype: DType): Problem {
  const t = (v: unknown, requiresGrad = false): Tensor => tg.tensor(v as number[], { dtype, device, requiresGrad });
  if (name === 'mlp') {
    const [X, Y] = [t(problems.mlp.X), t(problems.mlp.Y)];
    const params = problems.mlp.init.map((v) => t(v, true));
    const [W1, b1, W2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
    return { params, loss: () => X.matmul(W1.t()).add(b1).tanh().matmul(W2.t()).add(b2).sub(Y).square().mean() };
  }
  const [X, y] = [t(problems.logreg.X), t(problems.logreg.y)];
  const params = problems.logreg.init.map((v) => t(v, true));
  const [w, b] = params as [Tensor, Tensor];
  return {
    params,
    loss: () => y.mul(X.matmul(w).add(b)).neg().exp().log1p().mean().add(w.square().sum().add(b.square().sum()).mul(0.05)),
  };
}

interface Case {
  name: string;
  problem: 'mlp' | 'logreg';
  make: (params: Tensor[]) => AnyOptimizer;
  /** LBFGS's closure calls backward; Newton's returns the loss only. */
  backward: boolean;
  steps: number;
}

const CASES: readonly Case[] = [
  { name: 'LBFGS', problem: 'mlp', make: (p) => new optim.LBFGS(p, { maxIter: 5, historySize: 3 }) as unknown as AnyOptimizer, backward: true, steps: 3 },
  {
    name: 'LBFGS (strong Wolfe)',
    problem: 'mlp',
    // lr 3: the search brackets and zooms (at lr 1 it accepts its first trial every time here)
    make: (p) => new optim.LBFGS(p, { lr: 3, maxIter: 5, historySize: 3, lineSearchFn: 'strong_wolfe' }) as unknown as AnyOptimizer,
    backward: true,
    steps: 4,
  },
  // two steps: Newton is then at the float32 optimum, where the line search only sees rounding noise
  { name: 'Newton', problem: 'logreg', make: (p) => new optim2.Newton(p, { damping: 1e-3 }) as unknown as AnyOptimizer, backward: false, steps: 2 },
  { name: 'NewtonCG', problem: 'logreg', make: (p) => new optim2.NewtonCG(p, { cgMaxIter: 3 }) as unknown as AnyOptimizer, backward: false, steps: 3 },
  { name: 'NewtonCG (mlp, lr 0.5, no line search)', problem: 'mlp', make: (p) => new optim2.NewtonCG(p, { lr: 0.5, lineSearch: null }) as unknown as AnyOptimizer, backward: false, steps: 3 },
];

type Mode = 'step' | 'stepAsync' | 'stepAsync, async closure';

interface Run {
  params: number[];
  losses: number[];
  state: unknown;
}

/** Run `c` for its steps on `device`; values are read with `await t.data()`. */
async function run(c: Case, device: tg.Device, dtype: DType, mode: Mode): Promise<Run> {
  const { params, loss } = problem(c.problem, device, dtype);
  const opt = c.make(params);
  const closure = (): Tensor => {
    if (!c.backward) return loss();
    opt.zeroGrad();
    const l = loss();
    l.backward();
    return l;
  };
  const losses: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    let l: Tensor | undefined;
    if (mode === 'step') l = opt.step(closure);
    else if (mode === 'stepAsync') l = await opt.stepAsync(closure);
    else {
      l = await opt.stepAsync(async () => {
        await new Promise((resolve) => setTimeout(resolve, 0)); // e.g. the next batch
        return closure();
      });
    }
    losses.push(Number((await l!.data())[0]));
  }
  const flat: number[] = [];
  for (const p of params) flat.push(...Array.from(await p.data(), Number));
  return { params: flat, losses, state: JSON.parse(JSON.stringify(opt.state.get(params[0]!), (_k, v: unknown) => (v instanceof tg.Tensor ? Array.from(v.dataSync()) : v))) };
}

describe('stepAsync replays step() bit for bit on the CPU', () => {
  for (const c of CASES) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${c.name}, ${dtype}`, async () => {
        const ref = await run(c, 'cpu', dtype, 'step');
        expect(ref.params.every(Number.isFinite)).toBe(true);
        expect(ref.losses.at(-1)!).toBeLessThan(ref.losses[0]!);
        for (const mode of ['stepAsync', 'stepAsync, async closure'] as const) {
          const got = await run(c, 'cpu', dtype, mode);
          expect(got.params, mode).toEqual(ref.params);
          expect(got.losses, mode).toEqual(ref.losses);
          expect(got.state, mode).toEqual(ref.state);
        }
      });
    }
  }

  it('runs the step hooks, and needs a closure', async () => {
    const { params, loss } = problem('logreg', 'cpu', 'float64');
    const opt = new optim2.Newton(params);
    const log: string[] = [];
    opt.registerStepPreHook(() => void log.push('pre'));
    opt.registerStepPostHook(() => void log.push('post'));
    await opt.stepAsync(() => {
      log.push('closure');
      return loss();
    });
    expect(log.slice(0, 2)).toEqual(['pre', 'closure']);
    expect(log.at(-1)).toBe('post');
    await expect(opt.stepAsync()).rejects.toThrow('Newton.stepAsync() requires a closure that computes and returns the loss');
    await expect(new optim.LBFGS(params).stepAsync()).rejects.toThrow('LBFGS.stepAsync() requires a closure');
  });

  it('step() refuses an async closure, naming stepAsync', () => {
    const { params, loss } = problem('logreg', 'cpu', 'float64');
    const lbfgs = new optim.LBFGS(params);
    expect(() => lbfgs.step(async () => loss())).toThrow('LBFGS.step(): the closure returned a Promise; use `await opt.stepAsync(closure)`');
    expect(() => new optim2.NewtonCG(params).step(async () => loss())).toThrow('NewtonCG.step(): the closure returned a Promise');
  });

  it('other optimizers get stepAsync from the base class: step() as a Promise', async () => {
    const a = problem('logreg', 'cpu', 'float32');
    const b = problem('logreg', 'cpu', 'float32');
    const [optA, optB] = [new optim.Adam(a.params, { lr: 0.1 }), new optim.Adam(b.params, { lr: 0.1 })];
    const closure = (opt: AnyOptimizer, loss: () => Tensor) => (): Tensor => {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      return l;
    };
    for (let i = 0; i < 3; i++) {
      optA.step(closure(optA as unknown as AnyOptimizer, a.loss));
      await optB.stepAsync(closure(optB as unknown as AnyOptimizer, b.loss));
    }
    expect(b.params.flatMap((p) => Array.from(p.dataSync()))).toEqual(a.params.flatMap((p) => Array.from(p.dataSync())));
    // The base stepAsync is step(): an async closure is refused there as by step().
    await expect(optB.stepAsync(async () => b.loss())).rejects.toThrow('expects a synchronous function');
  });

  it('the CPU reads synchronously', () => {
    expect(readsSync('cpu')).toBe(true);
  });
});

const cpu32 = new Map<string, Promise<Run>>();
/** The CPU float32 `step()` trajectory of `c` (computed once). */
function cpuReference(c: Case): Promise<Run> {
  if (!cpu32.has(c.name)) cpu32.set(c.name, run(c, 'cpu', 'float32', 'step'));
  return cpu32.get(c.name)!;
}

/** Every parameter's elements, read asynchronously. */
async function values(params: readonly Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of params) out.push(...Array.from(await p.data(), Number));
  return out;
}

/** `step()` on `device` must throw before calling anything, changing anything or running hooks. */
async function expectRefused(device: tg.Device, backend: string): Promise<void> {
  for (const c of CASES.slice(1, 4)) {
    const { params, loss } = problem(c.problem, device, 'float32');
    const before = await values(params);
    const opt = c.make(params);
    let calls = 0;
    opt.registerStepPreHook(() => void calls++);
    const name = c.name.split(' ')[0]!;
    const message = `${name}.step() reads the loss and gradients on the host, and synchronous readback is not possible on the ${backend} backend: use \`await opt.stepAsync(closure)\``;
    expect(() => opt.step(() => (calls++, loss()))).toThrow(message);
    expect(calls, c.name).toBe(0);
    expect(opt.state.size, c.name).toBe(0);
    expect(await values(params), c.name).toEqual(before);
  }
}

describeEachDevice(
  'stepAsync of LBFGS, Newton and NewtonCG',
  (dev) => {
    for (const c of CASES) {
      it(`${c.name} follows the CPU float32 trajectory`, async () => {
        const got = await run(c, dev.device, 'float32', 'stepAsync');
        const ref = await cpuReference(c);
        // float32 kernels: a few ulps per op, compounded over the steps and iterations
        expectRelClose(got.params, ref.params, 1e-3, 1e-5, c.name);
        expectRelClose(got.losses, ref.losses, 1e-3, 1e-6, `${c.name} losses`);
      });
    }

    if (!dev.syncReadback) {
      it('step() refuses before any work, naming stepAsync', async () => {
        await expectRefused(dev.device, tg.gpu.info().backend);
        // CPU parameters still step synchronously while this device is up.
        const { params, loss } = problem('logreg', 'cpu', 'float64');
        new optim2.Newton(params).step(loss);
        expect(readsSync('gpu')).toBe(false);
      });
    } else if (dev.device === 'gpu') {
      it('step() refuses before any work on a backend without synchronous readback (simulated)', async () => {
        const real = tg.gpu.info();
        const info = vi.spyOn(tg.gpu, 'info').mockReturnValue({ ...real, backend: 'webgpu', syncReadback: false });
        try {
          expect(readsSync('gpu')).toBe(false);
          await expectRefused(dev.device, 'webgpu');
        } finally {
          info.mockRestore();
        }
        expect(readsSync('gpu')).toBe(true);
      });

      it('step() and stepAsync() agree on a device that reads synchronously', async () => {
        const c = CASES[1]!;
        expect(await run(c, dev.device, 'float32', 'stepAsync')).toEqual(await run(c, dev.device, 'float32', 'step'));
      });
    }
  },
  { asyncReadback: true },
);
