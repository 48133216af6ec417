#!/usr/bin/env python3
"""Generate the PyTorch oracle fixtures under test/fixtures/ops/<family>.json.

Run with the Debian PyTorch (1.13):  /usr/bin/python3 scripts/torch_fixtures.py
(or `npm run fixtures`).  The output is deterministic: rerunning produces
byte-identical files.  Python is only needed to regenerate fixtures; the
TypeScript tests read the committed JSON and never call Python.

File format
-----------
Each file is a JSON object mapping case name -> case.  A case is::

    {
      "inputs":      [Tensor & {"requiresGrad": bool}, ...],
      "outputs":     [Tensor, ...],           # one per output of the op
      "gradOutputs": [Tensor | null, ...],    # one per output
      "grads":       [Tensor | null, ...],    # one per input
      # second-order cases only (family second_order):
      "gradGradOutputs": [Tensor | null, ...],  # one per input
      "secondGrads":     [Tensor | null, ...]   # one per input
    }

where Tensor is ``{"shape": [..], "dtype": D, "data": [..]}`` with ``data``
flat, row-major (C order), and D one of "float64", "float32", "int32",
"bool".  Special float values are the strings "nan", "inf", "-inf"; bools are
true/false; int32 data are integers.  PyTorch int64 tensors (indices returned
by max/argmax, gather/scatter indices, sums of int tensors) are recorded as
"int32" (tensorgrad's only integer dtype).  float32 data are written with the
shortest decimal that rounds (via float64, like Math.fround) to the exact
float32 value; float64 data with Python's shortest round-trip repr.

Semantics:
  * ``outputs``: op(*inputs) computed by PyTorch, inputs being contiguous leaf
    tensors.  Ops that need views / non-contiguous operands apply the view
    inside the op (the TS test applies the same view to its leaf).
  * ``gradOutputs[k]``: random normal tensor (shape/dtype of output k) for
    outputs that are differentiable (require grad), else null.
  * ``grads[i]``: d(sum_k <outputs[k], gradOutputs[k]>)/d inputs[i] for inputs
    with requiresGrad, else null.  Float inputs require grad unless the op has
    no differentiable output (comparisons, argmax, ...) or the case says
    otherwise; int/bool inputs never do.
  * second order: with g1 = autograd.grad(sum_k <out_k, gradOutputs[k]>,
    inputs, create_graph=True) (= ``grads``), ``gradGradOutputs[i]`` is a
    fixed random v_i and ``secondGrads[j]`` = d(sum_i <g1_i, v_i>)/d inputs[j].
    An input unreachable in the second graph gets zeros (never null while it
    requires grad).

Inputs are drawn from torch's generator seeded by crc32("<family>/<name>"),
so adding or removing a case never changes the others.  A case registered
with f32=True also gets a "<name>_f32" twin: same inputs / gradOutputs cast to
float32, everything computed by PyTorch in float32.
"""

import json
import os
import sys
import zlib

import torch
from fixture_encode import enc, enc_list  # the shared JSON encoders (scripts/fixture_encode.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'ops')

F64 = torch.float64
F32 = torch.float32
I32 = torch.int32
I64 = torch.int64
INF = float('inf')
NAN = float('nan')

# ---------------------------------------------------------------- input specs
# Each spec is a zero-argument callable, evaluated after seeding the case.


def R(*shape, scale=1.0):
    """standard normal (times scale)"""
    return lambda: torch.randn(shape, dtype=F64) * scale


def U(lo, hi, *shape):
    """uniform in [lo, hi)"""
    return lambda: torch.rand(shape, dtype=F64) * (hi - lo) + lo


def P(*shape):
    """positive: uniform in [0.5, 2)"""
    return U(0.5, 2.0, *shape)


def NZ(*shape):
    """away from zero: +-[0.5, 2)"""
    return lambda: (torch.rand(shape, dtype=F64) * 1.5 + 0.5) * (torch.randint(0, 2, shape, dtype=F64) * 2 - 1)


def Q(*shape):
    """small integer-valued floats in {-2..2} (ties for comparisons)"""
    return lambda: torch.randint(-2, 3, shape).to(F64)


def T(data, dtype=F64):
    """literal"""
    return lambda: torch.tensor(data, dtype=dtype)


def I(high, *shape, dtype=I64):
    """random integers in [0, high)"""
    return lambda: torch.randint(0, high, shape, dtype=dtype)


def Ir(lo, high, *shape, dtype=I32):
    """random integers in [lo, high)"""
    return lambda: torch.randint(lo, high, shape, dtype=dtype)


def B(*shape):
    """random bools"""
    return lambda: torch.rand(shape) < 0.5


def F32of(spec):
    """a float32 input (for promotion cases)"""
    return lambda: spec().to(F32)


def scal(x, v):
    """python-scalar operand for ops that need a tensor in torch 1.13
    (maximum/minimum/atan2): a 0-d tensor of x's dtype, no grad"""
    return x.new_tensor(v)


# ----------------------------------------------------------------- encoding

# ------------------------------------------------------------------ registry

FAMILIES = {}


def seed(family, name, salt=''):
    torch.manual_seed(zlib.crc32(('%s/%s%s' % (family, name, salt)).encode()))


