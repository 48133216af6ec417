/**
 * The Node GPU paths themselves (notes §2-§3): what `tg.gpu.init()` reports for WebGPU through
 * Dawn and for headless-gl, and the refusal to start the second of the two GL stacks that cannot
 * share a process. Runs where the paths run (scripts/gpu-node/run.sh), skipped elsewhere.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import { describeGpu, GPU_DEVICES } from './devices.js';

const SOFTWARE = /llvmpipe|swrast|lavapipe|swiftshader/i;

for (const dev of GPU_DEVICES.filter((d) => d.name === 'gpu:webgpu' || d.name === 'gpu:headlessgl')) {
  describeGpu('Node GPU path', dev, () => {
    it('reports its backend, renderer and readback; software renderers need allowSoftware', async () => {
      const info = tg.gpu.info();
      expect(info).toMatchObject({ backend: dev.init!.backend, kernelClass: dev.kernelClass, syncReadback: dev.syncReadback });
      // NOTE: the CI machines have no GPU; on a real one these two lines do not hold.
      expect(info.renderer).toMatch(SOFTWARE);
      expect(info.software).toBe(true);
      const { allowSoftware: _yes, ...strict } = dev.init!;
      await expect(tg.gpu.init(strict)).rejects.toThrow(/software renderer .*pass allowSoftware: true/);
      await tg.gpu.init(dev.init);
      expect(Array.from(await tg.ones([2, 3], { device: 'gpu' }).sum(0).data())).toEqual([2, 2, 2]);
    });

    it('kernel cache: eviction skips kernels with live outputs (destroying a GL kernel deletes its textures)', async () => {
      await tg.gpu.init({ ...dev.init, kernelCacheSize: 4 });
      const x = tg.arange(6, { device: 'gpu', dtype: 'float32' });
      const outs = [x.exp(), x.sin(), x.cos(), x.sqrt(), x.square(), x.neg(), x.abs()];
      expect(tg.gpu.memory().kernels).toBeGreaterThan(4);
      const want = [Math.exp, Math.sin, Math.cos, Math.sqrt, (v: number) => v * v, (v: number) => -v, Math.abs];
      for (const [i, o] of outs.entries()) {
        Array.from(await o.data()).forEach((v, j) => expect(v).toBeCloseTo(want[i]!(j), 5));
        o.dispose();
      }
      x.dispose();
      await tg.gpu.synchronize();
      expect(tg.gpu.emptyCache()).toBeGreaterThan(0);
      expect(tg.gpu.memory()).toEqual({ buffers: 0, bytes: 0, kernels: 0 });
      await tg.gpu.init(dev.init);
    });

    it('refuses the other GL stack in this process with a reason instead of crashing', async () => {
      const other = dev.name === 'gpu:webgpu' ? { backend: 'headlessgl' as const } : { backend: 'webgpu' as const, dawnBackend: 'opengles' };
      const before = tg.gpu.info();
      tg.gpu.shutdown();
      const reason = dev.name === 'gpu:webgpu' ? /needs an X display|cannot run in one process/ : /cannot run in one process/;
      await expect(tg.gpu.init({ ...other, allowSoftware: true })).rejects.toThrow(reason);
      await tg.gpu.init(dev.init);
      expect(tg.gpu.info().backend).toBe(before.backend);
      expect(Array.from(await tg.arange(4, { device: 'gpu', dtype: 'float32' }).mul(2).data())).toEqual([0, 2, 4, 6]);
    });
  });
}
