/**
 * The gpu device against the CPU backend, with tinybench: matmul n = 256..2048 (device-resident
 * operands, one readback of a single element so the work is forced), elementwise add across the
 * host-residency threshold, and one MLP training step (784-128-10, batch 64, ReLU, log-softmax
 * + NLL, backward, optim.SGD, which updates gpu parameters with a fused kernel) under tg.scope(),
 * written with raw ops and with nn.Sequential (Linear + ReLU fused into one kernel on the device).
 * Measured, never asserted. `vsCpu` is the CPU backend's median over this row's: above 1 means
 * the gpu device is faster.
 *
 *   npx tsx bench/gpu.bench.ts                    # alone
 *   npm run bench -- gpu --write                  # and refresh bench/RESULTS.md
 *   import { runGpuBench } from './gpu.bench.js'  # from bench/run.ts
 *
 * In Node without a GPU the gpu backends are gpu.js `webasm` (float32 WebAssembly kernels),
 * gpu.js `cpu` (the same kernels as JavaScript), and, where their drivers exist (docs/gpu.md),
 * WebGPU through Dawn's OpenGL ES backend and headless-gl, both on Mesa's llvmpipe software
 * rasteriser. Those two cannot share a process, so each runs in a child process (headless-gl
 * under `xvfb-run` when no display is set). The browser backends are timed by
 * scripts/gpu-browser. Software renderers say nothing about GPUs.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import type { GpuBackendKind, GpuInitOptions, Tensor } from '../src/index.js';
import { SGD } from '../src/optim/sgd.js';

export interface GpuBenchRow {
  readonly group: string;
  readonly case: string;
  /** `cpu`, `gpu:webasm`, `gpu:cpu`, `gpu:webgpu`, `gpu:headlessgl`. */
  readonly impl: string;
  readonly medianMs: number;
  readonly meanMs: number;
  readonly samples: number;
  /** CPU median / this median (above 1: faster than the CPU backend). */
  readonly vsCpu: number;
}

export interface GpuBenchOptions {
  /** Time budget per task in milliseconds (default 1000). */
  readonly time?: number;
  readonly log?: boolean;
  /** gpu.js backends to compare with the CPU (default: all four Node ones; missing drivers are reported and skipped). */
  readonly backends?: readonly GpuBackendKind[];
  /** Matmul sizes (default 256, 512, 1024, 2048). */
  readonly sizes?: readonly number[];
}

type Device = 'cpu' | 'gpu';

/** How each Node backend starts: the software Node GPU paths need allowSoftware and Dawn's GLES backend. */
const INIT: Partial<Record<GpuBackendKind, GpuInitOptions>> = {
  webgpu: { backend: 'webgpu', dawnBackend: 'opengles', allowSoftware: true },
  headlessgl: { backend: 'headlessgl', allowSoftware: true },
};

/**
 * Largest matmul per backend: gpu.js's JavaScript mode is a reference, far too slow past 512.
 * (webasm, WebGPU and headless-gl on llvmpipe take 4 to 60 s at 2048: one sample each.)
 */
const MAX_MATMUL: Partial<Record<GpuBackendKind, number>> = { cpu: 512 };

/** A function that reads one element, forcing the work: synchronous where readback is (all but WebGPU). */
type Force = (t: Tensor) => unknown;

function mlpStep(device: Device, force: Force): () => unknown {
  tg.manualSeed(0);
  const x = tg.randn([64, 784], { device });
  const y = tg.randint(0, 10, [64]).to(device);
  const w1 = tg.randn([784, 128], { device }).mul(0.05).requiresGrad_();
  const b1 = tg.zeros([128], { device, requiresGrad: true });
  const w2 = tg.randn([128, 10], { device }).mul(0.05).requiresGrad_();
  const opt = new SGD([w1, b1, w2], { lr: 0.1 });
  return () => {
    const loss = tg.scope(() => {
      opt.zeroGrad();
      const l = x.matmul(w1).add(b1).relu().matmul(w2).logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
      l.backward();
      opt.step();
      return l;
    });
    const r = force(loss);
    return r instanceof Promise ? r.then(() => loss.dispose()) : loss.dispose();
  };
}

