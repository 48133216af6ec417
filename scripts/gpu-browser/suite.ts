/**
 * The gpu suite that runs inside headless Chromium (run.mjs bundles it with esbuild). The page
 * URL picks the gpu.js backend (`?backend=webgl2|webgpu|webasm`); results land in
 * `window.__results` as { name, ok, error, ms }. Every value is read with `await t.data()`, so
 * the same suite runs on WebGPU, whose readback is asynchronous only.
 */
import * as tg from '../../src/index.js';
import type { GpuBackendKind, Tensor } from '../../src/index.js';

interface Result {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

const backend = (new URLSearchParams(location.search).get('backend') ?? 'webgl2') as GpuBackendKind;
const tests: [string, () => Promise<void>][] = [];
const test = (name: string, fn: () => Promise<void>) => tests.push([name, fn]);

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

/** Values of `x` (any device) as numbers. */
async function vals(x: Tensor): Promise<number[]> {
  return Array.from(await x.data(), Number);
}

/** `fn` on the gpu (float32) against the CPU in float64, elementwise within atol + rtol·|want|. */
async function close(fn: (dev: tg.Device, dtype: 'float32' | 'float64') => Tensor, atol = 1e-5, rtol = 1e-4): Promise<void> {
  const got = await vals(fn('gpu', 'float32'));
  const want = await vals(fn('cpu', 'float64'));
  assert(got.length === want.length, `length ${got.length} != ${want.length}`);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert(Math.abs(g - w) <= atol + rtol * Math.abs(w), `element ${i}: ${g} != ${w}`);
  });
}

const seq = (n: number, scale = 1) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.3 + 0.2) * scale));
const t = (shape: number[], dev: tg.Device, dtype: 'float32' | 'float64', scale = 1) =>
  tg.tensor(seq(shape.reduce((a, b) => a * b, 1), scale), { shape, device: dev, dtype });

test(`init picks ${backend}`, async () => {
  const info = await tg.gpu.init({ backend, allowSoftware: true, hostThreshold: 0 });
  assert(info.backend === backend, `backend ${info.backend}`);
  assert(info.syncReadback === (backend !== 'webgpu'), 'syncReadback');
  console.log(`renderer: ${info.renderer} (software: ${info.software})`);
});

test('elementwise with broadcasting and strided operands', () =>
  close((d, f) => t([3, 4], d, f).mul(t([4], d, f)).add(t([4, 3], d, f).t()).exp().sub(t([3, 1], d, f).tanh()).relu()));

test('unary ops near zero and signs (expm1, log1p, tanh, pow, round)', () =>
  close((d, f) => tg.cat([t([8], d, f, 1e-3).expm1(), t([8], d, f, 1e-3).log1p(), t([8], d, f, 1e-3).tanh(), t([8], d, f, 3).pow(3), t([8], d, f, 3).round(), t([8], d, f).sigmoid()], 0), 1e-7, 1e-4));

test('reductions, softmax, logSoftmax, argmax', () =>
  close((d, f) => {
    const x = t([5, 7], d, f, 3);
    return tg.cat([x.sum(1), x.amax(0), x.softmax(1).reshape([-1]), x.logSoftmax(0).reshape([-1]), x.logsumexp(1), x.argmax(1).to(f)], 0);
  }));

test('matmul: plain, transposed and batched', () =>
  close((d, f) => {
    const a = t([6, 5], d, f);
    const b = t([5, 4], d, f);
    const c = t([2, 3, 5], d, f).matmul(t([2, 5, 3], d, f));
    return tg.cat([a.matmul(b).reshape([-1]), a.t().matmul(a).reshape([-1]), b.matmul(b.t()).reshape([-1]), c.reshape([-1])], 0);
  }, 1e-4, 1e-4));

