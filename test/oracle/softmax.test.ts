// softmax / log_softmax judged by PyTorch (fixtures: test/fixtures/ops/softmax.json).
import type { Tensor } from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('softmax');

const SOFTMAX: [string, (x: Tensor, dim: number) => Tensor][] = [
  ['softmax', (x, dim) => x.softmax(dim)],
  ['log_softmax', (x, dim) => x.logSoftmax(dim)],
];
for (const [name, f] of SOFTMAX) {
  op(`${name}_dim0`, (x) => f(x, 0));
  op(`${name}_dim1`, (x) => f(x, 1));
  op(`${name}_dimneg1`, (x) => f(x, -1));
  op(`${name}_3d_dim1`, (x) => f(x, 1));
  op(`${name}_1d`, (x) => f(x, 0));
  op(`${name}_large`, (x) => f(x, -1)); // values ~1000: must not overflow
  op(`${name}_neg_large`, (x) => f(x, -1)); // values ~-1000: must not underflow to 0/0
  op(`${name}_masked`, (x) => f(x, -1)); // -inf entries (attention masks)
  op(`${name}_all_masked_row`, (x) => f(x, -1)); // a row of -inf: NaN like PyTorch
}

allCasesChecked();
