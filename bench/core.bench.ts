/**
 * Core CPU kernels and one training step, tensorgrad against TensorFlow.js (cpu and wasm
 * backends) in the same run, with tinybench. Measured, never asserted.
 *
 *   npx tsx bench/core.bench.ts              # alone
 *   import { runCoreBench } from './core.bench.js'   # from bench/run.ts
 *
 * Cases: matmul n = 128..1024 (1 and 2 threads), add (same shape, row broadcast), exp and relu
 * over 1M floats, sum and logSoftmax over [4096, 1000], and a FashionMNIST-shaped MLP step
 * (784-512-512-10, ReLU, log-softmax + NLL, backward, SGD with momentum 0.9) at batch 16/64/256
 * on random FashionMNIST-shaped data, and one Adam step over 1M parameters (`adamStepF32`).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';


import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// NOTE: tfjs-core's Node bundle registers no gradients (the @tensorflow/tfjs umbrella package
// does); register the ones the MLP step needs from tfjs-core's own ESM sources.
import { addGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Add_grad.js';
import { batchMatMulGradConfig } from '@tensorflow/tfjs-core/dist/gradients/BatchMatMul_grad.js';
import { broadcastToGradConfig } from '@tensorflow/tfjs-core/dist/gradients/BroadcastTo_grad.js';
import { castGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Cast_grad.js';
import { logSoftmaxGradConfig } from '@tensorflow/tfjs-core/dist/gradients/LogSoftmax_grad.js';
import { meanGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Mean_grad.js';
import { multiplyGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Multiply_grad.js';
import { negGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Neg_grad.js';
import { reluGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Relu_grad.js';
import { reshapeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js';
import { sumGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sum_grad.js';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { adamStepF32, setNumThreads } from '../src/tensor/backend/wasm/index.js';

export interface CoreBenchRow {
  readonly group: string;
  /** The case within the group, e.g. `n=512` or `batch=64`. */
  readonly case: string;
  /** `tensorgrad`, `tensorgrad 2T`, `tensorgrad scope`, `tensorgrad scope 2T`, `tfjs-cpu`, `tfjs-wasm`. */
  readonly impl: string;
  /** Median wall-clock time per call in milliseconds. */
  readonly medianMs: number;
  /**
   * Median process CPU time per call in milliseconds (all threads; for single-threaded rows it
   * excludes time the process spent descheduled, so it is the steadier figure on a shared box).
   */
  readonly cpuMs: number;
  readonly meanMs: number;
  /** Relative margin of error of the mean, in percent. */
  readonly rme: number;
  readonly samples: number;
  /** Floating-point work per call, when meaningful (matmul, MLP step). */
  readonly flop?: number;
}

export interface CoreBenchOptions {
  /** Time budget per task in milliseconds (default 1000). */
  readonly time?: number;
  /** Print a table to stdout (default true). */
  readonly log?: boolean;
  /** Thread counts to run tensorgrad's matmul and MLP step with (default [1, 2]). */
  readonly threads?: readonly number[];
  /** Interleaved repetitions per case; each row keeps its fastest (default 3). */
  readonly rounds?: number;
}

/** tfjs-wasm loads its .wasm from node_modules, never the network. */
const WASM_DIR = new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
let tfSetUp = false;

async function tfBackend(name: 'cpu' | 'wasm'): Promise<boolean> {
  if (!tfSetUp) {
    setWasmPaths(WASM_DIR.pathname);
    for (const g of [addGradConfig, batchMatMulGradConfig, broadcastToGradConfig, castGradConfig, logSoftmaxGradConfig, meanGradConfig, multiplyGradConfig, negGradConfig, reluGradConfig, reshapeGradConfig, sumGradConfig]) {
      tf.registerGradient(g);
    }
    tfSetUp = true;
  }
  try {
    return (await tf.setBackend(name)) && (await tf.ready(), tf.getBackend() === name);
  } catch {
    return false;
  }
}

interface Case {
  readonly group: string;
  readonly case: string;
  readonly flop?: number;
  /** Rough cost of one call in ms on tensorgrad, to pick iteration counts. */
  readonly costMs: number;
  /**
   * Build tensorgrad's call (setup outside the timed function). `scoped`: the inputs are results
   * kept from a `tg.scope()` and each call runs inside one, so tensors live in wasm memory (the
   * discipline tfjs's own `dispose()`/`tidy` imposes); else plain PyTorch-style code.
   */
  tg(scoped: boolean): () => void;
  /** Whether the scoped variant differs from the plain one (false for raw kernels). */
  readonly scopable?: boolean;
  /** Build tfjs's call on the current backend (inside an engine scope), or null to skip (too slow on tfjs-cpu). */
  tf(backend: 'cpu' | 'wasm'): (() => void) | null;
  /** Whether a 2-thread tensorgrad variant is meaningful. */
  readonly threaded?: boolean;
}

