// Printing, compared with str(tensor) from /usr/bin/python3 (torch 1.13): the same layout,
// widths, precision, scientific switch, 80-column wrapping and summarisation. tensorgrad's own
// spellings: `requiresGrad=true`, `gradFn=<MulBackward>`, `dtype=float64`, `true`/`false`,
// `size=[2, 0]`.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';

const str = (data: Parameters<typeof tg.tensor>[0], opts: Parameters<typeof tg.tensor>[1] = {}): string => tg.tensor(data, opts).toString();

describe('PyTorch layout', () => {
  test('matrices indent under the opening bracket; requiresGrad and gradFn', () => {
    const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    expect(x.toString()).toBe('tensor([[1., 2.],\n        [3., 4.]], requiresGrad=true)');
    expect(tg.tensor([1, 2], { requiresGrad: true }).mul(2).toString()).toBe('tensor([2., 4.], gradFn=<MulBackward>)');
    expect(str([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])).toBe('tensor([[[1., 2.],\n         [3., 4.]],\n\n        [[5., 6.],\n         [7., 8.]]])');
  });

  test('dtype suffixes: float64 and int32 shown, float32 and bool not', () => {
    expect(str([1.5, 2, 3], { dtype: 'float64' })).toBe('tensor([1.5000, 2.0000, 3.0000], dtype=float64)');
    expect(str([1, -2, 300], { dtype: 'int32' })).toBe('tensor([  1,  -2, 300], dtype=int32)');
    expect(str([[1, 2], [3, 4]], { dtype: 'int32' })).toBe('tensor([[1, 2],\n        [3, 4]], dtype=int32)');
    expect(str([true, false])).toBe('tensor([ true, false])');
    expect(str([[true], [false]])).toBe('tensor([[ true],\n        [false]])');
    expect(str([[1.123456, -22.5]], { dtype: 'float64', requiresGrad: true })).toBe('tensor([[  1.1235, -22.5000]], dtype=float64, requiresGrad=true)');
  });

  test('0-d and empty tensors', () => {
    expect(str(3.25)).toBe('tensor(3.2500)');
    expect(str(7, { dtype: 'int32' })).toBe('tensor(7, dtype=int32)');
    expect(str(true)).toBe('tensor(true)');
    expect(str(2.5, { dtype: 'float64' })).toBe('tensor(2.5000, dtype=float64)');
    expect(str([])).toBe('tensor([])');
    expect(tg.zeros([0], { dtype: 'int32' }).toString()).toBe('tensor([], dtype=int32)');
    expect(tg.zeros(2, 0).toString()).toBe('tensor([], size=[2, 0])');
  });

  test('fixed notation: 4 decimals, common width, whole numbers as `1.`', () => {
    expect(str([-1.5, 0, 2.25])).toBe('tensor([-1.5000,  0.0000,  2.2500])');
    expect(str([100.5, 2.25])).toBe('tensor([100.5000,   2.2500])');
    expect(tg.zeros(3).toString()).toBe('tensor([0., 0., 0.])');
    expect(str([-0, 0])).toBe('tensor([-0., 0.])');
    expect(str([1.5, -0])).toBe('tensor([1.5000, -0.0000])');
  });

  test('scientific notation when magnitudes span > 1000x, exceed 1e8 or go below 1e-4', () => {
    expect(str([1e-5, 1, 2])).toBe('tensor([1.0000e-05, 1.0000e+00, 2.0000e+00])');
    expect(str([123456789, 1])).toBe('tensor([1.2346e+08, 1.0000e+00])');
    expect(str([1e10, 2e10])).toBe('tensor([1.0000e+10, 2.0000e+10])');
    expect(str([0.001, 1000])).toBe('tensor([1.0000e-03, 1.0000e+03])');
    expect(str([0.0001, 0.5])).toBe('tensor([1.0000e-04, 5.0000e-01])');
    expect(str([1e-10, 1e-12], { dtype: 'float64' })).toBe('tensor([1.0000e-10, 1.0000e-12], dtype=float64)');
    expect(str([123.456, -0.001])).toBe('tensor([ 1.2346e+02, -1.0000e-03])');
    // whole numbers too (PyTorch's int_mode)
    expect(str([1, 2000])).toBe('tensor([1.0000e+00, 2.0000e+03])');
    expect(str([1e8, 1])).toBe('tensor([1.0000e+08, 1.0000e+00])');
  });

  test('nan and inf are padded to the finite width', () => {
    expect(str([NaN, Infinity, 1.5])).toBe('tensor([   nan,    inf, 1.5000])');
    expect(str([NaN, 1])).toBe('tensor([nan, 1.])');
    expect(str([[1.5, Infinity], [-Infinity, 2]])).toBe('tensor([[1.5000,    inf],\n        [  -inf, 2.0000]])');
  });
});

describe('long tensors', () => {
  test('rows wrap at 80 columns', () => {
    const v = Array.from({ length: 21 }, (_, i) => (i + 1) / 10);
    expect(str(v)).toBe('tensor([0.1000, 0.2000, 0.3000, 0.4000, 0.5000, 0.6000, 0.7000, 0.8000, 0.9000,\n        1.0000, 1.1000, 1.2000, 1.3000, 1.4000, 1.5000, 1.6000, 1.7000, 1.8000,\n        1.9000, 2.0000, 2.1000])');
    expect(tg.arange(1, 31).toString()).toBe('tensor([ 1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18,\n        19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], dtype=int32)');
    const m = [Array.from({ length: 14 }, (_, i) => (i + 1) / 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14.5]];
    expect(str(m)).toBe('tensor([[ 0.1000,  0.2000,  0.3000,  0.4000,  0.5000,  0.6000,  0.7000,  0.8000,\n          0.9000,  1.0000,  1.1000,  1.2000,  1.3000,  1.4000],\n        [ 1.0000,  2.0000,  3.0000,  4.0000,  5.0000,  6.0000,  7.0000,  8.0000,\n          9.0000, 10.0000, 11.0000, 12.0000, 13.0000, 14.5000]])');
  });

  test('more than 1000 elements are summarised with three edge items', () => {
    expect(tg.arange(2000).toString()).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=int32)');
    const big = tg.arange(2000, { dtype: 'float32' }).reshape(40, 50).toString();
    expect(big).toBe(
      'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n         4.9000e+01],\n' +
      '        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n' +
      '        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n         1.4900e+02],\n' +
      '        ...,\n' +
      '        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n' +
      '        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n         1.9490e+03],\n' +
      '        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])',
    );
  });

  test('a view prints its own elements, and node:util uses the same text', async () => {
    const x = tg.arange(6, { dtype: 'float32' }).reshape(2, 3);
    expect(x.t().toString()).toBe('tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])');
    const { inspect } = await import('node:util');
    expect(inspect(x)).toBe(x.toString());
    expect(`${x.select(0, 1)}`).toBe('tensor([3., 4., 5.])');
  });
});
