/**
 * Regression tests for the gpu.js 2.24.1 bugs in ../shared/notes/gpujs.md §6 and tensorgrad's
 * workarounds. The WebGL2-only bug (§6.1) itself is reproduced in the browser suite
 * (scripts/gpu-browser); here the invariants that avoid it are checked on every kernel launch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import { useGpu } from './check.js';
import type { GpuKernel, GpuKernelSettings } from '../../src/tensor/backend/gpujs/gpujs-types.js';
import type { Runtime } from '../../src/tensor/backend/gpujs/runtime.js';
import { backendFor } from '../../src/tensor/backend/device.js';

const runtime = () => (backendFor('gpu') as unknown as { runtime: Runtime }).runtime;

describe('gpu.js workarounds (gpu:webasm)', () => {
  const created: { source: string; settings: GpuKernelSettings }[] = [];
  const argKinds = new Map<string, Set<string>>();

  beforeAll(async () => {
    await useGpu('webasm');
    const rt = runtime();
    const createKernel = rt.gpu.createKernel.bind(rt.gpu);
    rt.gpu.createKernel = (source: string, settings: GpuKernelSettings): GpuKernel => {
      created.push({ source, settings });
      return createKernel(source, settings);
    };
    const run = rt.run.bind(rt);
    rt.run = (k, args) => {
      const kinds = argKinds.get(k.key) ?? new Set<string>();
      for (const a of args) kinds.add(typeof a === 'number' ? 'number' : a.producer ? 'device' : 'host');
      argKinds.set(k.key, kinds);
      return run(k, args);
    };
  });
  afterAll(() => tg.gpu.shutdown());

  it('§6.1: host arrays only ever reach upload kernels; compute kernels only see device buffers', () => {
    const x = tg.tensor([[1, 2], [3, 4]], { device: 'gpu' });
    const y = x.matmul(x).add(tg.tensor([1, 1], { device: 'gpu' })).relu().sum(0);
    expect(y.toArray()).toEqual([24, 34]);
    expect(argKinds.size).toBeGreaterThan(3);
    for (const [key, kinds] of argKinds) expect([...kinds], key).toEqual([key.startsWith('upload|') ? 'host' : 'device']);
  });

  it('§6.2: no dynamicOutput; single precision, precision tactic, pipelined immutable outputs, raised loop cap', () => {
    for (const n of [1000, 4096, 100_000, 1000, 1_000_000, 1000]) {
      const x = tg.ones([n], { device: 'gpu' });
      expect(tg.scope(() => x.mul(2).sum().item())).toBe(2 * n);
      x.dispose();
    }
    expect(created.length).toBeGreaterThan(0);
    for (const { settings } of created) {
      expect(settings).toMatchObject({ precision: 'single', tactic: 'precision', pipeline: true, immutable: true });
      expect(settings).not.toHaveProperty('dynamicOutput');
      expect(settings.loopMaxIterations).toBeGreaterThan(1000);
    }
  });

  it('§6.3: tensors past 2^24 elements are refused with a clear error, not computed wrongly', () => {
    const big = 2 ** 24 + 1;
    expect(() => tg.zeros([big], { device: 'gpu' })).toThrow(/larger than the 16777216 \(2\^24\) elements/);
    const row = tg.ones([4097], { device: 'gpu' });
    expect(() => row.expand([4096, 4097]).contiguous()).toThrow(/2\^24/);
    expect(() => row.unsqueeze(1).mul(row)).toThrow(/split/);
    // Just below the limit, flat index arithmetic is exact: transpose 4096 x 4095 and check the last rows.
    const [r, c] = [4096, 4095];
    const m = tg.arange(r * c, { device: 'gpu', dtype: 'float32' }).reshape([r, c]);
    const t = m.t().contiguous();
    const tail = t.narrow(0, c - 2, 2).narrow(1, r - 3, 3).toArray();
    expect(tail).toEqual([0, 1].map((i) => [0, 1, 2].map((j) => (r - 3 + j) * c + (c - 2 + i))));
    m.dispose();
    t.dispose();
  });

  it('§6.4: sizes are validated by tensorgrad before any kernel, and kernels are keyed on buffer lengths', () => {
    const a = tg.ones([3, 4], { device: 'gpu' });
    expect(() => a.add(tg.ones([5], { device: 'gpu' }))).toThrow(/size of tensor a \(4\) must match the size of tensor b \(5\)/);
    expect(() => a.matmul(a)).toThrow(/cannot be multiplied \(3x4 and 3x4\)/);
    // Same view shape over storages of different lengths: distinct kernels, both correct.
    const long = tg.arange(20, { device: 'gpu', dtype: 'float32' });
    const short = tg.arange(8, { device: 'gpu', dtype: 'float32' });
    expect(long.narrow(0, 2, 4).mul(1).toArray()).toEqual([2, 3, 4, 5]);
    expect(short.narrow(0, 2, 4).mul(1).toArray()).toEqual([2, 3, 4, 5]);
  });

  it('kernel cache: LRU eviction keeps the cache bounded; webasm outputs are copies that outlive their kernel', async () => {
    // (GL kernels delete their textures when destroyed: there eviction skips kernels with live
    // outputs, checked on headless-gl in node-paths.test.ts.)
    await tg.gpu.init({ backend: 'webasm', hostThreshold: 0, kernelCacheSize: 4 });
    const x = tg.arange(6, { device: 'gpu', dtype: 'float32' });
    const outs = [x.exp(), x.sin(), x.cos(), x.sqrt(), x.square(), x.neg(), x.abs()];
    expect(tg.gpu.memory().kernels).toBeLessThanOrEqual(4);
    expect(outs[0]!.dataSync()[1]).toBeCloseTo(Math.E, 5);
    expect(Array.from(outs[6]!.dataSync())).toEqual([0, 1, 2, 3, 4, 5]);
    for (const o of outs) o.dispose();
    x.dispose();
    expect(tg.gpu.emptyCache()).toBeGreaterThan(0);
    expect(tg.gpu.memory()).toEqual({ buffers: 0, bytes: 0, kernels: 0 });
  });

  it('init() picks webasm in Node without a GPU and reports it as software; unknown backends fail clearly', async () => {
    const info = await tg.gpu.init();
    expect(info).toMatchObject({ backend: 'webasm', kernelClass: 'WebAssemblyKernel', software: true, syncReadback: true });
    await expect(tg.gpu.init({ backend: 'webgl2' })).rejects.toThrow(/'webgl2' backend is not available/);
    expect(tg.gpu.isAvailable()).toBe(false);
    expect(() => tg.ones([2], { device: 'gpu' })).toThrow(/await tg.gpu.init\(\)/);
    await useGpu('webasm');
  });
});
