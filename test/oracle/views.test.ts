// Composite checks through views, shared leaves and diamonds (fixtures: test/fixtures/ops/views.json).
import * as tg from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('views');

op('t_exp', (x) => x.t().exp());
op('permute_sum', (x) => x.permute(2, 0, 1).sum(1));
op('expand_mul', (x, y) => x.expand(3, 2, 4).mul(y));
op('transposed_add', (a, b) => a.t().add(b));
op('slice_step_mul', (x, y) => x.slice(1, undefined, undefined, 2).mul(y)); // x[:, ::2] * y
op('permute_reshape', (x) => x.permute(1, 0, 2).reshape(3, 8).sin());
op('t_matmul_self', (x) => x.t().matmul(x));
op('unsqueeze_expand_sum', (x) => x.unsqueeze(0).expand(4, 2, 3).sum(0));
op('narrow_of_transposed', (x) => x.t().narrow(0, 1, 2).exp());
op('select_add', (x) => x.select(1, 0).add(x.select(1, 2)));
op('chain_view_permute_narrow', (x) => x.view(2, 3, 4).permute(2, 1, 0).narrow(0, 1, 2).tanh());
op('leaf_reused_t_add', (x) => x.t().add(x));
op('leaf_reused_mul', (x) => x.mul(x));
op('diamond', (x) => x.exp().mul(x.exp().sin()));
op('split_cat_swap', (x) => tg.cat([...x.split([1, 2], 1)].reverse(), 1));
op('stack_of_views', (x) => tg.stack([x.t(), x.t().mul(2)], 0));
op('sum_of_chunks', (x) => {
  const [a, b, c] = x.chunk(3, 0);
  if (!a || !b || !c) throw new Error('chunk(3) returned fewer than 3 chunks');
  return a.add(b).add(c);
});
op('broadcast_chain', (a, b, s) => a.add(b).mul(s).sub(a.div(b.mul(b).add(1)))); // (a+b)*s - a/(b*b+1)
op('expand_then_contiguous', (x) => x.expand(2, 3).contiguous().mul(x));
op('softmax_transposed', (x) => x.t().softmax(-1));
op('mean_of_slice', (x) => x.slice(0, 1).slice(1, undefined, undefined, 2).mean()); // x[1:, ::2].mean()
op('gather_of_permuted', (x, i) => x.permute(1, 0).gather(1, i));
op('flatten_after_slice', (x) => x.slice(1, 1, 3).flatten()); // x[:, 1:3].flatten()
op('mlp', (x, w, b) => x.matmul(w).add(b).relu().sum(-1));

allCasesChecked();