/**
 * The same step as PyTorch users write it: `nn.Sequential(Linear, ReLU, Linear)`, `F.crossEntropy`,
 * `optim.SGD` with momentum. On the device, Linear + ReLU is one fused kernel and the last Linear
 * one addmm.
 */
function nnMlpStep(device: Device, force: Force, hidden: readonly number[] = [128], batch = 64): () => unknown {
  tg.manualSeed(0);
  const sizes = [784, ...hidden, 10];
  const layers: tg.nn.TensorModule[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new tg.nn.Linear(sizes[i]!, sizes[i + 1]!));
    if (i + 2 < sizes.length) layers.push(new tg.nn.ReLU());
  }
  const model = new tg.nn.Sequential(...layers).to(device);
  const x = tg.randn([batch, 784], { device });
  const y = tg.randint(0, 10, [batch]).to(device);
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  return () => {
    const loss = tg.scope(() => {
      opt.zeroGrad();
      const l = tg.nn.functional.crossEntropy(model.call(x), y);
      l.backward();
      opt.step();
      return l;
    });
    const r = force(loss);
    return r instanceof Promise ? r.then(() => loss.dispose()) : loss.dispose();
  };
}

/** Time one device (the CPU backend, or device 'gpu' on `backend`) in this process. */
async function benchHere(backend: GpuBackendKind | null, time: number, sizes: readonly number[]): Promise<Omit<GpuBenchRow, 'vsCpu'>[]> {
  const rows: Omit<GpuBenchRow, 'vsCpu'>[] = [];
  const device: Device = backend ? 'gpu' : 'cpu';
  const impl = backend ? `gpu:${backend}` : 'cpu';
  if (backend) {
    const info = await tg.gpu.init(INIT[backend] ?? { backend });
    console.log(`${impl}: ${info.renderer} (software: ${info.software})`);
  }
  const sync = !backend || tg.gpu.info().syncReadback;
  const force: Force = sync ? (t) => t.item() : async (t) => (await t.data())[0];
  const add = async (group: string, c: string, fn: () => unknown, budget = time) => {
    await fn(); // compile and warm up outside the measurement
    const bench = new Bench({ time: budget, iterations: 1, warmup: false });
    bench.add(c, fn);
    await bench.run();
    const r = bench.tasks[0]!.result as { latency?: { p50?: number; mean?: number; samplesCount?: number } } | undefined;
    const lat = r?.latency ?? {};
    rows.push({ group, case: c, impl, medianMs: lat.p50 ?? NaN, meanMs: lat.mean ?? NaN, samples: lat.samplesCount ?? 0 });
  };
  for (const n of sizes) {
    if (backend && n > (MAX_MATMUL[backend] ?? Infinity)) continue;
    const a = tg.randn([n, n], { device });
    const b = tg.randn([n, n], { device });
    const first = (t: Tensor) => t.narrow(0, 0, 1).narrow(1, 0, 1);
    const run = () => {
      const out = tg.scope(() => first(a.matmul(b)));
      const r = force(out);
      return r instanceof Promise ? r.then(() => out.dispose()) : out.dispose();
    };
    await add('matmul', `n=${n}`, run, n >= 1024 ? 1 : time);
    a.dispose();
    b.dispose();
  }
  for (const n of [1024, 4096, 16384, 65536, 1 << 20]) {
    const a = tg.randn([n], { device });
    const b = tg.randn([n], { device });
    await add('add (resident)', `n=${n}`, () => {
      const s = tg.scope(() => a.add(b).sum());
      const r = force(s);
      return r instanceof Promise ? r.then(() => s.dispose()) : s.dispose();
    });
  }
  await add('mlp step 784-128-10', 'batch=64', mlpStep(device, force));
  await add('mlp step 784-128-10 (nn.Sequential, fused)', 'batch=64', nnMlpStep(device, force));
  // The GPU target case (784-512-512-10, batch 256: the CPU suite's largest MLP step);
  // gpu.js's JavaScript mode is skipped (minutes per step).
  if (backend !== 'cpu') await add('mlp step 784-512-512-10 (nn.Sequential, fused)', 'batch=256', nnMlpStep(device, force, [512, 512], 256), 1);
  if (backend) tg.gpu.shutdown();
  return rows;
}

