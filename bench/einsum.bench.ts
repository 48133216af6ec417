/**
 * Einsum vs the equivalent batched matmul, on tensorgrad and on TensorFlow.js (cpu and wasm
 * backends), measured in the same run with tinybench. Measured, never asserted.
 *
 *   npx tsx bench/einsum.bench.ts            # alone
 *   import { runEinsumBench } from './einsum.bench.js'   # from a bench runner
 *
 * Cases: `bij,bjk->bik` (b=32, i=j=k=64) and `bhqd,bhkd->bhqk` (b·h=8·4, q=k=128, d=64).
 * The figure to watch is einsum / matmul on tensorgrad (the issue asks for at most 1.2): the
 * pair runs in alternating rounds, each keeping its fastest round's median. TensorFlow.js 4.22's
 * wasm backend has no Einsum kernel; its row records the error instead of a time.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import { einsum } from '../src/einsum/index.js';

export interface EinsumBenchRow {
  /** The equation benchmarked. */
  readonly case: string;
  /** `tensorgrad einsum`, `tensorgrad matmul`, `tfjs-cpu einsum`, … */
  readonly impl: string;
  /** Median time per call in milliseconds (NaN when the implementation failed). */
  readonly medianMs: number;
  /** Relative margin of error of the mean, in percent. */
  readonly rme: number;
  readonly samples: number;
  /** medianMs divided by tensorgrad matmul's medianMs on the same case. */
  readonly vsMatmul: number;
  /** Why there is no timing (tfjs-wasm has no Einsum kernel), else ''. */
  readonly note: string;
}

export interface EinsumBenchOptions {
  /** Time budget per task in milliseconds (default 1000). */
  readonly time?: number;
  /** Alternating rounds for the tensorgrad einsum/matmul pair (default 3). */
  readonly rounds?: number;
  /** Print a table to stdout (default true). */
  readonly log?: boolean;
}

interface BenchCase {
  readonly equation: string;
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** The same product as a batched matmul, with transposes as flags (tfjs's matMul). */
  readonly transposeB: boolean;
}

const CASES: readonly BenchCase[] = [
  { equation: 'bij,bjk->bik', a: [32, 64, 64], b: [32, 64, 64], transposeB: false },
  { equation: 'bhqd,bhkd->bhqk', a: [8, 4, 128, 64], b: [8, 4, 128, 64], transposeB: true },
];

async function tfBackend(name: 'cpu' | 'wasm'): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && (await tf.ready(), tf.getBackend() === name);
  } catch {
    return false;
  }
}

interface Timing {
  readonly name: string;
  readonly medianMs: number;
  readonly rme: number;
  readonly samples: number;
  readonly note: string;
}

/** Run `fns` on one tinybench Bench; one timing per task. */
async function measure(fns: readonly [string, () => void][], time: number, minIterations: number): Promise<Timing[]> {
  // NOTE: tinybench runs at least `iterations` samples (default 64) and `warmupIterations`
  // warmups (default 16) whatever `time` says; tfjs-cpu's einsum takes seconds per call.
  const bench = new Bench({ time, iterations: minIterations, warmupIterations: Math.min(minIterations, 5), warmupTime: 200 });
  for (const [name, fn] of fns) bench.add(name, fn);
  await bench.run();
  return bench.tasks.flatMap((t): Timing[] => {
    const r = t.result;
    if ('latency' in r) return [{ name: t.name, medianMs: r.latency.p50, rme: r.latency.rme, samples: r.latency.samplesCount, note: '' }];
    if (r.state === 'errored') return [{ name: t.name, medianMs: NaN, rme: NaN, samples: 0, note: r.error.message }];
    return [];
  });
}

/**
 * Run the suite; returns one row per (case, implementation). The tensorgrad pair runs in
 * `rounds` alternating rounds and keeps each one's fastest round, so a load spike on a shared
 * machine does not land on one side of the ratio only.
 */
export async function runEinsumBench(options: EinsumBenchOptions = {}): Promise<EinsumBenchRow[]> {
  const { time = 1000, rounds = 3, log = true } = options;
  const rows: EinsumBenchRow[] = [];
  for (const c of CASES) {
    tg.manualSeed(0);
    const a = tg.randn(c.a);
    const b = tg.randn(c.b);
    const ours: [string, () => void][] = [
      ['tensorgrad matmul', () => void a.matmul(c.transposeB ? b.transpose(-1, -2) : b)],
      ['tensorgrad einsum', () => void einsum(c.equation, a, b)],
    ];
    const best = new Map<string, Timing>();
    for (let r = 0; r < rounds; r++) {
      for (const t of await measure(r % 2 === 0 ? ours : [...ours].reverse(), time / rounds, 10)) {
        const prev = best.get(t.name);
        if (!prev || t.medianMs < prev.medianMs) best.set(t.name, t);
      }
    }
    const timings = [...best.values()];

    // TensorFlow.js, one backend at a time (the backend is global).
    const aData = a.dataSync();
    const bData = b.dataSync();
    for (const backend of ['cpu', 'wasm'] as const) {
      if (!(await tfBackend(backend))) {
        if (log) console.warn(`tfjs ${backend} backend unavailable; skipped`);
        continue;
      }
      const ta = tf.tensor(aData, [...c.a]);
      const tb = tf.tensor(bData, [...c.b]);
      timings.push(...(await measure([
        [`tfjs-${backend} einsum`, () => tf.einsum(c.equation, ta, tb).dispose()],
        [`tfjs-${backend} matmul`, () => tf.matMul(ta, tb, false, c.transposeB).dispose()],
      ], time, 3)));
      ta.dispose();
      tb.dispose();
    }

    const base = best.get('tensorgrad matmul')?.medianMs ?? NaN;
    for (const { name, ...rest } of timings) rows.push({ case: c.equation, impl: name, ...rest, vsMatmul: rest.medianMs / base });
  }
  if (log) {
    console.table(rows.map((r) => ({
      case: r.case,
      impl: r.impl,
      'median (ms)': r.note || r.medianMs.toFixed(2),
      '±%': r.note ? '' : r.rme.toFixed(1),
      'x tg matmul': r.note ? '' : r.vsMatmul.toFixed(2),
    })));
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runEinsumBench();
}
