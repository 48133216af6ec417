// Unary elementwise ops judged by PyTorch (fixtures: test/fixtures/ops/elementwise.json).
import { oracle } from '../helpers/oracle.js';

const { op, allCasesChecked } = oracle('elementwise');

op('neg', (x) => x.neg());
op('neg_0d', (x) => x.neg());
op('abs', (x) => x.abs());
op('abs_zero', (x) => x.abs());
op('sign', (x) => x.sign());
op('sign_zero', (x) => x.sign());
op('exp', (x) => x.exp());
op('exp_0d', (x) => x.exp());
op('exp_empty', (x) => x.exp());
op('exp_3d', (x) => x.exp());
op('expm1', (x) => x.expm1());
op('expm1_tiny', (x) => x.expm1());
op('log', (x) => x.log());
op('log_special', (x) => x.log());
op('log1p', (x) => x.log1p());
op('log1p_tiny', (x) => x.log1p());
op('sqrt', (x) => x.sqrt());
op('sqrt_zero', (x) => x.sqrt());
op('rsqrt', (x) => x.rsqrt());
op('square', (x) => x.square());
op('sin', (x) => x.sin());
op('cos', (x) => x.cos());
op('tanh', (x) => x.tanh());
op('tanh_large', (x) => x.tanh());
op('sigmoid', (x) => x.sigmoid());
op('sigmoid_large', (x) => x.sigmoid());
op('relu', (x) => x.relu());
op('relu_zero', (x) => x.relu());
op('reciprocal', (x) => x.reciprocal());
op('floor', (x) => x.floor());
op('ceil', (x) => x.ceil());
op('round', (x) => x.round());
op('round_half_even', (x) => x.round());
op('clamp_minmax', (x) => x.clamp(-0.5, 0.5));
op('clamp_min', (x) => x.clamp(0.2));
op('clamp_max', (x) => x.clamp(null, -0.1));
op('clamp_boundary', (x) => x.clamp(-0.5, 0.5));
op('exp_transposed', (x) => x.t().exp());
op('sqrt_permuted', (x) => x.permute(2, 0, 1).sqrt());
op('relu_nan', (x) => x.relu());
op('clamp_nan', (x) => x.clamp(-0.5, 0.5));

allCasesChecked();