def as_list(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return list(out)


def record(fn, xs, grad, second, gouts_f64=None, ggouts_f64=None):
    """Run fn on leaves built from xs; return the encoded case and the
    float64 random tensors used (so the f32 twin can reuse them)."""
    floating = [x.is_floating_point() for x in xs]
    if grad is True:
        req = floating
    elif grad is False:
        req = [False] * len(xs)
    else:
        req = [bool(g) and f for g, f in zip(grad, floating)]

    def run(req):
        leaves = [x.clone().requires_grad_(r) for x, r in zip(xs, req)]
        return leaves, as_list(fn(*leaves))

    leaves, outs = run(req)
    if not any(o.requires_grad for o in outs):
        req = [False] * len(xs)      # nothing differentiable: plain inputs
        leaves, outs = run(req)

    diff = [o.requires_grad for o in outs]
    if gouts_f64 is None:
        gouts_f64 = [torch.randn(o.shape, dtype=F64) if d else None for o, d in zip(outs, diff)]
    gouts = [g.to(o.dtype) if g is not None else None for g, o in zip(gouts_f64, outs)]

    grads = [None] * len(xs)
    gg_f64, second_grads = None, None
    wrt = [l for l, r in zip(leaves, req) if r]
    if wrt:
        d_outs = [o for o, d in zip(outs, diff) if d]
        d_gouts = [g for g, d in zip(gouts, diff) if d]
        g1 = torch.autograd.grad(d_outs, wrt, d_gouts, allow_unused=True, create_graph=second)
        assert all(g is not None for g in g1), 'an input requiring grad got no gradient'
        it = iter(g1)
        grads = [next(it) if r else None for r in req]
        if second:
            if ggouts_f64 is None:
                ggouts_f64 = [torch.randn(g.shape, dtype=F64) if g is not None else None for g in grads]
            gg = [v.to(g.dtype) if v is not None else None for v, g in zip(ggouts_f64, grads)]
            s = sum((g * v).sum() for g, v in zip(grads, gg) if g is not None)
            g2 = torch.autograd.grad(s, wrt, allow_unused=True)
            g2 = [g if g is not None else torch.zeros_like(w) for g, w in zip(g2, wrt)]
            it = iter(g2)
            second_grads = [next(it) if r else None for r in req]
            gg_f64 = gg

    parts = [
        '"inputs":[' + ','.join(enc(x, r) for x, r in zip(xs, req)) + ']',
        '"outputs":' + enc_list(outs),
        '"gradOutputs":' + enc_list(gouts),
        '"grads":' + enc_list(grads),
    ]
    if second:
        parts.append('"gradGradOutputs":' + enc_list(gg_f64))
        parts.append('"secondGrads":' + enc_list(second_grads))
    return '{' + ','.join(parts) + '}', gouts_f64, ggouts_f64


def family(fam):
    cases = FAMILIES.setdefault(fam, {})

    def case(name, fn, *specs, f32=False, second=False, grad=True):
        assert name not in cases, name
        seed(fam, name)
        xs = [s() for s in specs]
        seed(fam, name, '#grad')
        cases[name], gouts, ggouts = record(fn, xs, grad, second)
        if f32:
            xs32 = [x.to(F32) if x.dtype == F64 else x for x in xs]
            cases[name + '_f32'], _, _ = record(fn, xs32, grad, second, gouts, ggouts)
    return case


# ================================================================= elementwise
c = family('elementwise')
c('neg', lambda x: -x, R(2, 3), f32=True)
c('neg_0d', lambda x: -x, R())
c('abs', torch.abs, NZ(2, 3), f32=True)
c('abs_zero', torch.abs, T([-1.5, 0.0, 2.0]))
c('sign', torch.sign, NZ(2, 3), f32=True)
c('sign_zero', torch.sign, T([-2.0, 0.0, 3.0]))
c('exp', torch.exp, R(2, 3), f32=True)
c('exp_0d', torch.exp, R())
c('exp_empty', torch.exp, R(0, 3))
c('exp_3d', torch.exp, R(2, 3, 4), f32=True)
c('expm1', torch.expm1, R(2, 3, scale=0.5), f32=True)
c('expm1_tiny', torch.expm1, T([1e-10, -1e-12, 1e-300]))
c('log', torch.log, P(2, 3), f32=True)
c('log_special', torch.log, T([0.0, -1.0, INF, NAN]))
c('log1p', torch.log1p, U(-0.5, 2.0, 2, 3), f32=True)
c('log1p_tiny', torch.log1p, T([1e-10, -1e-12, 1e-300]))
c('sqrt', torch.sqrt, P(2, 3), f32=True)
c('sqrt_zero', torch.sqrt, T([0.0, 4.0]))
c('rsqrt', torch.rsqrt, P(2, 3), f32=True)
c('square', torch.square, R(2, 3), f32=True)
c('sin', torch.sin, R(2, 3, scale=2.0), f32=True)
c('cos', torch.cos, R(2, 3, scale=2.0), f32=True)
c('tanh', torch.tanh, R(2, 3, scale=2.0), f32=True)
c('tanh_large', torch.tanh, T([-30.0, -800.0, 0.0, 30.0, 800.0]))
c('sigmoid', torch.sigmoid, R(2, 3, scale=3.0), f32=True)
c('sigmoid_large', torch.sigmoid, T([-800.0, -30.0, 0.0, 30.0, 800.0]))
c('relu', torch.relu, NZ(2, 3), f32=True)
c('relu_zero', torch.relu, T([-1.0, 0.0, 2.0]))
c('reciprocal', torch.reciprocal, NZ(2, 3), f32=True)
c('floor', torch.floor, U(-3.0, 3.0, 2, 3), f32=True)
c('ceil', torch.ceil, U(-3.0, 3.0, 2, 3), f32=True)
c('round', torch.round, U(-3.0, 3.0, 2, 3), f32=True)
c('round_half_even', torch.round, T([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]))
c('clamp_minmax', lambda x: x.clamp(-0.5, 0.5), R(3, 4), f32=True)
c('clamp_min', lambda x: x.clamp(min=0.2), R(3, 4), f32=True)
c('clamp_max', lambda x: x.clamp(max=-0.1), R(3, 4), f32=True)
c('clamp_boundary', lambda x: x.clamp(-0.5, 0.5), T([-1.0, -0.5, 0.0, 0.5, 1.0]))
c('exp_transposed', lambda x: x.t().exp(), R(3, 4))
c('sqrt_permuted', lambda x: x.permute(2, 0, 1).sqrt(), P(2, 3, 4))
c('relu_nan', torch.relu, T([NAN, -1.0, 1.0]))
c('clamp_nan', lambda x: x.clamp(-0.5, 0.5), T([NAN, -1.0, 0.25]))

# ====================================================================== binary
c = family('binary')
# (op, torch fn, lhs spec, rhs spec) - rhs of div kept away from 0, pow base > 0
BIN = [
    ('add', torch.add, R, R),
    ('sub', torch.sub, R, R),
    ('mul', torch.mul, R, R),
    ('div', torch.div, R, NZ),
    ('pow', torch.pow, P, R),
    ('maximum', torch.maximum, R, R),
    ('minimum', torch.minimum, R, R),
    ('atan2', torch.atan2, R, R),
]
for op, f, L, Rt in BIN:
    c(op + '_same', f, L(2, 3), Rt(2, 3), f32=True)
    c(op + '_bcast_213_41', f, L(2, 1, 3), Rt(4, 1), f32=True)
    c(op + '_bcast_3_23', f, L(3), Rt(2, 3))
    c(op + '_bcast_23_3', f, L(2, 3), Rt(3))
    c(op + '_bcast_0d_23', f, L(), Rt(2, 3))
    c(op + '_bcast_23_0d', f, L(2, 3), Rt())
    c(op + '_0d_0d', f, L(), Rt())
# tensor op python scalar
c('add_scalar', lambda x: x + 2.5, R(2, 3), f32=True)
c('sub_scalar', lambda x: x - 2.5, R(2, 3), f32=True)
c('mul_scalar', lambda x: x * 2.5, R(2, 3), f32=True)
c('div_scalar', lambda x: x / 2.5, R(2, 3), f32=True)
c('pow_scalar', lambda x: x ** 2.5, P(2, 3), f32=True)
c('maximum_scalar', lambda x: torch.maximum(x, scal(x, 0.3)), R(2, 3), f32=True)
c('minimum_scalar', lambda x: torch.minimum(x, scal(x, 0.3)), R(2, 3), f32=True)
c('atan2_scalar', lambda x: torch.atan2(x, scal(x, 0.7)), R(2, 3))
# python scalar op tensor
c('sub_rscalar', lambda x: 2 - x, R(2, 3), f32=True)
c('div_rscalar', lambda x: 2 / x, NZ(2, 3), f32=True)
c('pow_rscalar', lambda x: 2 ** x, R(2, 3), f32=True)
c('add_rscalar', lambda x: 2 + x, R(2, 3))
c('mul_rscalar', lambda x: 2 * x, R(2, 3))
# pow special exponents
c('pow_scalar2_negbase', lambda x: x ** 2, R(2, 3))
c('pow_scalar3_negbase', lambda x: x ** 3, R(2, 3))
c('pow_scalar_half', lambda x: x ** 0.5, P(2, 3))
c('pow_scalar_neg1', lambda x: x ** -1, NZ(2, 3))
c('pow_scalar0', lambda x: x ** 0, R(2, 3))
c('pow_tensor_bcast', torch.pow, P(2, 3), R(3))
# ties: maximum/minimum split the gradient half/half
c('maximum_tie', torch.maximum, T([1.0, 2.0, 3.0, -1.0]), T([1.0, 0.0, 3.0, 5.0]))
c('minimum_tie', torch.minimum, T([1.0, 2.0, 3.0, -1.0]), T([1.0, 0.0, 3.0, 5.0]))
# IEEE specials
c('div_by_zero', torch.div, T([1.0, -1.0, 0.0]), T([0.0, 0.0, 0.0]))
c('pow_zero_base', torch.pow, T([0.0, 0.0, 0.0, 2.0]), T([2.0, 0.5, 0.0, 3.0]))
c('pow_scalar_zero_base', lambda x: x ** 2.5, T([0.0, 1.0]))
c('maximum_nan', torch.maximum, T([NAN, 1.0, 2.0]), T([0.0, NAN, 1.0]))
c('minimum_nan', torch.minimum, T([NAN, 1.0, 2.0]), T([0.0, NAN, 1.0]))
c('div_int32_by_zero', torch.div, T([1, -1, 0], I32), T([0, 0, 0], I32))
# dtype promotion
c('add_int32_f64', torch.add, Ir(-5, 5, 2, 3), R(2, 3))
c('mul_int32_scalar', lambda a: a * 2.5, Ir(-5, 5, 2, 3))
c('add_int32_int32', torch.add, Ir(-5, 5, 2, 3), Ir(-5, 5, 2, 3))
c('mul_int32_int32', torch.mul, Ir(-5, 5, 2, 3), Ir(-5, 5, 3))
c('add_int32_intscalar', lambda a: a + 3, Ir(-5, 5, 2, 3))
c('div_int32_int32', torch.div, Ir(-5, 5, 2, 3), Ir(1, 5, 2, 3))
c('add_f32_f64', torch.add, F32of(R(2, 3)), R(3))
c('mul_f64_f32', torch.mul, R(2, 3), F32of(R(2, 3)))
c('mul_bool_f64', torch.mul, B(2, 3), R(2, 3))
c('add_f32_0d_f64', torch.add, F32of(R(2, 3)), R())

# ===================================================================== compare
c = family('compare')
for op, f in [('eq', torch.eq), ('ne', torch.ne), ('lt', torch.lt), ('le', torch.le), ('gt', torch.gt), ('ge', torch.ge)]:
    c(op + '_same', f, Q(3, 4), Q(3, 4))
    c(op + '_bcast', f, Q(2, 1, 3), Q(4, 1))
    c(op + '_scalar', lambda x, f=f: f(x, 0.0), Q(3, 4))
c('eq_int32_f64', torch.eq, Ir(-2, 3, 3, 4), Q(3, 4))
c('lt_nan', torch.lt, T([1.0, NAN, 2.0, INF]), T([NAN, 1.0, 3.0, INF]))
c('eq_nan', torch.eq, T([1.0, NAN, INF]), T([1.0, NAN, INF]))
c('where_same', torch.where, B(2, 3), R(2, 3), R(2, 3))
c('where_bcast', torch.where, B(2, 1, 3), R(4, 1), R(3))
c('where_scalar_b', lambda m, a: torch.where(m, a, 0.0), B(2, 3), R(2, 3))
c('where_scalar_a', lambda m, b: torch.where(m, 1.5, b), B(2, 3), R(2, 3))
c('where_from_gt', lambda x: torch.where(x > 0, x, x * 0.1), R(3, 4))
# unselected branch is NaN: PyTorch's gradient is NaN there too (0 * inf in sqrt backward)
c('where_sqrt_nan_gotcha', lambda x: torch.where(x > 0, x.sqrt(), x * 0), T([4.0, -1.0, 0.25]))
c('masked_fill', lambda x, m: x.masked_fill(m, 0.5), R(2, 3), B(2, 3))
c('masked_fill_bcast', lambda x, m: x.masked_fill(m, 0.5), R(2, 3), B(3))
c('masked_fill_neginf', lambda x, m: x.masked_fill(m, -INF), R(2, 3), B(2, 3))
c('logical_and', torch.logical_and, B(3, 4), B(3, 4))
c('logical_and_bcast', torch.logical_and, B(2, 1, 3), B(4, 1))
c('logical_or', torch.logical_or, B(3, 4), B(3, 4))
c('logical_or_bcast', torch.logical_or, B(3), B(2, 3))
c('logical_not', torch.logical_not, B(3, 4))
c('isnan', torch.isnan, T([1.0, NAN, INF, -INF, 0.0, -NAN]))
c('isfinite', torch.isfinite, T([1.0, NAN, INF, -INF, 0.0, -2.5]))

# ======================================================================== cast
c = family('cast')
c('double_from_f32', lambda x: x.double(), F32of(R(2, 3)))
c('float_from_f64', lambda x: x.float(), R(2, 3))
c('to_float32', lambda x: x.to(F32), R(2, 3))
c('to_same_dtype', lambda x: x.to(F64), R(2, 3))
c('float_roundtrip_mul', lambda x, y: x.float().double() * y, R(2, 3), R(2, 3))
c('int_from_f64_trunc', lambda x: x.int(), T([-2.7, -0.5, 0.5, 2.7, 3.0, -3.0]))
c('int_from_f32', lambda x: x.int(), F32of(U(-5.0, 5.0, 2, 3)))
c('bool_from_f64', lambda x: x.bool(), T([0.0, -0.0, 1.5, NAN, INF, -1e-300]))
c('double_from_int32', lambda x: x.double(), Ir(-5, 5, 2, 3))
c('float_from_int32', lambda x: x.float(), Ir(-5, 5, 2, 3))
c('float_from_bool', lambda x: x.float(), B(2, 3))
c('int_from_bool', lambda x: x.int(), B(2, 3))
c('bool_from_int32', lambda x: x.bool(), T([0, 1, -2, 0], I32))
c('double_from_bool_mul', lambda m, x: m.double() * x, B(2, 3), R(2, 3))

# ====================================================================== reduce
c = family('reduce')
c('sum_all', lambda x: x.sum(), R(2, 3, 4), f32=True)
c('sum_dim0', lambda x: x.sum(0), R(2, 3, 4), f32=True)
c('sum_dim1', lambda x: x.sum(1), R(2, 3, 4))
c('sum_dimneg1', lambda x: x.sum(-1), R(2, 3, 4))
c('sum_dim1_keepdim', lambda x: x.sum(1, keepdim=True), R(2, 3, 4), f32=True)
c('sum_dims02', lambda x: x.sum([0, 2]), R(2, 3, 4))
c('sum_dims_neg_keepdim', lambda x: x.sum([-1, -3], keepdim=True), R(2, 3, 4))
c('sum_0d', lambda x: x.sum(), R())
c('sum_empty', lambda x: x.sum(), R(0, 3))
c('sum_empty_dim0', lambda x: x.sum(0), R(0, 3))
c('sum_int32', lambda x: x.sum(), Ir(-5, 5, 2, 3))
c('sum_bool', lambda x: x.sum(), T([[True, False, True], [True, True, False]], torch.bool))
c('sum_bool_dim', lambda x: x.sum(1), T([[True, False, True], [True, True, False]], torch.bool))
c('sum_inf_nan', lambda x: x.sum(1), T([[INF, -INF], [INF, 1.0], [NAN, 1.0]]))
c('mean_all', lambda x: x.mean(), R(2, 3, 4), f32=True)
c('mean_dim1', lambda x: x.mean(1), R(2, 3, 4), f32=True)
c('mean_dimneg1_keepdim', lambda x: x.mean(-1, keepdim=True), R(2, 3, 4))
c('mean_dims01', lambda x: x.mean([0, 1]), R(2, 3, 4))
c('mean_empty', lambda x: x.mean(), R(0, 3))
c('prod_all', lambda x: x.prod(), U(0.5, 1.5, 2, 3), f32=True)
c('prod_dim1', lambda x: x.prod(1), R(2, 3, 4), f32=True)
c('prod_dim0_keepdim', lambda x: x.prod(0, keepdim=True), R(3, 4))
c('prod_one_zero', lambda x: x.prod(), T([[1.5, 0.0, 2.0], [-1.0, 3.0, 0.5]]))
c('prod_one_zero_dim', lambda x: x.prod(1), T([[1.5, 0.0, 2.0], [-1.0, 3.0, 0.5]]))
c('prod_two_zeros', lambda x: x.prod(1), T([[1.5, 0.0, 0.0], [-1.0, 3.0, 0.5]]))
c('max_all', lambda x: x.max(), R(3, 4), f32=True)
c('max_all_tie', lambda x: x.max(), T([[1.0, 3.0, 3.0], [0.0, 3.0, -1.0]]))
c('max_dim1', lambda x: x.max(1), R(3, 4), f32=True)
c('max_dim0_keepdim', lambda x: x.max(0, keepdim=True), R(3, 4))
c('max_dimneg1_3d', lambda x: x.max(-1), R(2, 3, 4))
c('max_all_nan', lambda x: x.max(), T([1.0, NAN, 3.0]))
c('max_dim1_nan', lambda x: x.max(1), T([[1.0, NAN, 3.0], [0.5, 2.0, 1.0]]))
c('min_all', lambda x: x.min(), R(3, 4), f32=True)
c('min_all_tie', lambda x: x.min(), T([[1.0, -3.0, 3.0], [-3.0, 3.0, -1.0]]))
c('min_dim1', lambda x: x.min(1), R(3, 4), f32=True)
c('min_dim0_keepdim', lambda x: x.min(0, keepdim=True), R(3, 4))
c('argmax_all', lambda x: x.argmax(), R(3, 4))
c('argmax_dim1', lambda x: x.argmax(1), R(3, 4))
c('argmax_dim0_keepdim', lambda x: x.argmax(0, keepdim=True), R(3, 4))
c('argmax_tie', lambda x: x.argmax(1), T([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]]))
c('argmax_nan', lambda x: x.argmax(1), T([[1.0, NAN, 3.0], [0.5, 2.0, 1.0]]))
c('argmin_all', lambda x: x.argmin(), R(3, 4))
c('argmin_dim1', lambda x: x.argmin(1), R(3, 4))
c('argmin_dimneg1_keepdim', lambda x: x.argmin(-1, keepdim=True), R(2, 3, 4))
for op in ['var', 'std']:
    c(op + '_all', lambda x, op=op: getattr(x, op)(), R(3, 4), f32=True)
    c(op + '_all_c0', lambda x, op=op: getattr(x, op)(None, correction=0), R(3, 4))
    c(op + '_dim1', lambda x, op=op: getattr(x, op)(1), R(3, 4), f32=True)
    c(op + '_dim1_c0', lambda x, op=op: getattr(x, op)(1, correction=0), R(3, 4))
    c(op + '_dim0_c2', lambda x, op=op: getattr(x, op)(0, correction=2), R(4, 3))
    c(op + '_dims02_keepdim', lambda x, op=op: getattr(x, op)([0, 2], correction=1, keepdim=True), R(2, 3, 4))
    c(op + '_dimneg1_c0_keepdim', lambda x, op=op: getattr(x, op)(-1, correction=0, keepdim=True), R(2, 3, 4))
    c(op + '_single_element', lambda x, op=op: getattr(x, op)(0), R(1, 3))  # 0 dof: nan
