// matmul / mm / bmm / outer / dot judged by PyTorch (fixtures: test/fixtures/ops/linalg.json).
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('linalg');

op('matmul_1d_1d', (a, b) => a.matmul(b));
op('matmul_1d_2d', (a, b) => a.matmul(b));
op('matmul_2d_1d', (a, b) => a.matmul(b));
op('matmul_2d_2d', (a, b) => a.matmul(b));
op('matmul_3d_3d', (a, b) => a.matmul(b));
op('matmul_bcast_batch', (a, b) => a.matmul(b)); // [2,1,3,4] @ [5,4,2]
op('matmul_3d_2d', (a, b) => a.matmul(b));
op('matmul_2d_3d', (a, b) => a.matmul(b));
op('matmul_3d_1d', (a, b) => a.matmul(b));
op('matmul_1d_3d', (a, b) => a.matmul(b));
op('matmul_lhs_transposed', (a, b) => a.t().matmul(b));
op('matmul_rhs_transposed', (a, b) => a.matmul(b.t()));
op('matmul_both_transposed', (a, b) => a.transpose(-1, -2).matmul(b.transpose(-1, -2)));
op('mm', (a, b) => a.mm(b));
op('mm_1x1', (a, b) => a.mm(b));
op('matmul_empty_inner', (a, b) => a.matmul(b));
op('bmm', (a, b) => a.bmm(b));
op('outer', (a, b) => a.outer(b));
op('dot', (a, b) => a.dot(b));

allCasesChecked();
