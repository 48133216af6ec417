// Second-order gradients judged by PyTorch (fixtures: test/fixtures/ops/second_order.json):
// grads via autograd.grad(..., { createGraph: true }), then the gradient of <grads, v>.
import * as tg from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { second, allCasesChecked } = oracle('second_order');

second('tanh', (x) => x.tanh());
second('sigmoid', (x) => x.sigmoid());
second('exp', (x) => x.exp());
second('log', (x) => x.log());
second('sqrt', (x) => x.sqrt());
second('sin', (x) => x.sin());
second('cos', (x) => x.cos());
second('square', (x) => x.square());
second('softmax', (x) => x.softmax(-1));
second('softmax_dim0', (x) => x.softmax(0));
second('log_softmax', (x) => x.logSoftmax(-1));
second('pow_scalar3', (x) => x.pow(3));
second('pow_tensor', (a, b) => a.pow(b));
second('mul', (a, b) => a.mul(b));
second('div', (a, b) => a.div(b));
second('div_bcast', (a, b) => a.div(b));
second('matmul', (a, b) => a.matmul(b));
second('logsumexp', (x) => x.logsumexp(1));
second('tanh_mlp', (x, w) => x.matmul(w).tanh().sum(-1));
second('norm', (x) => x.norm());
second('reciprocal', (x) => x.reciprocal());
second('rsqrt', (x) => x.rsqrt());
second('atan2', (a, b) => a.atan2(b));
second('var_dim1', (x) => x.var(1));
second('std_all', (x) => x.std());
second('prod_dim1', (x) => x.prod(1));
second('mean_square', (x) => x.mul(x).mean(0));
second('where', (m, x, y) => tg.where(m, x.sin(), y.exp()));
second('gather_square', (x, i) => x.gather(1, i).square());
second('broadcast_mul_sum', (a, b) => a.mul(b).sum(0).mul(a.sum(0)));
second('mlp_relu_tanh', (x, w1, w2) => x.matmul(w1).relu().matmul(w2).tanh());
second('cross_entropy_like', (x, t) => x.logSoftmax(-1).mul(t).sum(-1).mean().neg());

allCasesChecked();