c('logsumexp_dim1', lambda x: x.logsumexp(1), R(3, 4), f32=True)
c('logsumexp_dim0_keepdim', lambda x: x.logsumexp(0, keepdim=True), R(3, 4))
c('logsumexp_dims', lambda x: x.logsumexp([0, 2]), R(2, 3, 4))
c('logsumexp_large', lambda x: x.logsumexp(1), U(995.0, 1005.0, 3, 4), f32=True)
c('logsumexp_neg_large', lambda x: x.logsumexp(-1), U(-1005.0, -995.0, 3, 4))
c('logsumexp_inf', lambda x: x.logsumexp(1), T([[-INF, -INF], [INF, 1.0], [-INF, 1.0]]), grad=False)
c('norm_all', lambda x: x.norm(), R(3, 4), f32=True)
c('norm_p1', lambda x: x.norm(1), NZ(3, 4), f32=True)
c('norm_inf', lambda x: x.norm(INF), R(3, 4), f32=True)
c('norm_p3', lambda x: x.norm(3), NZ(3, 4), f32=True)
c('norm_fro', lambda x: x.norm('fro'), R(3, 4))
c('norm_dim1', lambda x: x.norm(2, 1), R(3, 4), f32=True)
c('norm_dim0_keepdim', lambda x: x.norm(2, 0, keepdim=True), R(3, 4))
c('norm_p1_dim1', lambda x: x.norm(1, 1), NZ(3, 4))
c('norm_inf_dimneg1', lambda x: x.norm(INF, -1), R(2, 3, 4))
c('norm_p3_dims_keepdim', lambda x: x.norm(3, [0, 2], keepdim=True), NZ(2, 3, 4))
c('norm_zero', lambda x: x.norm(), T([[0.0, 0.0], [0.0, 0.0]]))
c('norm_zero_dim', lambda x: x.norm(2, 1), T([[0.0, 0.0], [3.0, 4.0]]))
c('norm_p1_zero', lambda x: x.norm(1), T([[0.0, -2.0], [0.0, 4.0]]))
c('norm_inf_zero', lambda x: x.norm(INF), T([0.0, 0.0, 0.0]))
c('all_all', lambda x: x.all(), B(3, 4))
c('all_true', lambda x: x.all(), T([[True, True], [True, True]], torch.bool))
c('all_dim1', lambda x: x.all(1), T([[True, True, False], [True, True, True]], torch.bool))
c('all_dim0_keepdim', lambda x: x.all(0, keepdim=True), B(3, 4))
c('any_all', lambda x: x.any(), B(3, 4))
c('any_false', lambda x: x.any(), T([[False, False], [False, False]], torch.bool))
c('any_dim1', lambda x: x.any(1), T([[False, False, False], [True, False, True]], torch.bool))
c('any_dimneg1_keepdim', lambda x: x.any(-1, keepdim=True), B(3, 4))
c('all_float', lambda x: x.all(), T([1.0, -2.0, 0.0]))
c('any_float', lambda x: x.any(1), T([[0.0, 0.0], [0.0, 0.5]]))

