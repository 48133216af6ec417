/**
 * Device memory lifetimes: dispose(), tg.scope(), tg.keep(), gradients owned by their leaf,
 * backward's temporaries, and the FinalizationRegistry backstop, counted by tg.gpu.memory().
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { useGpu } from './check.js';

const live = () => tg.gpu.memory().buffers;

describe('device memory lifetimes (gpu:webasm)', () => {
  beforeAll(() => useGpu('webasm'));
  afterAll(() => tg.gpu.shutdown());

  it('dispose() frees a tensor; reading it afterwards names the cause', () => {
    const before = live();
    const x = tg.ones([4, 4], { device: 'gpu' });
    expect(live()).toBe(before + 1);
    expect(tg.gpu.memory().bytes).toBeGreaterThanOrEqual(64);
    x.dispose();
    x.dispose();
    expect(live()).toBe(before);
    expect(() => x.dataSync()).toThrow(/was disposed/);
  });

  it('views keep the storage alive until every view is disposed', () => {
    const before = live();
    const x = tg.arange(12, { device: 'gpu', dtype: 'float32' });
    const r = x.reshape([3, 4]);
    const v = r.t();
    x.dispose();
    r.dispose();
    expect(live()).toBe(before + 1);
    expect(tg.scope(() => v.sum().item())).toBe(66);
    v.dispose();
    expect(live()).toBe(before);
  });

  it('tg.scope() frees intermediates and hands returned tensors to the enclosing scope', () => {
    const x = tg.randn([8, 8], { device: 'gpu' });
    const before = live();
    const [a, b] = tg.scope(() => {
      const inner = tg.scope(() => x.matmul(x).relu().exp().sum(1));
      expect(live()).toBe(before + 1);
      return [inner, inner.mul(2)];
    });
    expect(live()).toBe(before + 2);
    expect(tg.scope(() => b.sub(a.mul(2)).abs().max().item())).toBe(0);
    tg.scope(() => {
      a.add(1);
    });
    expect(live()).toBe(before + 2);
    a.dispose();
    b.dispose();
    expect(live()).toBe(before);
  });

  it('tg.scope() frees on throw and rejects async functions', async () => {
    const before = live();
    expect(() => tg.scope(() => {
      tg.ones([3], { device: 'gpu' }).add(1);
      throw new Error('boom');
    })).toThrow('boom');
    expect(live()).toBe(before);
    expect(() => tg.scope((async () => tg.ones([2], { device: 'gpu' })) as unknown as () => Tensor)).toThrow(/synchronous function/);
    await Promise.resolve();
    expect(live()).toBe(before);
  });

  it('tg.keep() lets a tensor outlive its scope', () => {
    const before = live();
    const w = tg.scope(() => {
      tg.ones([5], { device: 'gpu' });
      return { w: tg.keep(tg.ones([5], { device: 'gpu' }).mul(3)) };
    }).w;
    expect(live()).toBe(before + 1);
    expect(tg.scope(() => w.sum().item())).toBe(15);
    w.dispose();
    expect(live()).toBe(before);
  });

  it('.grad outlives the scope and is freed when zeroed; backward frees its temporaries', () => {
    const w = tg.randn([16, 4], { device: 'gpu', requiresGrad: true });
    const x = tg.randn([32, 16], { device: 'gpu' });
    const before = live();
    tg.scope(() => x.matmul(w).tanh().square().mean().backward());
    expect(live()).toBe(before + 1);
    expect(w.grad!.shape).toEqual([16, 4]);
    // Without a scope, the forward's tensors live on (GC frees them), but backward's do not.
    const loss = x.matmul(w).sigmoid().sum();
    const afterForward = live();
    loss.backward();
    expect(live()).toBe(afterForward);
    w.grad = null;
    expect(live()).toBe(afterForward - 1);
  });

  it('the FinalizationRegistry frees tensors that were dropped without dispose()', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle(); // tensors earlier tests dropped
    const before = live();
    (() => {
      for (let i = 0; i < 20; i++) tg.ones([64], { device: 'gpu' }).mul(2);
    })();
    expect(live()).toBeGreaterThanOrEqual(before + 40);
    for (let i = 0; i < 50 && live() > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(live()).toBe(before);
  });
});

describe('host-resident small tensors (default threshold)', () => {
  beforeAll(() => tg.gpu.init({ backend: 'webasm' }));
  afterAll(() => tg.gpu.shutdown());

  it('small tensors stay on the host until mixed with device tensors; float64 always does', () => {
    const info = tg.gpu.info();
    expect(info.hostThreshold).toBe(16384);
    const small = tg.ones([3, 3], { device: 'gpu' });
    const d = tg.ones([3, 3], { device: 'gpu', dtype: 'float64' });
    const big = tg.ones([200, 100], { device: 'gpu' });
    const before = tg.gpu.stats().launches;
    expect(live()).toBe(1);
    expect(small.add(small).mul(d).sum().item()).toBe(18);
    expect(tg.gpu.stats().launches).toBe(before);
    expect(big.narrow(0, 0, 3).narrow(1, 0, 3).add(small).sum().item()).toBe(18);
    expect(tg.gpu.stats().launches).toBeGreaterThan(before);
    expect(d.device).toBe('gpu');
    expect(d.double().dtype).toBe('float64');
  });
});