const here = fileURLToPath(import.meta.url);
const CHILD = '--gpu-bench-child=';

/**
 * Run `backend` in a child process (headless-gl and Dawn's OpenGL ES backend cannot share one),
 * under `xvfb-run -a` for headless-gl when no display is set; its rows come back as JSON.
 */
function benchInChild(backend: GpuBackendKind, time: number, sizes: readonly number[]): Omit<GpuBenchRow, 'vsCpu'>[] {
  const node = [process.execPath, '--import', 'tsx', here, `${CHILD}${backend}`, `--time=${time}`, `--sizes=${sizes.join(',')}`];
  const xvfb = backend === 'headlessgl' && process.platform === 'linux' && !process.env.DISPLAY;
  const [cmd, ...args] = xvfb ? ['xvfb-run', '-a', ...node] : node;
  const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...(backend === 'headlessgl' && { MALLOC_MMAP_THRESHOLD_: '131072' }) };
  const r = spawnSync(cmd!, args, { env, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const out = r.stdout ?? '';
  process.stdout.write(out.split('\n').filter((l) => !l.startsWith('{"rows"')).join('\n'));
  const line = out.split('\n').find((l) => l.startsWith('{"rows"'));
  if (r.status !== 0 || !line) {
    const why = (out.match(/unavailable: (.*)/)?.[1] ?? r.error?.message ?? `exit ${r.status}`).trim();
    console.log(`gpu:${backend} skipped: ${why}`);
    return [];
  }
  return (JSON.parse(line) as { rows: Omit<GpuBenchRow, 'vsCpu'>[] }).rows;
}

export async function runGpuBench(opts: GpuBenchOptions = {}): Promise<GpuBenchRow[]> {
  const time = opts.time ?? 1000;
  const sizes = opts.sizes ?? [256, 512, 1024, 2048];
  const raw: Omit<GpuBenchRow, 'vsCpu'>[] = await benchHere(null, time, sizes);
  for (const backend of opts.backends ?? (['webasm', 'cpu', 'webgpu', 'headlessgl'] as const)) {
    if (INIT[backend]) raw.push(...benchInChild(backend, time, sizes));
    else raw.push(...(await benchHere(backend, time, sizes)));
  }
  const cpu = new Map(raw.filter((r) => r.impl === 'cpu').map((r) => [`${r.group}|${r.case}`, r.medianMs]));
  const rows = raw.map((r) => ({ ...r, vsCpu: (cpu.get(`${r.group}|${r.case}`) ?? NaN) / r.medianMs }));
  if (opts.log ?? true) {
    const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : 'n/a');
    for (const r of rows) console.log(`${r.group.padEnd(22)} ${r.case.padEnd(11)} ${r.impl.padEnd(15)} median ${fmt(r.medianMs).padStart(9)} ms  vs cpu ${fmt(r.vsCpu).padStart(7)}x  (${r.samples} samples)`);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const child = process.argv.find((a) => a.startsWith(CHILD))?.slice(CHILD.length) as GpuBackendKind | undefined;
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (child) {
    try {
      const rows = await benchHere(child, Number(arg('time') ?? 1000), (arg('sizes') ?? '256').split(',').map(Number));
      console.log(JSON.stringify({ rows }));
    } catch (e) {
      console.log(`unavailable: ${(e as Error).message.replace(/^tensorgrad gpu: /, '')}`);
      process.exitCode = 1;
    }
  } else {
    await runGpuBench({ time: Number(process.env.BENCH_TIME ?? 1000) });
  }
}
