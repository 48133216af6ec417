// Reductions judged by PyTorch (fixtures: test/fixtures/ops/reduce.json).
import type { Tensor } from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('reduce');

op('sum_all', (x) => x.sum());
op('sum_dim0', (x) => x.sum(0));
op('sum_dim1', (x) => x.sum(1));
op('sum_dimneg1', (x) => x.sum(-1));
op('sum_dim1_keepdim', (x) => x.sum(1, true));
op('sum_dims02', (x) => x.sum([0, 2]));
op('sum_dims_neg_keepdim', (x) => x.sum([-1, -3], true));
op('sum_0d', (x) => x.sum());
op('sum_empty', (x) => x.sum());
op('sum_empty_dim0', (x) => x.sum(0));
op('sum_int32', (x) => x.sum());
op('sum_bool', (x) => x.sum());
op('sum_bool_dim', (x) => x.sum(1));
op('sum_inf_nan', (x) => x.sum(1));

op('mean_all', (x) => x.mean());
op('mean_dim1', (x) => x.mean(1));
op('mean_dimneg1_keepdim', (x) => x.mean(-1, true));
op('mean_dims01', (x) => x.mean([0, 1]));
op('mean_empty', (x) => x.mean());

op('prod_all', (x) => x.prod());
op('prod_dim1', (x) => x.prod(1));
op('prod_dim0_keepdim', (x) => x.prod(0, true));
op('prod_one_zero', (x) => x.prod());
op('prod_one_zero_dim', (x) => x.prod(1));
op('prod_two_zeros', (x) => x.prod(1));

op('max_all', (x) => x.max());
op('max_all_tie', (x) => x.max());
op('max_dim1', (x) => x.max(1));
op('max_dim1', (x) => {
  const r = x.max(1);
  return [r.values, r.indices];
}, '.values/.indices');
op('max_dim0_keepdim', (x) => x.max(0, true));
op('max_dimneg1_3d', (x) => x.max(-1));
op('max_all_nan', (x) => x.max());
op('max_dim1_nan', (x) => x.max(1));
op('min_all', (x) => x.min());
op('min_all_tie', (x) => x.min());
op('min_dim1', (x) => x.min(1));
op('min_dim0_keepdim', (x) => x.min(0, true));

op('argmax_all', (x) => x.argmax());
op('argmax_dim1', (x) => x.argmax(1));
op('argmax_dim0_keepdim', (x) => x.argmax(0, true));
op('argmax_tie', (x) => x.argmax(1));
op('argmax_nan', (x) => x.argmax(1));
op('argmin_all', (x) => x.argmin());
op('argmin_dim1', (x) => x.argmin(1));
op('argmin_dimneg1_keepdim', (x) => x.argmin(-1, true));

// var and std share the argument list (scripts/torch_fixtures.py loops over both)
const VAR: [string, (x: Tensor, dim?: number | number[], opts?: { correction?: number; keepdim?: boolean }) => Tensor][] = [
  ['var', (x, dim, opts) => x.var(dim, opts)],
  ['std', (x, dim, opts) => x.std(dim, opts)],
];
for (const [name, f] of VAR) {
  op(`${name}_all`, (x) => f(x));
  op(`${name}_all_c0`, (x) => f(x, undefined, { correction: 0 }));
  op(`${name}_dim1`, (x) => f(x, 1));
  op(`${name}_dim1_c0`, (x) => f(x, 1, { correction: 0 }));
  op(`${name}_dim0_c2`, (x) => f(x, 0, { correction: 2 }));
  op(`${name}_dims02_keepdim`, (x) => f(x, [0, 2], { correction: 1, keepdim: true }));
  op(`${name}_dimneg1_c0_keepdim`, (x) => f(x, -1, { correction: 0, keepdim: true }));
  op(`${name}_single_element`, (x) => f(x, 0)); // 0 degrees of freedom: NaN
}

op('logsumexp_dim1', (x) => x.logsumexp(1));
op('logsumexp_dim0_keepdim', (x) => x.logsumexp(0, true));
op('logsumexp_dims', (x) => x.logsumexp([0, 2]));
op('logsumexp_large', (x) => x.logsumexp(1));
op('logsumexp_neg_large', (x) => x.logsumexp(-1));
op('logsumexp_inf', (x) => x.logsumexp(1));

op('norm_all', (x) => x.norm());
op('norm_p1', (x) => x.norm(1));
op('norm_inf', (x) => x.norm(Infinity));
op('norm_p3', (x) => x.norm(3));
op('norm_fro', (x) => x.norm('fro'));
op('norm_dim1', (x) => x.norm(2, 1));
op('norm_dim0_keepdim', (x) => x.norm(2, 0, true));
op('norm_p1_dim1', (x) => x.norm(1, 1));
op('norm_inf_dimneg1', (x) => x.norm(Infinity, -1));
op('norm_p3_dims_keepdim', (x) => x.norm(3, [0, 2], true));
op('norm_zero', (x) => x.norm());
op('norm_zero_dim', (x) => x.norm(2, 1));
op('norm_p1_zero', (x) => x.norm(1));
op('norm_inf_zero', (x) => x.norm(Infinity));

op('all_all', (x) => x.all());
op('all_true', (x) => x.all());
op('all_dim1', (x) => x.all(1));
op('all_dim0_keepdim', (x) => x.all(0, true));
op('any_all', (x) => x.any());
op('any_false', (x) => x.any());
op('any_dim1', (x) => x.any(1));
op('any_dimneg1_keepdim', (x) => x.any(-1, true));
op('all_float', (x) => x.all());
op('any_float', (x) => x.any(1));

allCasesChecked();