# ===================================================================== softmax
c = family('softmax')
for op, f in [('softmax', torch.softmax), ('log_softmax', torch.log_softmax)]:
    c(op + '_dim0', lambda x, f=f: f(x, 0), R(3, 4), f32=True)
    c(op + '_dim1', lambda x, f=f: f(x, 1), R(3, 4), f32=True)
    c(op + '_dimneg1', lambda x, f=f: f(x, -1), R(3, 4), f32=True)
    c(op + '_3d_dim1', lambda x, f=f: f(x, 1), R(2, 3, 4))
    c(op + '_1d', lambda x, f=f: f(x, 0), R(5))
    c(op + '_large', lambda x, f=f: f(x, -1), U(995.0, 1005.0, 3, 4), f32=True)
    c(op + '_neg_large', lambda x, f=f: f(x, -1), U(-1005.0, -995.0, 3, 4))
    c(op + '_masked', lambda x, f=f: f(x, -1), T([[1.0, -INF, 2.0], [0.5, 0.25, -INF]]))
    c(op + '_all_masked_row', lambda x, f=f: f(x, -1), T([[-INF, -INF], [0.5, 0.25]]))

# ====================================================================== linalg
c = family('linalg')
c('matmul_1d_1d', torch.matmul, R(4), R(4), f32=True)
c('matmul_1d_2d', torch.matmul, R(3), R(3, 4), f32=True)
c('matmul_2d_1d', torch.matmul, R(3, 4), R(4), f32=True)
c('matmul_2d_2d', torch.matmul, R(3, 4), R(4, 5), f32=True)
c('matmul_3d_3d', torch.matmul, R(2, 3, 4), R(2, 4, 5), f32=True)
c('matmul_bcast_batch', torch.matmul, R(2, 1, 3, 4), R(5, 4, 2), f32=True)
c('matmul_3d_2d', torch.matmul, R(2, 3, 4), R(4, 5))
c('matmul_2d_3d', torch.matmul, R(3, 4), R(2, 4, 5))
c('matmul_3d_1d', torch.matmul, R(2, 3, 4), R(4))
c('matmul_1d_3d', torch.matmul, R(3), R(2, 3, 4))
c('matmul_lhs_transposed', lambda a, b: a.t() @ b, R(4, 3), R(4, 5), f32=True)
c('matmul_rhs_transposed', lambda a, b: a @ b.t(), R(3, 4), R(5, 4))
c('matmul_both_transposed', lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2), R(2, 4, 3), R(2, 5, 4))
c('mm', torch.mm, R(3, 4), R(4, 2), f32=True)
c('mm_1x1', torch.mm, R(1, 1), R(1, 1))
c('matmul_empty_inner', torch.matmul, R(2, 0), R(0, 3))
c('bmm', torch.bmm, R(2, 3, 4), R(2, 4, 5), f32=True)
c('outer', torch.outer, R(3), R(4), f32=True)
c('dot', torch.dot, R(5), R(5), f32=True)

