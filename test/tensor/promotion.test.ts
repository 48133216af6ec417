// Type promotion as PyTorch's result_type (with int32 standing in for int64): dimensioned
// tensors decide, 0-d tensors only when of a higher category, numbers raise the category to its
// default dtype. Each row was checked with /usr/bin/python3 (torch 1.13).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';

const t = (dtype: DType, shape: number[] = [2]): Tensor =>
  tg.ones(shape, { dtype });
const zd = (dtype: DType): Tensor => t(dtype, []);

describe('binary ops promote like torch.result_type', () => {
  const table: [string, () => Tensor, DType][] = [
    ['int32 + float32', () => t('int32').add(t('float32')), 'float32'],
    ['float32 + float64', () => t('float32').add(t('float64')), 'float64'],
    ['int32 + 2.5', () => t('int32').add(2.5), 'float32'],
    ['int32 + 2', () => t('int32').add(2), 'int32'],
    ['float64 + 2.5 (numbers never widen)', () => t('float64').add(2.5), 'float64'],
    ['bool + bool', () => t('bool').add(t('bool')), 'bool'],
    ['bool + 1', () => t('bool').add(1), 'int32'],
    ['bool + 1.5', () => t('bool').add(1.5), 'float32'],
    ['int32 * true', () => t('int32').mul(true), 'int32'],
    ['0-d float64 + float32[n]', () => zd('float64').add(t('float32')), 'float32'],
    ['float32[n] + 0-d float64', () => t('float32').add(zd('float64')), 'float32'],
    ['0-d float32 + int32[n] (higher category)', () => zd('float32').add(t('int32')), 'float32'],
    ['0-d int32 + bool[n]', () => zd('int32').add(t('bool')), 'int32'],
    ['0-d float64 + 0-d float32', () => zd('float64').add(zd('float32')), 'float64'],
    ['0-d int32 * float32[n]', () => zd('int32').mul(t('float32')), 'float32'],
    ['int32 / int32 is true division', () => t('int32').div(t('int32')), 'float32'],
    ['int32 / 2', () => t('int32').div(2), 'float32'],
    ['int32 // 2 (floor) stays int', () => t('int32').div(2, { roundingMode: 'floor' }), 'int32'],
    ['int32 pow 2', () => t('int32').pow(2), 'int32'],
    ['int32 pow 0.5', () => t('int32').pow(0.5), 'float32'],
    ['maximum(int32, float32)', () => t('int32').maximum(t('float32')), 'float32'],
    ['atan2 on ints', () => t('int32').atan2(t('int32')), 'float32'],
    ['where(c, int32, 2.5)', () => tg.where(t('bool'), t('int32'), 2.5), 'float32'],
    ['where(c, int32, float64)', () => tg.where(t('bool'), t('int32'), t('float64')), 'float64'],
    ['cat([int32, float32])', () => tg.cat([t('int32'), t('float32')]), 'float32'],
    ['stack([int32, float64])', () => tg.stack([t('int32'), t('float64')]), 'float64'],
    ['int32.clamp(0, 1.5)', () => t('int32').clamp(0, 1.5), 'float32'],
    ['int32.clamp(null, 1)', () => t('int32').clamp(null, 1), 'int32'],
  ];
  for (const [name, f, dtype] of table) test(name, () => expect(f().dtype).toBe(dtype));

  test('comparisons and logical ops give bool', () => {
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      expect(t('float32')[op](t('int32')).dtype).toBe('bool');
      expect(t('int32')[op](1.5).dtype).toBe('bool');
    }
    expect(t('int32').eq(1.5).toArray()).toEqual([false, false]); // compared as floats
    expect(t('float32').logicalAnd(t('int32')).dtype).toBe('bool');
    expect(t('bool').logicalNot().dtype).toBe('bool');
    expect(t('float32').isnan().dtype).toBe('bool');
  });

  test('values follow the promoted dtype', () => {
    expect(tg.tensor([1, 2], { dtype: 'int32' }).div(tg.tensor([2, 4], { dtype: 'int32' })).toArray()).toEqual([0.5, 0.5]);
    expect(tg.tensor([-7, 7], { dtype: 'int32' }).div(2, { roundingMode: 'trunc' }).toArray()).toEqual([-3, 3]);
    expect(tg.tensor([-7, 7], { dtype: 'int32' }).div(2, { roundingMode: 'floor' }).toArray()).toEqual([-4, 3]);
    expect(tg.tensor([1, 2], { dtype: 'int32' }).clamp(0, 1.5).toArray()).toEqual([1, 1.5]);
    expect(tg.tensor([0.1], { dtype: 'float64' }).add(tg.tensor(0.2)).item()).toBe(0.1 + Math.fround(0.2));
  });

  test('promotion is symmetric (property)', () => {
    const dtypes: DType[] = ['bool', 'int32', 'float32', 'float64'];
    const operand = fc.tuple(fc.constantFrom(...dtypes), fc.boolean());
    fc.assert(fc.property(operand, operand, ([da, za], [db, zb]) => {
      const a = za ? zd(da) : t(da);
      const b = zb ? zd(db) : t(db);
      const ab = a.mul(b).dtype;
      expect(b.mul(a).dtype).toBe(ab);
      expect(tg.resultType(a, b)).toBe(ab);
      expect(a.eq(b).dtype).toBe('bool');
    }), { numRuns: 40, seed: 11 });
  });
});

describe('unary ops and reductions', () => {
  test('float-only ops turn ints into float32; sign-preserving ones keep ints', () => {
    for (const op of ['exp', 'log', 'sqrt', 'sin', 'tanh', 'sigmoid', 'reciprocal'] as const) expect(t('int32')[op]().dtype).toBe('float32');
    for (const op of ['neg', 'abs', 'sign', 'relu', 'square', 'floor', 'round'] as const) expect(t('int32')[op]().dtype).toBe('int32');
    expect(t('float64').exp().dtype).toBe('float64');
  });

  test('sum of ints and bools is an integer; mean of ints is an error (PyTorch)', () => {
    expect(t('int32').sum().dtype).toBe('int32');
    expect(tg.tensor([true, false, true]).sum().item()).toBe(2);
    expect(t('float32').sum(0, false, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => t('int32').mean()).toThrow('mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Int');
    expect(() => t('int32').var()).toThrow('std and var only support floating point and complex dtypes');
    expect(t('int32').prod().dtype).toBe('int32');
    expect(t('int32').amax().dtype).toBe('int32');
  });

  test('bool arithmetic errors (PyTorch wording)', () => {
    expect(() => t('bool').neg()).toThrow('Negation, the `-` operator, on a bool tensor is not supported.');
    expect(() => t('bool').sub(t('bool'))).toThrow('Subtraction, the `-` operator, with a bool tensor is not supported.');
    expect(() => t('int32').pow(-1)).toThrow('Integers to negative integer powers are not allowed.');
  });

  test('to() converts between dtypes (ints truncate, bools test != 0)', () => {
    const x = tg.tensor([-1.7, 0, 2.5]);
    expect(x.to('int32').toArray()).toEqual([-1, 0, 2]);
    expect(x.to('bool').toArray()).toEqual([true, false, true]);
    expect(x.double().dtype).toBe('float64');
    expect(x.to('float32')).toBe(x); // same dtype: itself
    expect(tg.tensor([true, false]).float().toArray()).toEqual([1, 0]);
  });
});
