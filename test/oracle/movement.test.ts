// View / movement / joining ops judged by PyTorch (fixtures: test/fixtures/ops/movement.json).
// The inputs are contiguous leaves; each op applies the same view PyTorch applied.
import * as tg from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('movement');

op('reshape_23_32', (x) => x.reshape(3, 2));
op('reshape_23_32', (x) => x.reshape([3, 2]), 'array form');
op('reshape_infer', (x) => x.reshape(-1, 4));
op('reshape_to_0d', (x) => x.reshape([]));
op('reshape_from_0d', (x) => x.reshape(1, 1, 1));
op('view_234_64', (x) => x.view(6, 4));
op('view_234_64', (x) => x.view([6, 4]), 'array form');
op('view_infer', (x) => x.view(2, -1));
op('permute_201', (x) => x.permute(2, 0, 1));
op('permute_201', (x) => x.permute([2, 0, 1]), 'array form');
op('permute_neg', (x) => x.permute(-1, -3, -2));
op('transpose_02', (x) => x.transpose(0, 2));
op('transpose_neg', (x) => x.transpose(-1, -2));
op('t', (x) => x.t());
op('t_1d', (x) => x.t());
op('expand_31_34', (x) => x.expand(3, 4));
op('expand_31_34', (x) => x.expand([3, 4]), 'array form');
op('expand_new_dims', (x) => x.expand(2, 3, 4));
op('expand_keep_neg1', (x) => x.expand(-1, 4));
op('expand_0d', (x) => x.expand(2, 3));
op('squeeze_all', (x) => x.squeeze());
op('squeeze_dim1', (x) => x.squeeze(1));
op('squeeze_dim_noop', (x) => x.squeeze(0));
op('squeeze_neg', (x) => x.squeeze(-1));
op('unsqueeze_0', (x) => x.unsqueeze(0));
op('unsqueeze_1', (x) => x.unsqueeze(1));
op('unsqueeze_neg1', (x) => x.unsqueeze(-1));
op('unsqueeze_0d', (x) => x.unsqueeze(0));
op('flatten_all', (x) => x.flatten());
op('flatten_1_2', (x) => x.flatten(1, 2));
op('flatten_neg', (x) => x.flatten(-2, -1));
op('flatten_0d', (x) => x.flatten());
op('narrow_dim0', (x) => x.narrow(0, 1, 2));
op('narrow_dim1', (x) => x.narrow(1, 2, 3));
op('narrow_neg_dim', (x) => x.narrow(-1, 0, 1));
op('select_dim1', (x) => x.select(1, 2));
op('select_neg_index', (x) => x.select(0, -1));
op('select_1d', (x) => x.select(0, 1));
op('slice_step2', (x) => x.slice(1, 1, 5, 2)); // x[:, 1:5:2]
op('slice_step3_dim0', (x) => x.slice(0, undefined, undefined, 3)); // x[::3]
op('slice_neg_start', (x) => x.slice(1, -3)); // x[:, -3:]
op('slice_neg_end', (x) => x.slice(0, 1, -1)); // x[1:-1]
op('slice_clamped', (x) => x.slice(1, 2, 100)); // x[:, 2:100]
op('slice_empty', (x) => x.slice(1, 3, 3)); // x[:, 3:3]
op('contiguous_after_permute', (x) => x.permute(1, 0, 2).contiguous());
op('contiguous_after_t_view', (x) => x.t().contiguous().view(-1));
op('cat_dim0', (a, b, c) => tg.cat([a, b, c], 0));
op('cat_dim1', (a, b) => tg.cat([a, b], 1));
op('cat_neg', (a, b) => tg.cat([a, b], -1));
op('cat_single', (a) => tg.cat([a]));
op('cat_with_empty', (a, b) => tg.cat([a, b], 0));
op('stack_dim0', (a, b, c) => tg.stack([a, b, c], 0));
op('stack_dim1', (a, b) => tg.stack([a, b], 1));
op('stack_neg1', (a, b) => tg.stack([a, b], -1));
op('stack_0d', (a, b) => tg.stack([a, b]));
op('split_int', (x) => x.split(2, 0));
op('split_list', (x) => x.split([1, 3, 1], 0));
op('split_dim1', (x) => x.split(2, 1));
op('chunk_3', (x) => x.chunk(3, 0));
op('chunk_dim1', (x) => x.chunk(2, 1));
op('chunk_uneven', (x) => x.chunk(4)); // [6] in 4 chunks -> 3 chunks of 2, like PyTorch
op('tril', (x) => x.tril());
op('tril_k1', (x) => x.tril(1));
op('tril_kneg1', (x) => x.tril(-1));
op('tril_rect', (x) => x.tril());
op('tril_batched', (x) => x.tril());
op('triu', (x) => x.triu());
op('triu_k1', (x) => x.triu(1));
op('triu_kneg1', (x) => x.triu(-1));
op('triu_rect', (x) => x.triu());

allCasesChecked();