# ==================================================================== movement
c = family('movement')
c('reshape_23_32', lambda x: x.reshape(3, 2), R(2, 3))
c('reshape_infer', lambda x: x.reshape(-1, 4), R(2, 3, 4))
c('reshape_to_0d', lambda x: x.reshape(()), R(1, 1))
c('reshape_from_0d', lambda x: x.reshape(1, 1, 1), R())
c('view_234_64', lambda x: x.view(6, 4), R(2, 3, 4))
c('view_infer', lambda x: x.view(2, -1), R(2, 3, 4))
c('permute_201', lambda x: x.permute(2, 0, 1), R(2, 3, 4))
c('permute_neg', lambda x: x.permute(-1, -3, -2), R(2, 3, 4))
c('transpose_02', lambda x: x.transpose(0, 2), R(2, 3, 4))
c('transpose_neg', lambda x: x.transpose(-1, -2), R(2, 3, 4))
c('t', lambda x: x.t(), R(2, 3))
c('t_1d', lambda x: x.t(), R(3))
c('expand_31_34', lambda x: x.expand(3, 4), R(3, 1))
c('expand_new_dims', lambda x: x.expand(2, 3, 4), R(3, 1))
c('expand_keep_neg1', lambda x: x.expand(-1, 4), R(3, 1))
c('expand_0d', lambda x: x.expand(2, 3), R())
c('squeeze_all', lambda x: x.squeeze(), R(2, 1, 3, 1))
c('squeeze_dim1', lambda x: x.squeeze(1), R(2, 1, 3))
c('squeeze_dim_noop', lambda x: x.squeeze(0), R(2, 1, 3))
c('squeeze_neg', lambda x: x.squeeze(-1), R(2, 3, 1))
c('unsqueeze_0', lambda x: x.unsqueeze(0), R(2, 3))
c('unsqueeze_1', lambda x: x.unsqueeze(1), R(2, 3))
c('unsqueeze_neg1', lambda x: x.unsqueeze(-1), R(2, 3))
c('unsqueeze_0d', lambda x: x.unsqueeze(0), R())
c('flatten_all', lambda x: x.flatten(), R(2, 3, 4))
c('flatten_1_2', lambda x: x.flatten(1, 2), R(2, 3, 4, 2))
c('flatten_neg', lambda x: x.flatten(-2, -1), R(2, 3, 4))
c('flatten_0d', lambda x: x.flatten(), R())
c('narrow_dim0', lambda x: x.narrow(0, 1, 2), R(4, 3))
c('narrow_dim1', lambda x: x.narrow(1, 2, 3), R(2, 6))
c('narrow_neg_dim', lambda x: x.narrow(-1, 0, 1), R(2, 3, 4))
c('select_dim1', lambda x: x.select(1, 2), R(2, 3, 4))
c('select_neg_index', lambda x: x.select(0, -1), R(3, 4))
c('select_1d', lambda x: x.select(0, 1), R(3))
c('slice_step2', lambda x: x[:, 1:5:2], R(3, 6))
c('slice_step3_dim0', lambda x: x[::3], R(7, 2))
c('slice_neg_start', lambda x: x[:, -3:], R(2, 5))
c('slice_neg_end', lambda x: x[1:-1], R(5, 2))
c('slice_clamped', lambda x: x[:, 2:100], R(2, 4))
c('slice_empty', lambda x: x[:, 3:3], R(2, 4))
c('contiguous_after_permute', lambda x: x.permute(1, 0, 2).contiguous(), R(2, 3, 4))
c('contiguous_after_t_view', lambda x: x.t().contiguous().view(-1), R(2, 3))
c('cat_dim0', lambda a, b, c: torch.cat([a, b, c], 0), R(2, 3), R(1, 3), R(3, 3), f32=True)
c('cat_dim1', lambda a, b: torch.cat([a, b], 1), R(2, 1), R(2, 3))
c('cat_neg', lambda a, b: torch.cat([a, b], -1), R(2, 3, 2), R(2, 3, 1))
c('cat_single', lambda a: torch.cat([a], 0), R(2, 3))
c('cat_with_empty', lambda a, b: torch.cat([a, b], 0), R(2, 3), R(0, 3))
c('stack_dim0', lambda a, b, c: torch.stack([a, b, c], 0), R(2, 3), R(2, 3), R(2, 3))
c('stack_dim1', lambda a, b: torch.stack([a, b], 1), R(2, 3), R(2, 3))
c('stack_neg1', lambda a, b: torch.stack([a, b], -1), R(2, 3), R(2, 3))
c('stack_0d', lambda a, b: torch.stack([a, b]), R(), R())
c('split_int', lambda x: x.split(2, 0), R(5, 3))
c('split_list', lambda x: x.split([1, 3, 1], 0), R(5, 3))
c('split_dim1', lambda x: x.split(2, 1), R(2, 4))
c('chunk_3', lambda x: x.chunk(3, 0), R(7, 2))
c('chunk_dim1', lambda x: x.chunk(2, 1), R(2, 4))
c('chunk_uneven', lambda x: x.chunk(4, 0), R(6))
c('tril', lambda x: x.tril(), R(4, 4), f32=True)
c('tril_k1', lambda x: x.tril(1), R(4, 4))
c('tril_kneg1', lambda x: x.tril(-1), R(4, 4))
c('tril_rect', lambda x: x.tril(), R(3, 5))
c('tril_batched', lambda x: x.tril(), R(2, 3, 3))
c('triu', lambda x: x.triu(), R(4, 4), f32=True)
c('triu_k1', lambda x: x.triu(1), R(4, 4))
c('triu_kneg1', lambda x: x.triu(-1), R(4, 4))
c('triu_rect', lambda x: x.triu(), R(5, 3))

