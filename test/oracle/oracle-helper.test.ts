// The oracle must reject wrong answers: these tests feed it deliberately wrong ops.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { checkOp, checkSecondOrder, loadFamily, uncheckedCases } from '../helpers/oracle.js';

describe('checkOp rejects', () => {
  test('wrong values', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.sin())).toThrow(/output 0: \d+\/6 values differ/);
  });
  test('a float64 relative error of 1e-8 (tolerance is 1e-9)', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.exp().mul(1 + 1e-8))).toThrow(/values differ/);
  });
  test('a float32 relative error of 1e-4 (tolerance is 1e-5)', () => {
    expect(() => checkOp('elementwise', 'exp_f32', (x) => x.exp().mul(1 + 1e-4))).toThrow(/values differ/);
  });
  test('wrong gradient with right values', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.exp().detach().add(x.mul(0)))).toThrow(/grad of input 0/);
  });
  test('output that does not require grad', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.exp().detach())).toThrow(/requiresGrad false, expected true/);
  });
  test('wrong dtype', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.exp().float())).toThrow(/dtype float32, expected float64/);
  });
  test('wrong shape', () => {
    expect(() => checkOp('elementwise', 'exp', (x) => x.exp().reshape(-1))).toThrow(/shape \[6\], expected \[2,3\]/);
  });
  test('a number where NaN is expected', () => {
    expect(() => checkOp('elementwise', 'log_special', (x) => x.log().maskedFill(x.isnan(), 0))).toThrow(/values differ/);
  });
  test('wrong bool / int values', () => {
    expect(() => checkOp('compare', 'lt_same', (a, b) => a.le(b))).toThrow(/values differ/);
    expect(() => checkOp('reduce', 'argmax_dim1', (x) => x.argmin(1))).toThrow(/values differ/);
  });
  test('wrong number of outputs', () => {
    expect(() => checkOp('movement', 'split_int', (x) => x.split(3, 0))).toThrow(/outputs/);
  });
  test('an unknown case', () => {
    expect(() => checkOp('elementwise', 'no_such_case', (x) => x)).toThrow(/no fixture case/);
  });
  test('right values and gradients but a wrong second derivative', () => {
    // (x - x0)^2 with x0 = x.detach() adds 0 to the value and to the gradient, 2 to the second derivative
    const fn = (x: Tensor): Tensor => x.exp().add(x.sub(x.detach()).square());
    let message = '';
    try {
      checkSecondOrder('second_order', 'exp', fn);
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    expect(message).toMatch(/second grad of input 0: 6\/6 values differ/);
    expect(message).not.toMatch(/output 0|\n\s*grad of input/);
  });
});

describe('checkOp accepts', () => {
  test('a float64 relative error of 1e-11', () => {
    checkOp('elementwise', 'exp', (x) => x.exp().mul(1 + 1e-11));
  });
  test('the same op written differently', () => {
    checkOp('elementwise', 'square', (x) => x.mul(x));
    checkOp('elementwise', 'sigmoid', (x) => tg.div(1, x.neg().exp().add(1)));
  });
});

test('uncheckedCases lists the cases not yet checked', () => {
  const all = Object.keys(loadFamily('softmax'));
  expect(uncheckedCases('softmax')).toEqual(all);
  checkOp('softmax', 'softmax_dim0', (x) => x.softmax(0));
  expect(uncheckedCases('softmax')).toEqual(all.filter((n) => n !== 'softmax_dim0'));
});