const randn = (shape: number[]) => {
  tg.manualSeed(shape.reduce((a, b) => a * b, 1) % 1000);
  return tg.randn(shape);
};
const tfOf = (t: Tensor) => tf.tensor(t.dataSync() as Float32Array, [...t.shape]);
/** An input for scoped calls: a kernel result kept from a scope, so it lives in wasm memory. */
const residentCopy = (t: Tensor) => tg.scope(() => tg.keep(t.mul(1)));
/** Run `f` as the variant asks: inside `tg.scope()` or not. */
const maybeScoped = (scoped: boolean, f: () => void): (() => void) => (scoped ? () => tg.scope(f) : f);

function matmulCase(n: number): Case {
  return {
    group: 'matmul', case: `n=${n}`, flop: 2 * n ** 3, costMs: (2 * n ** 3) / 20e6, threaded: true, scopable: true,
    tg(scoped) {
      let [a, b] = [randn([n, n]), randn([n, n]).add(1)];
      if (scoped) [a, b] = [residentCopy(a), residentCopy(b)];
      return maybeScoped(scoped, () => void a.matmul(b));
    },
    tf(backend) {
      if (backend === 'cpu' && n > 512) return null;
      const [a, b] = [tfOf(randn([n, n])), tfOf(randn([n, n]).add(1))];
      return () => tf.matMul(a, b).dispose();
    },
  };
}

function mapCase(name: string, shape: number[], f: (x: Tensor, y: Tensor) => Tensor, g: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, other: number[] = shape): Case {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    group: name, case: `[${shape.join(',')}]${other !== shape ? ` & [${other.join(',')}]` : ''}`, costMs: n / 5e5, scopable: true, threaded: true,
    tg(scoped) {
      let [x, y] = [randn(shape), randn(other)];
      if (scoped) [x, y] = [residentCopy(x), residentCopy(y)];
      return maybeScoped(scoped, () => void f(x, y));
    },
    tf(backend) {
      if (backend === 'cpu' && n > 2e6) return null;
      const [x, y] = [tfOf(randn(shape)), tfOf(randn(other))];
      return () => g(x, y).dispose();
    },
  };
}

/**
 * One SGD-with-momentum step of the FashionMNIST MLP (784-512-512-10), written as a user would:
 * nn.Sequential of Linear/ReLU, F.crossEntropy, optim.SGD (zeroGrad, backward, step). tfjs's side
 * is the same model with tf.train.momentum's minimize.
 */
function mlpCase(batch: number): Case {
  const sizes = [784, 512, 512, 10];
  const flop = 6 * batch * (784 * 512 + 512 * 512 + 512 * 10);
  return {
    group: 'MLP step', case: `batch=${batch}`, flop, costMs: flop / 10e6, threaded: true, scopable: true,
    tg(scoped) {
      tg.manualSeed(0);
      const { nn, optim } = tg;
      const model = new nn.Sequential(
        new nn.Linear(sizes[0]!, sizes[1]!), new nn.ReLU(),
        new nn.Linear(sizes[1]!, sizes[2]!), new nn.ReLU(),
        new nn.Linear(sizes[2]!, sizes[3]!),
      );
      const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const x = tg.rand([batch, 784]);
      const y = tg.randint(0, 10, [batch]);
      return maybeScoped(scoped, () => {
        opt.zeroGrad();
        nn.functional.crossEntropy(model.call(x), y).backward();
        opt.step();
      });
    },
    tf(backend) {
      if (backend === 'cpu' && batch > 64) return null;
      const vars: tf.Variable[] = [];
      for (let i = 0; i < 3; i++) {
        const bound = 1 / Math.sqrt(sizes[i]!);
        vars.push(tf.variable(tf.randomUniform([sizes[i]!, sizes[i + 1]!], -bound, bound)));
        vars.push(tf.variable(tf.randomUniform([sizes[i + 1]!], -bound, bound)));
      }
      const x = tf.randomUniform([batch, 784]);
      const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
      const opt = tf.train.momentum(0.01, 0.9);
      return () => {
        const loss = opt.minimize(() => {
          let h: tf.Tensor = x;
          for (let i = 0; i < 3; i++) {
            h = tf.add(tf.matMul(h, vars[2 * i]!), vars[2 * i + 1]!);
            if (i < 2) h = tf.relu(h);
          }
          return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(h), y), 1))) as tf.Scalar;
        }, true);
        loss?.dispose();
      };
    },
  };
}

/** One Adam step over 1M float32 parameters: tensorgrad's fused kernel vs tfjs's optimizer. */
function adamCase(n: number): Case {
  return {
    group: 'Adam step', case: `${n / 2 ** 20}M params`, costMs: n / 3e5,
    tg() {
      const [p, g] = [randn([n]).dataSync() as Float32Array, randn([n]).dataSync() as Float32Array];
      const [m, v] = [new Float32Array(n), new Float32Array(n)];
      let step = 0;
      return () => adamStepF32(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: ++step });
    },
    tf() {
      const w = tf.variable(tfOf(randn([n])));
      const g = tfOf(randn([n]));
      const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
      return () => opt.applyGradients([{ name: w.name, tensor: g }]);
    },
  };
}

