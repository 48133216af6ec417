// Comparisons, where, masked_fill, logical ops, isnan/isfinite judged by PyTorch
// (fixtures: test/fixtures/ops/compare.json).
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('compare');

const CMP: [string, (a: Tensor, b: Tensor | number) => Tensor][] = [
  ['eq', (a, b) => a.eq(b)],
  ['ne', (a, b) => a.ne(b)],
  ['lt', (a, b) => a.lt(b)],
  ['le', (a, b) => a.le(b)],
  ['gt', (a, b) => a.gt(b)],
  ['ge', (a, b) => a.ge(b)],
];
for (const [name, f] of CMP) {
  op(`${name}_same`, (a, b) => f(a, b));
  op(`${name}_bcast`, (a, b) => f(a, b));
  op(`${name}_scalar`, (a) => f(a, 0));
}
op('eq_int32_f64', (a, b) => a.eq(b));
op('lt_nan', (a, b) => a.lt(b));
op('eq_nan', (a, b) => a.eq(b));

op('where_same', (m, a, b) => tg.where(m, a, b));
op('where_bcast', (m, a, b) => tg.where(m, a, b));
op('where_scalar_b', (m, a) => tg.where(m, a, 0));
op('where_scalar_a', (m, b) => tg.where(m, 1.5, b));
op('where_from_gt', (x) => tg.where(x.gt(0), x, x.mul(0.1)));
op('where_sqrt_nan_gotcha', (x) => tg.where(x.gt(0), x.sqrt(), x.mul(0))); // NaN grad, as in PyTorch

op('masked_fill', (x, m) => x.maskedFill(m, 0.5));
op('masked_fill_bcast', (x, m) => x.maskedFill(m, 0.5));
op('masked_fill_neginf', (x, m) => x.maskedFill(m, -Infinity));

op('logical_and', (a, b) => a.logicalAnd(b));
op('logical_and_bcast', (a, b) => a.logicalAnd(b));
op('logical_or', (a, b) => a.logicalOr(b));
op('logical_or_bcast', (a, b) => a.logicalOr(b));
op('logical_not', (a) => a.logicalNot());
op('isnan', (x) => x.isnan());
op('isfinite', (x) => x.isfinite());

allCasesChecked();