# ======================================================================= index
c = family('index')
c('gather_dim0', lambda x, i: x.gather(0, i), R(3, 4), I(3, 2, 4), f32=True)
c('gather_dim1', lambda x, i: x.gather(1, i), R(3, 4), I(4, 3, 5))
c('gather_small_index', lambda x, i: x.gather(1, i), R(3, 4), I(4, 2, 2))
c('gather_3d_neg', lambda x, i: x.gather(-1, i), R(2, 3, 4), I(4, 2, 3, 2))
# scatter with unique target positions (duplicates are nondeterministic)
c('scatter_dim0', lambda x, i, s: x.scatter(0, i, s), R(3, 4), T([[0, 1, 2, 0], [2, 0, 1, 1]], I64), R(2, 4))
c('scatter_dim1', lambda x, i, s: x.scatter(1, i, s), R(3, 4), T([[3, 0], [1, 2], [0, 3]], I64), R(3, 2))
c('scatter_value', lambda x, i: x.scatter(1, i, 2.5), R(3, 4), T([[3, 0], [1, 2], [0, 3]], I64))
c('scatter_add_dim0', lambda x, i, s: x.scatter_add(0, i, s), R(3, 4), I(3, 5, 4), R(5, 4), f32=True)
c('scatter_add_dim1', lambda x, i, s: x.scatter_add(1, i, s), R(2, 4), T([[0, 0, 3], [1, 1, 1]], I64), R(2, 3))
c('index_select_dim0', lambda x, i: x.index_select(0, i), R(4, 3), T([2, 0, 2, 3], I64))
c('index_select_dim1', lambda x, i: x.index_select(1, i), R(2, 5), T([4, 1], I64))
c('index_select_neg', lambda x, i: x.index_select(-1, i), R(2, 3, 4), T([0, 0, 3], I64))
c('index_select_1d', lambda x, i: x.index_select(0, i), R(5), T([1, 1, 4, 0], I64))

