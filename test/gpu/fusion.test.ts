/**
 * Linear + activation fusion on the device: `nn.Sequential` runs `Linear` then `ReLU`, `Tanh` or
 * `Sigmoid` as one kernel (matmul, bias and activation; `AddmmActivationBackward`) on the gpu
 * device. Values and gradients (first and second order) match the float64 CPU; the forward
 * launches one kernel per fused pair; hooks and subclasses turn fusion off.
 */
import { expect, it } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { linearActivation } from '../../src/nn/functional-layers.js';
import { closeMismatch } from '../helpers/close.js';
import { checkOnDevice, toHost, values } from './check.js';
import { describeEachDevice } from './devices.js';

const tol = { atol: 1e-4, rtol: 1e-4 };

/** Linear(6,8) ReLU Linear(8,5) Tanh Linear(5,4) Sigmoid Linear(4,3), fixed weights, on `device` in `dtype`. */
function net(device: tg.Device, dtype: 'float32' | 'float64' = 'float32'): nn.Sequential {
  const seq = new nn.Sequential(
    new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 5), new nn.Tanh(), new nn.Linear(5, 4), new nn.Sigmoid(), new nn.Linear(4, 3),
  );
  tg.noGrad(() => seq.parameters().forEach((p, i) => p.copy_(tg.tensor(values(p.numel(), 40 + i, -0.8, 0.8), { shape: p.shape }))));
  return (dtype === 'float64' ? seq.double() : seq).to(device);
}

const input = (device: tg.Device, dtype: 'float32' | 'float64' = 'float32') =>
  tg.tensor(values(7 * 6, 3), { shape: [7, 6], dtype }).to(device).requiresGrad_();

async function expectClose(got: Tensor, want: Tensor, what: string, t = tol): Promise<void> {
  expect(closeMismatch((await toHost(got)).to('float64'), want.to('float64'), t), what).toBeNull();
}

/** Forward launches of `f` (compiled and uploaded once before counting). */
function launches(f: () => unknown): number {
  f();
  const before = tg.gpu.stats().launches;
  f();
  return tg.gpu.stats().launches - before;
}

describeEachDevice('linear + activation fusion', (dev) => {
  it('the fused op: values and gradients for relu, tanh and sigmoid', async () => {
    for (const act of ['relu', 'tanh', 'sigmoid'] as const) {
      await checkOnDevice(dev, [{ shape: [9, 16] }, { shape: [12, 16] }, { shape: [12] }], (x, w, b) => linearActivation(x, w, b, act), tol, { grad: true });
    }
  });

  it('nn.Sequential: outputs and every gradient match the float64 CPU', async () => {
    const model = net(dev.device);
    const x = input(dev.device);
    const out = model.call(x);
    out.square().sum().backward();
    const ref = net('cpu', 'float64');
    const xr = input('cpu', 'float64');
    const outr = ref.call(xr);
    outr.square().sum().backward();
    await expectClose(out, outr, 'output');
    await expectClose(x.grad!, xr.grad!, 'input grad');
    const [ps, rs] = [model.parameters(), ref.parameters()];
    for (const [i, p] of ps.entries()) await expectClose(p.grad!, rs[i]!.grad!, `grad of parameter ${i}`);
  });

  it('second derivatives through the fused layers (createGraph)', async () => {
    const run = (device: tg.Device, dtype: 'float32' | 'float64') => {
      const model = net(device, dtype);
      const x = input(device, dtype);
      const [gx] = tg.autograd.grad(model.call(x).sum(), x, { createGraph: true });
      gx!.square().sum().backward();
      return model.parameters().map((p) => p.grad);
    };
    const got = run(dev.device, 'float32');
    const want = run('cpu', 'float64');
    // The last layer's bias does not reach the input gradient: no gradient, as in PyTorch.
    expect(got.map((g) => g === null)).toEqual(want.map((g) => g === null));
    expect(got.filter((g) => g !== null).length).toBeGreaterThanOrEqual(5);
    for (const [i, g] of got.entries()) if (g) await expectClose(g, want[i]!, `grad-of-grad of parameter ${i}`);
  });

  if (dev.device !== 'gpu') return;

  it('one kernel per fused pair, AddmmActivationBackward in the graph', () => {
    const model = net('gpu');
    const x = tg.tensor(values(7 * 6, 3), { shape: [7, 6], device: 'gpu' });
    // 3 fused pairs + the last addmm
    expect(launches(() => tg.noGrad(() => model.call(x)))).toBe(4);
    const y = new nn.Sequential(model.at(0), model.at(1)).call(x);
    expect(y.gradFn!.name).toBe('AddmmActivationBackward');
  });

  it('a hook on either module, or a subclass, turns fusion off (and the hook sees the linear output)', async () => {
    const x = tg.tensor(values(7 * 6, 3), { shape: [7, 6], device: 'gpu' });
    const seen: Tensor[] = [];
    const model = net('gpu');
    const h = model.at(1).registerForwardHook((_m, [inp]) => void seen.push(inp));
    expect(launches(() => tg.noGrad(() => model.call(x)))).toBe(5);
    expect(seen[0]!.shape).toEqual([7, 8]);
    h.remove();
    const pre = model.at(0).registerForwardPreHook(() => undefined);
    expect(launches(() => tg.noGrad(() => model.call(x)))).toBe(5);
    pre.remove();
    expect(launches(() => tg.noGrad(() => model.call(x)))).toBe(4);
    class MyReLU extends nn.ReLU {
      override forward(t: Tensor): Tensor {
        return t.relu().mul(2);
      }
    }
    const custom = new nn.Sequential(model.at(0), new MyReLU());
    const y = custom.call(x);
    expect((y.gradFn!.next[0] as { name: string }).name).toMatch(/^ReluBackward/);
    await expectClose(custom.call(x), (await toHost(new nn.Sequential(model.at(0), new nn.ReLU()).call(x))).mul(2), 'subclass forward');
  });
}, { asyncReadback: true });