test('gather, scatterAdd, cat, in-place writes into views', () =>
  close((d, f) => {
    const x = t([3, 4], d, f);
    const idx = tg.tensor(Int32Array.from([0, 3, 1, 1, 2, 0]), { shape: [3, 2], device: d });
    const y = x.clone();
    y.narrow(1, 1, 2).mul_(10);
    y.select(0, 2).fill_(-1);
    return tg.cat([x.gather(1, idx).reshape([-1]), tg.zeros([3, 4], { device: d, dtype: f }).scatterAdd(1, idx, x.narrow(1, 0, 2)).reshape([-1]), y.reshape([-1])], 0);
  }));

test('gradients of a small network', () =>
  close((d, f) => {
    const w = t([5, 3], d, f).requiresGrad_();
    const x = t([4, 5], d, f, 2);
    x.matmul(w).tanh().logSoftmax(1).sum().backward();
    return w.grad!;
  }));

test('§6.1: gpu.js WebGL2 cannot switch one kernel from input() to a texture; tensorgrad never asks it to', async () => {
  // tensorgrad: host data enters through upload kernels only, then kernels chain on device buffers.
  const x = tg.tensor(seq(64 * 64), { shape: [64, 64], device: 'gpu' });
  const y = x.mul(2).add(x).mul(x);
  assert((await vals(y.sum())).length === 1, 'chained kernels ran');
  if (backend !== 'webgl2') return;
  const { GPU, input } = (globalThis as unknown as { GPU: { GPU: new (o: object) => { createKernel(s: string, o: object): (a: unknown) => unknown; destroy(): void }; input(a: Float32Array, s: number[]): unknown } }).GPU;
  const gpu = new GPU({ mode: 'webgl2' });
  const k = gpu.createKernel('function (a) { return a[this.thread.y][this.thread.x] * 2; }', { output: [64, 64], pipeline: true, immutable: true, precision: 'single' });
  const tex = k(input(new Float32Array(64 * 64).fill(1), [64, 64]));
  let threw = false;
  try {
    k(tex);
  } catch {
    threw = true;
  }
  gpu.destroy();
  console.log(`gpu.js input->texture switch on WebGL2 ${threw ? 'still throws (bug §6.1 present)' : 'works now (bug §6.1 fixed upstream)'}`);
});

test('readback: data()/array() everywhere; dataSync() throws naming await t.data() on WebGPU', async () => {
  const x = tg.tensor([[1, 2], [3, 4]], { device: 'gpu' });
  assert(JSON.stringify(await x.t().array()) === '[[1,3],[2,4]]', 'array()');
  if (backend === 'webgpu') {
    let msg = '';
    try {
      x.dataSync();
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(/await t\.data\(\)/.test(msg), `dataSync message: ${msg}`);
  } else {
    assert(x.sum().item() === 10, 'item()');
  }
});

test('training: loss falls and the live buffer count stays flat under tg.scope()', async () => {
  const x = t([32, 4], 'gpu', 'float32', 2);
  const y = tg.tensor(Int32Array.from(seq(32).map((v) => (v > 0.3 ? 2 : v > -0.3 ? 1 : 0))), { device: 'gpu' });
  const w1 = t([4, 16], 'gpu', 'float32', 0.5).requiresGrad_();
  const w2 = t([16, 3], 'gpu', 'float32', 0.5).requiresGrad_();
  const losses: Tensor[] = [];
  const counts: number[] = [];
  for (let step = 0; step < 40; step++) {
    const loss = tg.scope(() => {
      const l = x.matmul(w1).relu().matmul(w2).logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
      l.backward();
      tg.noGrad(() => {
        for (const p of [w1, w2]) {
          p.sub_(p.grad!.mul(0.5));
          p.grad = null;
        }
      });
      return l;
    });
    if (step === 0 || step === 39) losses.push(loss);
    else loss.dispose();
    // WebGPU frees a buffer once the kernels reading it have run: count after they have.
    await tg.gpu.synchronize();
    counts.push(tg.gpu.memory().buffers);
  }
  const [first, last] = [(await vals(losses[0]!))[0]!, (await vals(losses[1]!))[0]!];
  assert(last < first * 0.8, `loss ${first} -> ${last}`);
  assert(new Set(counts.slice(1, -1)).size === 1, `live buffers ${counts.join(',')}`);
});

test('optim.SGD (Nesterov) and optim.Adam (AMSGrad) update gpu parameters with fused kernels, no readback', async () => {
  const run = async (d: tg.Device, f: 'float32' | 'float64', make: (ps: Tensor[]) => { zeroGrad(): void; step(): void }) => {
    const w = t([5, 3], d, f).requiresGrad_();
    const b = t([3], d, f, 0.5).requiresGrad_();
    const x = t([4, 5], d, f, 2);
    const opt = make([w, b]);
    let readbacks = 0;
    for (let k = 0; k < 3; k++) {
      opt.zeroGrad();
      x.matmul(w).add(b).tanh().square().sum().backward();
      if (d === 'gpu') await tg.gpu.synchronize();
      const before = d === 'gpu' ? tg.gpu.stats().readbacks : 0;
      opt.step();
      if (d === 'gpu') await tg.gpu.synchronize();
      readbacks += d === 'gpu' ? tg.gpu.stats().readbacks - before : 0;
    }
    return { values: [...(await vals(w)), ...(await vals(b))], readbacks };
  };
  const makers = [(ps: Tensor[]) => new tg.optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), (ps: Tensor[]) => new tg.optim.Adam(ps, { lr: 0.05, amsgrad: true })];
  for (const make of makers) {
    const got = await run('gpu', 'float32', make);
    const want = await run('cpu', 'float64', make);
    assert(got.readbacks === 0, `${got.readbacks} readbacks during step()`);
    got.values.forEach((g, i) => assert(Math.abs(g - want.values[i]!) <= 1e-6 + 1e-5 * Math.abs(want.values[i]!), `element ${i}: ${g} != ${want.values[i]}`));
  }
});