export const CORE_CASES: readonly Case[] = [
  ...[128, 256, 512, 1024].map(matmulCase),
  mapCase('add', [1024, 1024], (x, y) => x.add(y), (x, y) => tf.add(x, y)),
  mapCase('add broadcast', [1024, 1024], (x, y) => x.add(y), (x, y) => tf.add(x, y), [1024]),
  mapCase('exp', [1 << 20], (x) => x.exp(), (x) => tf.exp(x)),
  mapCase('relu', [1 << 20], (x) => x.relu(), (x) => tf.relu(x)),
  mapCase('sum dim=1', [4096, 1000], (x) => x.sum(1), (x) => tf.sum(x, 1)),
  mapCase('logSoftmax dim=1', [4096, 1000], (x) => x.logSoftmax(1), (x) => tf.logSoftmax(x)),
  ...[16, 64, 256].map(mlpCase),
  adamCase(1 << 20),
];

/** One implementation of a case: its row name and how to set it up (returns the timed call). */
interface Impl {
  readonly name: string;
  setup(): Promise<(() => void) | null>;
  teardown(): void;
}

function implsOf(c: Case, threads: readonly number[]): Impl[] {
  const ours = (c.scopable ? [false, true] : [false]).flatMap((scoped) => (c.threaded ? threads : [1]).map((t): Impl => ({
    name: `tensorgrad${scoped ? ' scope' : ''}${t === 1 ? '' : ` ${t}T`}`,
    setup: async () => {
      setNumThreads(t);
      return c.tg(scoped);
    },
    teardown: () => setNumThreads(1),
  })));
  const theirs = (['cpu', 'wasm'] as const).map((backend): Impl => ({
    name: `tfjs-${backend}`,
    setup: async () => {
      if (!(await tfBackend(backend))) return null;
      tf.engine().startScope();
      return c.tf(backend);
    },
    teardown: () => {
      if (tf.getBackend() !== `${backend}`) return;
      tf.engine().endScope();
      tf.disposeVariables();
    },
  }));
  return [...ours, ...theirs];
}

/**
 * Run the suite; returns one row per (case, implementation). Each case runs `rounds` times with
 * the implementations interleaved, and each row keeps its fastest round's median, so a burst of
 * load from other processes does not decide a comparison.
 */
export async function runCoreBench(options: CoreBenchOptions = {}): Promise<CoreBenchRow[]> {
  const { time = 1000, log = true, threads = [1, 2], rounds = 3 } = options;
  const rows: CoreBenchRow[] = [];
  for (const c of CORE_CASES) {
    const iterations = Math.max(3, Math.min(64, Math.round(500 / c.costMs)));
    const best = new Map<string, CoreBenchRow>();
    for (let round = 0; round < rounds; round++) {
      for (const impl of implsOf(c, threads)) {
        const fn = await impl.setup();
        if (!fn) {
          impl.teardown();
          continue;
        }
        // tfjs-cpu is 50-100x slower: fewer iterations keep the suite's length bounded.
        const its = impl.name === 'tfjs-cpu' ? Math.max(3, Math.round(iterations / 20)) : iterations;
        const bench = new Bench({ time, iterations: its, warmupTime: 100, warmupIterations: Math.min(5, its) });
        const cpu: number[] = [];
        bench.add(impl.name, () => {
          const c0 = process.cpuUsage();
          fn();
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1000);
        });
        await bench.run();
        impl.teardown();
        const r = bench.tasks[0]?.result;
        if (!r || !('latency' in r)) continue;
        const l = r.latency;
        const cpuMs = cpu.sort((x, y) => x - y)[cpu.length >> 1] ?? NaN;
        const row: CoreBenchRow = { group: c.group, case: c.case, impl: impl.name, medianMs: l.p50, cpuMs, meanMs: l.mean, rme: l.rme, samples: l.samplesCount, ...(c.flop && { flop: c.flop }) };
        // Keep each clock's best round (they may come from different rounds).
        const prev = best.get(impl.name);
        best.set(impl.name, prev ? { ...(row.medianMs < prev.medianMs ? row : prev), cpuMs: Math.min(row.cpuMs, prev.cpuMs) } : row);
      }
    }
    const caseRows = [...best.values()];
    rows.push(...caseRows);
    if (log) {
      for (const r of caseRows) {
        const rate = r.flop ? `${(r.flop / r.medianMs / 1e6).toFixed(2)} GFLOP/s` : '';
        console.log(`${r.group.padEnd(18)} ${r.case.padEnd(22)} ${r.impl.padEnd(14)} ${r.medianMs.toFixed(3).padStart(10)} ms (cpu ${r.cpuMs.toFixed(3)}) ±${r.rme.toFixed(1)}% ${rate}`);
      }
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCoreBench();
}
