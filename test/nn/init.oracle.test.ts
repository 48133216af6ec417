// nn.init and the default layer initialisation judged by PyTorch (fixtures:
// test/fixtures/nn/init.json): after the same manualSeed, tensorgrad must draw PyTorch's numbers.
// Uniform-based inits (kaiming/xavier uniform, nn.Linear, nn.Conv2d) must match bit for bit in
// float32 and float64. Normal-based ones match to rounding: PyTorch's float32 normal_ runs
// Box-Muller in float (AVX2), we run it in double and round once, hence the float32 tolerance.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type { FanMode, Nonlinearity } from '../../src/nn/init.js';
import { fromFixture, type FixtureTensor } from '../helpers/oracle.js';
import { loadNn, type InitCase, type Options } from './nn-fixtures.js';

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

const CALLS: Record<string, (t: Tensor, o: Options) => Tensor> = {
  uniform_: (t, o) => nn.init.uniform_(t, num(o.a, 0), num(o.b, 1)),
  normal_: (t, o) => nn.init.normal_(t, num(o.mean, 0), num(o.std, 1)),
  constant_: (t, o) => nn.init.constant_(t, num(o.value, 0)),
  zeros_: (t) => nn.init.zeros_(t),
  ones_: (t) => nn.init.ones_(t),
  eye_: (t) => nn.init.eye_(t),
  xavier_uniform_: (t, o) => nn.init.xavierUniform_(t, num(o.gain, 1)),
  xavier_normal_: (t, o) => nn.init.xavierNormal_(t, num(o.gain, 1)),
  kaiming_uniform_: (t, o) => nn.init.kaimingUniform_(t, kaimingOpts(o)),
  kaiming_normal_: (t, o) => nn.init.kaimingNormal_(t, kaimingOpts(o)),
  orthogonal_: (t, o) => nn.init.orthogonal_(t, num(o.gain, 1)),
  trunc_normal_: (t, o) => nn.init.truncNormal_(t, num(o.mean, 0), num(o.std, 1), num(o.a, -2), num(o.b, 2)),
};

function kaimingOpts(o: Options): nn.init.KaimingOptions {
  return {
    a: num(o.a, 0),
    ...(typeof o.mode === 'string' && { mode: o.mode as FanMode }),
    ...(typeof o.nonlinearity === 'string' && { nonlinearity: o.nonlinearity as Nonlinearity }),
  };
}

const MODULES: Record<string, (args: unknown[], o: Options) => nn.AnyModule> = {
  Linear: ([i, o], op) => new nn.Linear(Number(i), Number(o), op),
  Conv2d: ([i, o, k], op) => new nn.Conv2d(Number(i), Number(o), k as number, op),
  Embedding: ([n, d], op) => new nn.Embedding(Number(n), Number(d), op),
  BatchNorm2d: ([n]) => new nn.BatchNorm2d(Number(n)),
  LayerNorm: ([s]) => new nn.LayerNorm(s as number[]),
  MLP: () => new nn.Sequential(new nn.Linear(4, 5), new nn.Tanh(), new nn.Linear(5, 2), new nn.GELU()),
};

/** Tolerances: exact for uniform-based draws; rounding-level for normal-based ones. */
function tolerance(name: string, dtype: string): [number, number] {
  const normalBased = /normal|orthogonal|embedding|mlp/.test(name) && !/uniform/.test(name);
  if (!normalBased) return [0, 0];
  if (name.startsWith('orthogonal') && dtype === 'float32') return [1e-6, 1e-5]; // float32 LAPACK QR in PyTorch
  return dtype === 'float32' ? [2e-6, 1e-6] : [1e-14, 1e-12];
}

function expectMatch(name: string, got: Tensor, want: FixtureTensor): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const exp = fromFixture(want).dataSync();
  const act = got.dataSync();
  const [atol, rtol] = tolerance(name, want.dtype);
  act.forEach((a, i) => {
    const e = exp[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`${name}: element ${i} is ${a}, PyTorch ${e} (atol ${atol}, rtol ${rtol})`);
  });
}

