// gather / scatter / scatter_add / index_select judged by PyTorch (fixtures: test/fixtures/ops/index.json).
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('index');

op('gather_dim0', (x, i) => x.gather(0, i));
op('gather_dim1', (x, i) => x.gather(1, i));
op('gather_small_index', (x, i) => x.gather(1, i));
op('gather_3d_neg', (x, i) => x.gather(-1, i));
op('scatter_dim0', (x, i, s) => x.scatter(0, i, s));
op('scatter_dim1', (x, i, s) => x.scatter(1, i, s));
op('scatter_value', (x, i) => x.scatter(1, i, 2.5));
op('scatter_add_dim0', (x, i, s) => x.scatterAdd(0, i, s));
op('scatter_add_dim1', (x, i, s) => x.scatterAdd(1, i, s));
op('index_select_dim0', (x, i) => x.indexSelect(0, i));
op('index_select_dim1', (x, i) => x.indexSelect(1, i));
op('index_select_neg', (x, i) => x.indexSelect(-1, i));
op('index_select_1d', (x, i) => x.indexSelect(0, i));

allCasesChecked();
