/**
 * One Adam step over 1M float32 parameters: tensorgrad's fused typed-array update against
 * TensorFlow.js's `tf.train.adam` (cpu and wasm backends) in the same run, with tinybench.
 * Measured, never asserted.
 *
 *   npx tsx bench/adam.bench.ts              # alone: prints ms/step
 *   import { runAdamBench } from './adam.bench.js'   # from bench/run.ts
 *
 * Cases: one [1000, 1000] parameter, and 1M parameters split into 256 tensors of 4096
 * (per-parameter overhead). The gradients are fixed; only the optimizer step is timed.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { Adam } from '../src/optim/adam.js';

export interface AdamBenchRow {
  readonly case: string;
  /** `tensorgrad`, `tfjs-cpu`, `tfjs-wasm`. */
  readonly impl: string;
  /** Median time per Adam step in milliseconds. */
  readonly medianMs: number;
  readonly meanMs: number;
  /** Relative margin of error of the mean, in percent. */
  readonly rme: number;
  readonly samples: number;
}

export interface AdamBenchOptions {
  /** Time budget per task in milliseconds (default 1000). */
  readonly time?: number;
  /** Print the rows to stdout (default true). */
  readonly log?: boolean;
}

const WASM_DIR = new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
let wasmPathsSet = false;

async function tfBackend(name: 'cpu' | 'wasm'): Promise<boolean> {
  if (name === 'wasm' && !wasmPathsSet) {
    setWasmPaths(WASM_DIR.pathname);
    wasmPathsSet = true;
  }
  try {
    return (await tf.setBackend(name)) && (await tf.ready(), tf.getBackend() === name);
  } catch {
    return false;
  }
}

const CASES = [
  { case: '1M params, 1 tensor', shapes: [[1000, 1000]] },
  { case: '1M params, 256 tensors', shapes: Array.from({ length: 256 }, () => [4096]) },
] as const;

/** tensorgrad: parameters with fixed gradients; the task is `opt.step()`. */
function tensorgradStep(shapes: readonly (readonly number[])[]): () => void {
  tg.manualSeed(0);
  const params: Tensor[] = shapes.map((s) => {
    const p = tg.randn([...s]).requiresGrad_();
    p.grad = tg.randn([...s]);
    return p;
  });
  const opt = new Adam(params, { lr: 1e-3 });
  return () => void opt.step();
}

/** TensorFlow.js: variables and fixed gradients; the task is `applyGradients`. */
function tfjsStep(shapes: readonly (readonly number[])[]): { step: () => void; dispose: () => void } {
  const vars = shapes.map((s, i) => tf.variable(tf.randomNormal([...s]), true, `w${i}`));
  const grads = shapes.map((s, i) => ({ name: `w${i}`, tensor: tf.randomNormal([...s]) }));
  const opt = tf.train.adam(1e-3);
  return {
    step: () => opt.applyGradients(grads),
    dispose: () => {
      opt.dispose();
      tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    },
  };
}

function rowsOf(bench: Bench, name: string): AdamBenchRow[] {
  return bench.tasks.flatMap((t) => {
    const r = t.result;
    if (!('latency' in r)) return [];
    const l = r.latency;
    return [{ case: name, impl: t.name, medianMs: l.p50, meanMs: l.mean, rme: l.rme, samples: l.samples?.length ?? 0 }];
  });
}

/** Run the suite; returns one row per (case, implementation). */
export async function runAdamBench(options: AdamBenchOptions = {}): Promise<AdamBenchRow[]> {
  const { time = 1000, log = true } = options;
  const rows: AdamBenchRow[] = [];
  for (const c of CASES) {
    const opts = { time, iterations: 20, warmupTime: 100, warmupIterations: 5 };
    const bench = new Bench(opts);
    bench.add('tensorgrad', tensorgradStep(c.shapes));
    await bench.run();
    const caseRows = rowsOf(bench, c.case);
    for (const backend of ['cpu', 'wasm'] as const) {
      if (!(await tfBackend(backend))) {
        if (log) console.warn(`tfjs ${backend} backend unavailable; skipped`);
        continue;
      }
      const { step, dispose } = tfjsStep(c.shapes);
      const tfBench = new Bench({ ...opts, iterations: backend === 'cpu' ? 5 : 20 });
      tfBench.add(`tfjs-${backend}`, step);
      await tfBench.run();
      dispose();
      caseRows.push(...rowsOf(tfBench, c.case));
    }
    rows.push(...caseRows);
    if (log) {
      const ours = caseRows.find((r) => r.impl === 'tensorgrad');
      for (const r of caseRows) {
        const ratio = ours && r !== ours ? `  (${(r.medianMs / ours.medianMs).toFixed(2)}x tensorgrad's time)` : '';
        console.log(`adam step  ${c.case.padEnd(24)} ${r.impl.padEnd(11)} ${r.medianMs.toFixed(3).padStart(9)} ms/step ±${r.rme.toFixed(1)}%${ratio}`);
      }
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAdamBench();
}