test('nn.Sequential fuses Linear + ReLU/Tanh/Sigmoid into one kernel each: values and gradients', async () => {
  const run = async (d: tg.Device, f: 'float32' | 'float64') => {
    const model = new tg.nn.Sequential(new tg.nn.Linear(6, 8), new tg.nn.ReLU(), new tg.nn.Linear(8, 5), new tg.nn.Tanh(), new tg.nn.Linear(5, 3), new tg.nn.Sigmoid());
    tg.noGrad(() => model.parameters().forEach((p, i) => p.copy_(tg.tensor(seq(p.numel(), 0.6 + 0.01 * i), { shape: p.shape }))));
    (f === 'float64' ? model.double() : model).to(d);
    const x = t([7, 6], d, f);
    const before = d === 'gpu' ? tg.gpu.stats().launches : 0;
    const out = model.call(x);
    const launches = d === 'gpu' ? tg.gpu.stats().launches - before : 0;
    out.square().sum().backward();
    const values = [...(await vals(out))];
    for (const p of model.parameters()) values.push(...(await vals(p.grad!)));
    return { values, launches, name: out.gradFn!.name };
  };
  const got = await run('gpu', 'float32');
  const want = await run('cpu', 'float64');
  assert(got.name === 'AddmmActivationBackward', `gradFn ${got.name}`);
  assert(got.launches === 3, `forward launched ${got.launches} kernels (3 fused pairs)`);
  got.values.forEach((g, i) => assert(Math.abs(g - want.values[i]!) <= 1e-5 + 1e-4 * Math.abs(want.values[i]!), `element ${i}: ${g} != ${want.values[i]}`));
});

test('every kernel ran as the chosen backend', async () => {
  await tg.gpu.synchronize();
  const classes = Object.keys(tg.gpu.stats().kernelClasses);
  assert(classes.length === 1 && classes[0] === tg.gpu.info().kernelClass, `kernel classes ${classes.join(',')}`);
});

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const [name, fn] of tests) {
    const t0 = performance.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      results.push({ name, ok: false, error: String((e as Error).stack ?? e), ms: performance.now() - t0 });
      if (results.length === 1) break; // no backend, nothing else can run
    }
  }
  (window as unknown as { __results: Result[] }).__results = results;
}

void main();