# ======================================================================= views
# composite checks: the op applies views / reuses leaves, TS mirrors exactly.
c = family('views')
c('t_exp', lambda x: x.t().exp(), R(2, 3))
c('permute_sum', lambda x: x.permute(2, 0, 1).sum(1), R(2, 3, 4), f32=True)
c('expand_mul', lambda x, y: x.expand(3, 2, 4) * y, R(2, 4), R(3, 2, 4))
c('transposed_add', lambda a, b: a.t() + b, R(3, 2), R(2, 3), f32=True)
c('slice_step_mul', lambda x, y: x[:, ::2] * y, R(3, 6), R(3, 3))
c('permute_reshape', lambda x: x.permute(1, 0, 2).reshape(3, 8).sin(), R(2, 3, 4))
c('t_matmul_self', lambda x: x.t() @ x, R(3, 2))
c('unsqueeze_expand_sum', lambda x: x.unsqueeze(0).expand(4, 2, 3).sum(0), R(2, 3))
c('narrow_of_transposed', lambda x: x.t().narrow(0, 1, 2).exp(), R(3, 4))
c('select_add', lambda x: x.select(1, 0) + x.select(1, 2), R(3, 4))
c('chain_view_permute_narrow', lambda x: x.view(2, 3, 4).permute(2, 1, 0).narrow(0, 1, 2).tanh(), R(6, 4))
c('leaf_reused_t_add', lambda x: x.t() + x, R(3, 3))
c('leaf_reused_mul', lambda x: x * x, R(2, 3))
c('diamond', lambda x: x.exp() * x.exp().sin(), R(2, 3))
c('split_cat_swap', lambda x: torch.cat(x.split([1, 2], 1)[::-1], 1), R(2, 3))
c('stack_of_views', lambda x: torch.stack([x.t(), x.t() * 2], 0), R(2, 3))
c('sum_of_chunks', lambda x: sum(x.chunk(3, 0)), R(6, 2))
c('broadcast_chain', lambda a, b, s: (a + b) * s - a / (b * b + 1), R(2, 1, 3), R(4, 1), R())
c('expand_then_contiguous', lambda x: x.expand(2, 3).contiguous().mul(x), R(1, 3))
c('softmax_transposed', lambda x: x.t().softmax(-1), R(3, 4))
c('mean_of_slice', lambda x: x[1:, ::2].mean(), R(3, 5))
c('gather_of_permuted', lambda x, i: x.permute(1, 0).gather(1, i), R(3, 4), I(3, 4, 2))
c('flatten_after_slice', lambda x: x[:, 1:3].flatten(), R(3, 4))
c('mlp', lambda x, w, b: torch.relu(x @ w + b).sum(-1), R(4, 3), R(3, 5), R(5))

