// Binary elementwise ops judged by PyTorch (fixtures: test/fixtures/ops/binary.json).
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('binary');

// Every op on the same shape list as scripts/torch_fixtures.py (BIN):
// same shape, [2,1,3]x[4,1], [3]x[2,3], [2,3]x[3], 0-d x [2,3], [2,3] x 0-d, 0-d x 0-d.
const BIN: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', (a, b) => a.add(b)],
  ['sub', (a, b) => a.sub(b)],
  ['mul', (a, b) => a.mul(b)],
  ['div', (a, b) => a.div(b)],
  ['pow', (a, b) => a.pow(b)],
  ['maximum', (a, b) => a.maximum(b)],
  ['minimum', (a, b) => a.minimum(b)],
  ['atan2', (a, b) => a.atan2(b)],
];
for (const [name, f] of BIN) {
  for (const shapes of ['same', 'bcast_213_41', 'bcast_3_23', 'bcast_23_3', 'bcast_0d_23', 'bcast_23_0d', '0d_0d']) {
    op(`${name}_${shapes}`, f);
  }
}

// free-function forms on the same fixtures
op('add_same', (a, b) => tg.add(a, b), 'tg.add');
op('sub_bcast_213_41', (a, b) => tg.sub(a, b), 'tg.sub');
op('mul_bcast_0d_23', (a, b) => tg.mul(a, b), 'tg.mul');
op('div_bcast_3_23', (a, b) => tg.div(a, b), 'tg.div');
op('pow_same', (a, b) => tg.pow(a, b), 'tg.pow');

// tensor op python scalar
op('add_scalar', (x) => x.add(2.5));
op('sub_scalar', (x) => x.sub(2.5));
op('mul_scalar', (x) => x.mul(2.5));
op('div_scalar', (x) => x.div(2.5));
op('pow_scalar', (x) => x.pow(2.5));
op('maximum_scalar', (x) => x.maximum(0.3));
op('minimum_scalar', (x) => x.minimum(0.3));
op('atan2_scalar', (x) => x.atan2(0.7));
op('add_scalar', (x) => tg.add(x, 2.5), 'tg.add');

// python scalar op tensor
op('sub_rscalar', (x) => tg.sub(2, x));
op('div_rscalar', (x) => tg.div(2, x));
op('pow_rscalar', (x) => tg.pow(2, x));
op('add_rscalar', (x) => tg.add(2, x));
op('mul_rscalar', (x) => tg.mul(2, x));

// pow special exponents
op('pow_scalar2_negbase', (x) => x.pow(2));
op('pow_scalar3_negbase', (x) => x.pow(3));
op('pow_scalar_half', (x) => x.pow(0.5));
op('pow_scalar_neg1', (x) => x.pow(-1));
op('pow_scalar0', (x) => x.pow(0));
op('pow_tensor_bcast', (a, b) => a.pow(b));

// ties split the gradient half/half
op('maximum_tie', (a, b) => a.maximum(b));
op('minimum_tie', (a, b) => a.minimum(b));

// IEEE specials
op('div_by_zero', (a, b) => a.div(b));
op('pow_zero_base', (a, b) => a.pow(b));
op('pow_scalar_zero_base', (x) => x.pow(2.5));
op('maximum_nan', (a, b) => a.maximum(b));
op('minimum_nan', (a, b) => a.minimum(b));
op('div_int32_by_zero', (a, b) => a.div(b));

// dtype promotion
op('add_int32_f64', (a, b) => a.add(b));
op('mul_int32_scalar', (a) => a.mul(2.5));
op('add_int32_int32', (a, b) => a.add(b));
op('mul_int32_int32', (a, b) => a.mul(b));
op('add_int32_intscalar', (a) => a.add(3));
op('div_int32_int32', (a, b) => a.div(b));
op('add_f32_f64', (a, b) => a.add(b));
op('mul_f64_f32', (a, b) => a.mul(b));
op('mul_bool_f64', (a, b) => a.mul(b));
op('add_f32_0d_f64', (a, b) => a.add(b));

allCasesChecked();
