// dtype casts judged by PyTorch (fixtures: test/fixtures/ops/cast.json).
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('cast');

op('double_from_f32', (x) => x.double()); // grad flows back as float32
op('float_from_f64', (x) => x.float()); // grad flows back as float64
op('to_float32', (x) => x.to('float32'));
op('to_same_dtype', (x) => x.to('float64'));
op('float_roundtrip_mul', (x, y) => x.float().double().mul(y));
op('int_from_f64_trunc', (x) => x.int()); // truncation toward zero
op('int_from_f32', (x) => x.int());
op('bool_from_f64', (x) => x.bool()); // nan and -0.0 edge cases
op('double_from_int32', (x) => x.double());
op('float_from_int32', (x) => x.float());
op('float_from_bool', (x) => x.float());
op('int_from_bool', (x) => x.int());
op('bool_from_int32', (x) => x.bool());
op('double_from_bool_mul', (m, x) => m.double().mul(x));

allCasesChecked();
