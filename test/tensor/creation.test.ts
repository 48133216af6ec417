// Tensor creation against PyTorch 1.13: from data (nested arrays, TypedArray + shape, numbers),
// dtype inference, filled tensors, ranges, identity, *Like, and the seeded generators. Random
// literals were recorded with /usr/bin/python3 (torch 1.13.1, CPU) as noted next to each.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { seedArb, shapeArb } from '../helpers/arbitraries.js';
import { expectClose } from '../helpers/close.js';

const values = (t: tg.Tensor): number[] => Array.from(t.dataSync());
/** float32 literals from PyTorch compare exactly once rounded to float32. */
const F32 = { atol: 0, rtol: 2 ** -23 };
/**
 * randn of 16+ float32 elements: PyTorch's AVX2 Box-Muller (normal_fill_16_AVX2) uses
 * avx_mathfun's float log/sincos approximations, a few float32 ulps from a double-precision
 * transform (at most ~2e-7 absolute in these streams).
 */
const F32_SIMD = { atol: 5e-7, rtol: 5e-7 };

describe('tensor() from data', () => {
  test('nested arrays, numbers and booleans: shape and dtype inference', () => {
    const m = tg.tensor([[1, 2], [3, 4]]);
    expect([m.shape, m.dtype, m.toArray()]).toEqual([[2, 2], 'float32', [[1, 2], [3, 4]]]);
    expect([tg.tensor(3).shape, tg.tensor(3).dtype, tg.tensor(3).item()]).toEqual([[], 'float32', 3]);
    expect([tg.tensor(true).dtype, tg.tensor([true, false]).toArray()]).toEqual(['bool', [true, false]]);
    expect(tg.tensor([true, 2]).dtype).toBe('float32'); // numbers win, as PyTorch's promotion
    expect(tg.tensor([[[1]], [[2]]]).shape).toEqual([2, 1, 1]);
    expect(tg.tensor([]).shape).toEqual([0]);
    expect(tg.tensor([[], []]).shape).toEqual([2, 0]);
  });

  test('an explicit dtype converts (ints truncate toward zero, as PyTorch)', () => {
    expect(tg.tensor([1.7, -1.7, 2.5], { dtype: 'int32' }).toArray()).toEqual([1, -1, 2]);
    expect(tg.tensor([0, 2, -1], { dtype: 'bool' }).toArray()).toEqual([false, true, true]);
    expect(tg.tensor([0.1], { dtype: 'float64' }).item()).toBe(0.1);
    expect(tg.tensor([0.1]).item()).toBe(Math.fround(0.1));
  });

  test('TypedArray + shape: dtype from the array, data copied', () => {
    const src = new Int32Array([1, 2, 3, 4]);
    const t = tg.tensor(src, { shape: [2, 2] });
    expect([t.dtype, t.toArray()]).toEqual(['int32', [[1, 2], [3, 4]]]);
    src[0] = 99;
    expect(t.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tg.tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tg.tensor(new Float32Array([1, 2])).dtype).toBe('float32');
    expect(tg.tensor(new Uint8Array([1, 0])).toArray()).toEqual([1, 0]); // int32: values kept (image bytes)
    expect(tg.tensor(new Uint8Array([2, 0]), { dtype: 'bool' }).dataSync()).toEqual(new Uint8Array([1, 0]));
    expect(tg.tensor(new Float64Array([1.5, 2]), { dtype: 'float32' }).dtype).toBe('float32');
    expect(tg.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  test('ragged and malformed data: PyTorch-style errors', () => {
    expect(() => tg.tensor([[1, 2], [3]])).toThrow('expected sequence of length 2 at dim 1 (got 1)');
    expect(() => tg.tensor([[1, 2], 3] as never)).toThrow('expected sequence of length 2 at dim 1 (got a number)');
    expect(() => tg.tensor([1, [2]] as never)).toThrow(/expected a number at dim 1/);
    expect(() => tg.tensor(['a'] as never)).toThrow(/could not convert string/);
    expect(() => tg.tensor([1, 2, 3], { shape: [2, 2] })).toThrow("shape '[2, 2]' is invalid for input of size 3");
    expect(() => tg.tensor(new Float32Array(3), { shape: [2, 2] })).toThrow("shape '[2, 2]' is invalid for input of size 3");
    expect(() => tg.tensor([1], { dtype: 'int64' as never })).toThrow("dtype 'int64' is not supported; tensorgrad stores integers as int32");
  });

  test('requiresGrad and options', () => {
    const t = tg.tensor([1, 2], { requiresGrad: true, dtype: 'float64' });
    expect([t.requiresGrad, t.isLeaf, t.dtype, t.device]).toEqual([true, true, 'float64', 'cpu']);
  });
});

describe('filled tensors, ranges and identity', () => {
  test('zeros / ones / full / empty and their shapes and dtypes', () => {
    expect(tg.zeros(2, 3).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(tg.zeros([2, 3], { dtype: 'float64' }).dtype).toBe('float64');
    expect(tg.ones([2], { dtype: 'int32' }).toArray()).toEqual([1, 1]);
    expect(tg.ones([]).shape).toEqual([]);
    expect(tg.full([2], 7).toArray()).toEqual([7, 7]);
    expect(tg.full([2], 7).dtype).toBe('float32');
    expect(tg.full([1], true).dtype).toBe('bool');
    expect(tg.empty(2, 2).shape).toEqual([2, 2]);
    expect(() => tg.zeros([-1])).toThrow(/negative dimension -1/);
  });

  test('*Like copy shape, dtype and device, and accept overrides', () => {
    const d = tg.tensor([[1, 2]], { dtype: 'float64' });
    expect([tg.zerosLike(d).shape, tg.zerosLike(d).dtype]).toEqual([[1, 2], 'float64']);
    expect(tg.onesLike(d, { dtype: 'int32' }).toArray()).toEqual([[1, 1]]);
    expect(tg.fullLike(d, 3).toArray()).toEqual([[3, 3]]);
    expect(tg.emptyLike(d).shape).toEqual([1, 2]);
    expect([tg.randLike(d).dtype, tg.randnLike(d).shape]).toEqual(['float64', [1, 2]]);
    const r = tg.randintLike(tg.zeros([50], { dtype: 'int32' }), 0, 3);
    expect(values(r).every((v) => v >= 0 && v < 3 && Number.isInteger(v))).toBe(true);
  });

  test('arange: PyTorch values for integer and float steps', () => {
    expect([tg.arange(5).toArray(), tg.arange(5).dtype]).toEqual([[0, 1, 2, 3, 4], 'int32']);
    expect(tg.arange(-3, 3, 2).toArray()).toEqual([-3, -1, 1]);
    expect(tg.arange(10, 0, -3).toArray()).toEqual([10, 7, 4, 1]);
    expect(values(tg.arange(0.5, 2, 0.25))).toEqual([0.5, 0.75, 1, 1.25, 1.5, 1.75]);
    expect(values(tg.arange(5, 0, -1.5))).toEqual([5, 3.5, 2, 0.5]);
    // torch.arange(0, 1, 0.1).tolist() (float32)
    expectClose(tg.arange(0, 1, 0.1), [0.0, 0.10000000149011612, 0.20000000298023224, 0.30000001192092896, 0.4000000059604645, 0.5, 0.6000000238418579, 0.699999988079071, 0.800000011920929, 0.8999999761581421], F32);
    expect(tg.arange(0, 0.9, 0.3).numel()).toBe(3);
    expect(tg.arange(-1, 1, 0.3).numel()).toBe(7);
    expect(tg.arange(3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => tg.arange(0, 5, 0)).toThrow('step must be nonzero');
    expect(() => tg.arange(0, 5, -1)).toThrow('upper bound and larger bound inconsistent with step sign');
  });

  test('linspace: PyTorch values (float32 rounding per step, one step gives start)', () => {
    // torch.linspace(0, 10, 7, dtype=torch.float64).tolist()
    expectClose(tg.linspace(0, 10, 7, { dtype: 'float64' }), [0.0, 1.6666666666666667, 3.3333333333333335, 5.0, 6.666666666666666, 8.333333333333334, 10.0], { atol: 0, rtol: 1e-15 });
    // torch.linspace(0.1, 0.7, 4).tolist(): float32 arithmetic gives 0.29999998, not 0.3
    expect(values(tg.linspace(0.1, 0.7, 4))).toEqual([0.10000000149011612, 0.29999998211860657, 0.5, 0.699999988079071]);
    expect(values(tg.linspace(-1, 1, 5))).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(values(tg.linspace(0, 1, 1))).toEqual([0]); // torch.linspace(0, 1, 1) == [0.]
    expect(values(tg.linspace(2, 3, 2))).toEqual([2, 3]);
    expect(tg.linspace(0, 1, 0).shape).toEqual([0]);
    // NOTE: PyTorch's AVX2 kernel fills 8 (float32) / 4 (float64) lanes from one base, so a few
    // values can differ from the scalar formula by one ulp: compare to that.
    // torch.linspace(1e-3, 5.5, 13).tolist()
    expectClose(tg.linspace(1e-3, 5.5, 13), [0.0010000000474974513, 0.45925000309944153, 0.9175000190734863, 1.3757500648498535, 1.8340001106262207, 2.292250156402588, 2.750499963760376, 3.208750009536743, 3.6669998168945312, 4.125249862670898, 4.583499908447266, 5.041749954223633, 5.5], { atol: 0, rtol: 2 ** -22 });
  });

  test('eye', () => {
    expect(tg.eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(tg.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(tg.eye(2, { dtype: 'int32' }).dtype).toBe('int32');
  });
});

describe('random numbers (mt19937, PyTorch CPU streams)', () => {
  test('manualSeed(0); rand(5) equals PyTorch', () => {
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.rand(5).tolist()
    expectClose(tg.rand(5), [0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688, 0.30742281675338745], F32);
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.rand(2, 3).tolist()
    expectClose(tg.rand(2, 3), [[0.49625658988952637, 0.7682217955589294, 0.08847743272781372], [0.13203048706054688, 0.30742281675338745, 0.6340786814689636]], F32);
  });

  test('randn: the small (< 16) and vectorised (>= 16) paths equal PyTorch', () => {
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.randn(5).tolist()
    expectClose(tg.randn(5), [1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991, -1.0845223665237427], F32);
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.randn(20).tolist()
    expectClose(tg.randn(20), [-1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383, 0.5988394618034363, -1.5550950765609741, -0.3413603901863098, 1.85300612449646, 0.46809640526771545, -0.1577124446630478, 1.4436601400375366, 0.26604941487312317, 1.3893661499023438, 1.586334228515625, 0.946298360824585, -0.843676745891571, 0.9318265914916992, 1.2590092420578003, 2.0049805641174316, 0.05373690277338028], F32_SIMD);
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.randn(17).tolist(): the tail is re-drawn as the last 16
    expectClose(tg.randn(17), [-1.1258398294448853, -1.6959311962127686, 0.5666506290435791, 0.7935083508491516, 0.5988394618034363, -1.5550950765609741, -0.3413603901863098, 1.85300612449646, 0.46809640526771545, -0.5854975581169128, -0.1733967512845993, 0.18347793817520142, 1.3893661499023438, 1.586334228515625, 0.946298360824585, -0.843676745891571, 0.9318265914916992], F32_SIMD);
  });

  test('float64 streams and the cached second normal equal PyTorch', () => {
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.rand(3, dtype=torch.float64).tolist()
    expect(values(tg.rand(3, { dtype: 'float64' }))).toEqual([0.9700530018065531, 0.707819864399788, 0.45938294312745087]);
    tg.manualSeed(0);
    // torch.manual_seed(0); torch.randn(3, dtype=torch.float64).tolist()
    expectClose(tg.randn(3, { dtype: 'float64' }), [1.5409961082440433, -0.2934289057609464, -2.1787893820745574], { atol: 0, rtol: 1e-15 });
    tg.manualSeed(123);
    // torch.manual_seed(123); randn(3) then randn(3) continue one stream (== randn(6))
    const a = values(tg.randn(3));
    const b = values(tg.randn(3));
    expectClose([...a, ...b], [-0.11146711558103561, 0.12036294490098953, -0.3696345090866089, -0.2404179722070694, -1.1969243288040161, 0.20926935970783234], F32);
  });

  test('randint, randperm, uniform_, normal_ equal PyTorch', () => {
    tg.manualSeed(0);
    expect(tg.randint(0, 10, [6]).toArray()).toEqual([4, 9, 3, 0, 3, 9]); // torch.randint(0, 10, (6,))
    tg.manualSeed(0);
    expect(tg.randperm(6).toArray()).toEqual([2, 5, 3, 0, 1, 4]); // torch.randperm(6)
    tg.manualSeed(0);
    // torch.empty(4).uniform_(-1, 1); then torch.empty(3).normal_(2, 0.5)
    expectClose(tg.empty(4).uniform_(-1, 1), [-0.007486820220947266, 0.5364435911178589, -0.8230451345443726, -0.7359390258789062], F32);
    expectClose(tg.empty(3).normal_(2, 0.5), [0.9106053113937378, 2.2842156887054443, 1.4577388763427734], F32);
    expect(() => tg.randint(5, 5, [2])).toThrow("random_ expects 'from' to be less than 'to', but got from=5 >= to=5");
    expect(() => tg.rand([2], { dtype: 'int32' })).toThrow(/"rand" not implemented for 'int32'/);
  });

  test('Generator objects: own streams, PyTorch values', () => {
    const g = new tg.Generator(42);
    // torch.rand(3, generator=torch.Generator().manual_seed(42)).tolist()
    expectClose(tg.rand(3, { generator: g }), [0.8822692632675171, 0.9150039553642273, 0.38286375999450684], F32);
    const g7 = new tg.Generator().manualSeed(7);
    // g = torch.Generator().manual_seed(7); torch.randn(4, generator=g); torch.randint(-3, 3, (5,), generator=g)
    expectClose(tg.randn(4, { generator: g7 }), [-0.1467950940132141, 0.7861412763595581, 0.9468216300010681, -1.1143440008163452], F32);
    expect(tg.randint(-3, 3, [5], { generator: g7 }).toArray()).toEqual([1, 2, 1, -2, -1]);
    expect(g7.initialSeed()).toBe(7);
  });

  test('same seed, same numbers; a generator does not disturb the default stream', () => {
    fc.assert(fc.property(seedArb, shapeArb(), (seed, shape) => {
      tg.manualSeed(seed);
      const a = [values(tg.rand(shape)), values(tg.randn(shape)), values(tg.randint(-5, 5, shape))];
      tg.manualSeed(seed);
      tg.rand([3], { generator: new tg.Generator(seed + 1) });
      const b = [values(tg.rand(shape)), values(tg.randn(shape)), values(tg.randint(-5, 5, shape))];
      expect(b).toEqual(a);
      expect(a[0]!.every((v) => v >= 0 && v < 1)).toBe(true);
    }), { numRuns: 20, seed: 7 });
  });

  test('getState / setState replays a stream', () => {
    const g = new tg.Generator(3);
    tg.randn(5, { generator: g }); // leaves a cached normal behind
    const state = g.getState();
    const first = values(tg.randn(7, { generator: g }));
    g.setState(state);
    expect(values(tg.randn(7, { generator: g }))).toEqual(first);
  });
});
