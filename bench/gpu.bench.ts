/**
 * The gpu device against the CPU backend, with tinybench: matmul n = 256..2048 (device-resident
 * operands, one readback of a single element so the work is forced), elementwise add across the
 * host-residency threshold, and one MLP training step (784-128-10, batch 64, ReLU, log-softmax
 * + NLL, backward, in-place SGD) under tg.scope(). Measured, never asserted.
 *
 *   npx tsx bench/gpu.bench.ts                    # alone
 *   import { runGpuBench } from './gpu.bench.js'  # from bench/run.ts
 *
 * In Node without a GPU the gpu backends are gpu.js `webasm` (float32 WebAssembly kernels) and
 * gpu.js `cpu` (the same kernels as JavaScript); the browser backends (WebGL2, WebGPU on
 * SwiftShader) are timed by scripts/gpu-browser. Software renderers say nothing about GPUs.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import type { GpuBackendKind } from '../src/index.js';

export interface GpuBenchRow {
  readonly group: string;
  readonly case: string;
  /** `cpu`, `gpu:webasm`, `gpu:cpu`. */
  readonly impl: string;
  readonly medianMs: number;
  readonly meanMs: number;
  readonly samples: number;
}

export interface GpuBenchOptions {
  /** Time budget per task in milliseconds (default 1000). */
  readonly time?: number;
  readonly log?: boolean;
  /** gpu.js backends to compare with the CPU (default ['webasm', 'cpu']). */
  readonly backends?: readonly GpuBackendKind[];
  /** Matmul sizes (default 256, 512, 1024, 2048). */
  readonly sizes?: readonly number[];
}

type Device = 'cpu' | 'gpu';

function mlpStep(device: Device): () => void {
  tg.manualSeed(0);
  const x = tg.randn([64, 784], { device });
  const y = tg.randint(0, 10, [64]).to(device);
  const w1 = tg.randn([784, 128], { device }).mul(0.05).requiresGrad_();
  const b1 = tg.zeros([128], { device, requiresGrad: true });
  const w2 = tg.randn([128, 10], { device }).mul(0.05).requiresGrad_();
  const params = [w1, b1, w2];
  return () =>
    tg.scope(() => {
      const loss = x.matmul(w1).add(b1).relu().matmul(w2).logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
      loss.backward();
      tg.noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(0.1));
          p.grad = null;
        }
      });
      loss.item();
    });
}

export async function runGpuBench(opts: GpuBenchOptions = {}): Promise<GpuBenchRow[]> {
  const time = opts.time ?? 1000;
  const rows: GpuBenchRow[] = [];
  const impls: [string, Device, GpuBackendKind | null][] = [['cpu', 'cpu', null], ...(opts.backends ?? ['webasm', 'cpu']).map((b): [string, Device, GpuBackendKind] => [`gpu:${b}`, 'gpu', b])];
  for (const [impl, device, backend] of impls) {
    if (backend) await tg.gpu.init({ backend });
    const add = async (group: string, c: string, fn: () => void, budget = time) => {
      fn(); // compile and warm up outside the measurement
      const bench = new Bench({ time: budget, iterations: 1, warmup: false });
      bench.add(c, fn);
      await bench.run();
      const r = bench.tasks[0]!.result as { latency?: { p50?: number; mean?: number; samplesCount?: number } } | undefined;
      const lat = r?.latency ?? {};
      rows.push({ group, case: c, impl, medianMs: lat.p50 ?? NaN, meanMs: lat.mean ?? NaN, samples: lat.samplesCount ?? 0 });
    };
    for (const n of opts.sizes ?? [256, 512, 1024, 2048]) {
      // gpu.js's JavaScript mode is a reference, far too slow past 512.
      if (backend === 'cpu' && n > 512) continue;
      const a = tg.randn([n, n], { device });
      const b = tg.randn([n, n], { device });
      await add('matmul', `n=${n}`, () => tg.scope(() => void a.matmul(b).narrow(0, 0, 1).narrow(1, 0, 1).item()), n >= 1024 ? 1 : time);
      a.dispose();
      b.dispose();
    }
    for (const n of [1024, 4096, 16384, 65536, 1 << 20]) {
      const a = tg.randn([n], { device });
      const b = tg.randn([n], { device });
      await add('add (resident)', `n=${n}`, () => tg.scope(() => void a.add(b).sum().item()));
    }
    await add('mlp step 784-128-10', 'batch=64', mlpStep(device));
    if (backend) tg.gpu.shutdown();
  }
  if (opts.log ?? true) {
    const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : 'n/a');
    for (const r of rows) console.log(`${r.group.padEnd(22)} ${r.case.padEnd(11)} ${r.impl.padEnd(11)} median ${fmt(r.medianMs).padStart(9)} ms  (${r.samples} samples)`);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runGpuBench({ time: Number(process.env.BENCH_TIME ?? 1000) });
}