describe('nn.init against torch.nn.init', () => {
  for (const [name, c] of Object.entries(loadNn<InitCase>('init'))) {
    test(name, () => {
      tg.manualSeed(c.seed);
      if (c.call) {
        const t = tg.zeros(c.shape!, { dtype: c.dtype! });
        const impl = CALLS[c.call];
        if (!impl) throw new Error(`no init function ${c.call}`);
        expect(impl(t, c.options)).toBe(t);
        expectMatch(name, t, c.expected as FixtureTensor);
      } else {
        const m = MODULES[c.module!]!(c.args ?? [], c.options);
        const sd = m.stateDict();
        const want = c.expected as Record<string, FixtureTensor>;
        expect(Object.keys(sd)).toEqual(Object.keys(want));
        for (const [k, t] of Object.entries(want)) expectMatch(`${name} ${k}`, sd[k]!, t);
      }
    });
  }

  test('a { generator } option draws from that generator and leaves the global one alone', () => {
    for (const init of [
      (t: Tensor, o: { generator?: tg.Generator }) => nn.init.kaimingUniform_(t, { a: 1, ...o }),
      (t: Tensor, o: { generator?: tg.Generator }) => nn.init.xavierNormal_(t, 1, o),
      (t: Tensor, o: { generator?: tg.Generator }) => nn.init.orthogonal_(t, 1, o),
      (t: Tensor, o: { generator?: tg.Generator }) => nn.init.truncNormal_(t, 0, 1, -2, 2, o),
    ]) {
      tg.manualSeed(11);
      const global = init(tg.zeros([3, 4]), {}).toArray();
      tg.manualSeed(99);
      const before = tg.rand([2]).toArray();
      tg.manualSeed(99);
      const viaGen = init(tg.zeros([3, 4]), { generator: new tg.Generator(11) }).toArray();
      expect(viaGen).toEqual(global);
      expect(tg.rand([2]).toArray()).toEqual(before);
    }
  });

  test('calculateGain and fans match torch.nn.init (values printed by PyTorch 1.13)', () => {
    const gains = (['linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'] as const).map((n) => nn.init.calculateGain(n));
    expect(gains).toEqual([1, 1, 1, 1.6666666666666667, 1.4142135623730951, 1.4141428569978354, 0.75]);
    expect(nn.init.calculateGain('leaky_relu', 0.2)).toBe(1.3867504905630728);
    expect(nn.init.calculateGain('leaky_relu', Math.sqrt(5))).toBe(0.5773502691896257);
    expect(() => nn.init.calculateGain('foo' as Nonlinearity)).toThrow('Unsupported nonlinearity foo');
    expect(nn.init.calculateFanInAndFanOut(tg.zeros([8, 3, 5, 5]))).toEqual([75, 200]);
    expect(() => nn.init.kaimingUniform_(tg.zeros([3]))).toThrow('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
    expect(() => nn.init.kaimingUniform_(tg.zeros([3, 3]), { mode: 'foo' as FanMode })).toThrow("Mode foo not supported, please use one of ['fan_in', 'fan_out']");
    expect(() => nn.init.eye_(tg.zeros([3]))).toThrow('Only tensors with 2 dimensions are supported');
    expect(() => nn.init.orthogonal_(tg.zeros([3]))).toThrow('Only tensors with 2 or more dimensions are supported');
  });

  test('initialisers run under noGrad: parameters that require grad can be initialised', () => {
    const p = new nn.Parameter(tg.zeros([2, 3]));
    expect(() => nn.init.xavierUniform_(p)).not.toThrow();
    expect(p.isLeaf).toBe(true);
    expect(p.gradFn).toBeNull();
  });

  test('tg.manualSeed(0); new nn.Linear(4, 3) reproduces torch.manual_seed(0); nn.Linear(4, 3) bit for bit', () => {
    tg.manualSeed(0);
    const fc = new nn.Linear(4, 3);
    const want = loadNn<InitCase>('init')['linear_4_3']!.expected as Record<string, FixtureTensor>;
    expect(Array.from(fc.weight.dataSync())).toEqual(Array.from(fromFixture(want['weight']!).dataSync()));
    expect(Array.from(fc.bias!.dataSync())).toEqual(Array.from(fromFixture(want['bias']!).dataSync()));
  });
});