# ================================================================ second order
c = family('second_order')
c('tanh', torch.tanh, R(2, 3), second=True)
c('sigmoid', torch.sigmoid, R(2, 3, scale=2.0), second=True)
c('exp', torch.exp, R(2, 3), second=True)
c('log', torch.log, P(2, 3), second=True)
c('sqrt', torch.sqrt, P(2, 3), second=True)
c('sin', torch.sin, R(2, 3), second=True)
c('cos', torch.cos, R(2, 3), second=True)
c('square', torch.square, R(2, 3), second=True)
c('softmax', lambda x: x.softmax(-1), R(3, 4), second=True)
c('softmax_dim0', lambda x: x.softmax(0), R(3, 4), second=True)
c('log_softmax', lambda x: x.log_softmax(-1), R(3, 4), second=True)
c('pow_scalar3', lambda x: x ** 3, R(2, 3), second=True)
c('pow_tensor', torch.pow, P(2, 3), R(2, 3), second=True)
c('mul', torch.mul, R(2, 3), R(2, 3), second=True)
c('div', torch.div, R(2, 3), NZ(2, 3), second=True)
c('div_bcast', torch.div, R(2, 3), NZ(3), second=True)
c('matmul', torch.matmul, R(3, 4), R(4, 2), second=True)
c('logsumexp', lambda x: x.logsumexp(1), R(3, 4), second=True)
c('tanh_mlp', lambda x, w: torch.tanh(x @ w).sum(-1), R(4, 3), R(3, 2), second=True)
c('norm', lambda x: x.norm(), R(2, 3), second=True)
c('reciprocal', torch.reciprocal, NZ(2, 3), second=True)
c('rsqrt', torch.rsqrt, P(2, 3), second=True)
c('atan2', torch.atan2, R(2, 3), R(2, 3), second=True)
c('var_dim1', lambda x: x.var(1), R(3, 4), second=True)
c('std_all', lambda x: x.std(), R(3, 4), second=True)
c('prod_dim1', lambda x: x.prod(1), R(3, 4), second=True)
c('mean_square', lambda x: (x * x).mean(0), R(3, 4), second=True)
c('where', lambda m, x, y: torch.where(m, x.sin(), y.exp()), B(2, 3), R(2, 3), R(2, 3), second=True)
c('gather_square', lambda x, i: x.gather(1, i).square(), R(3, 4), I(4, 3, 2), second=True)
c('broadcast_mul_sum', lambda a, b: (a * b).sum(0) * a.sum(0), R(2, 3), R(3), second=True)
c('mlp_relu_tanh', lambda x, w1, w2: torch.tanh(torch.relu(x @ w1) @ w2), R(4, 3), R(3, 5), R(5, 2), second=True)
c('cross_entropy_like', lambda x, t: -(x.log_softmax(-1) * t).sum(-1).mean(), R(4, 3), U(0.0, 1.0, 4, 3), grad=[True, False], second=True)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for fam, cases in FAMILIES.items():
        path = os.path.join(OUT_DIR, fam + '.json')
        body = ',\n'.join('%s: %s' % (json.dumps(n), s) for n, s in cases.items())
        text = '{\n' + body + '\n}\n'
        json.loads(text)  # sanity: valid JSON
        with open(path, 'w') as f:
            f.write(text)
        total += len(cases)
        print('%-14s %4d cases %8d bytes' % (fam + '.json', len(cases), len(text)))
    print('total %d cases' % total, file=sys.stderr)


if __name__ == '__main__':
    main()
