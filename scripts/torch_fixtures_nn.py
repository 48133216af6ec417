#!/usr/bin/env python3
"""Generate the PyTorch oracle fixtures for tensorgrad's nn package under test/fixtures/nn/.

Run with the Debian PyTorch (1.13):  /usr/bin/python3 scripts/torch_fixtures_nn.py
The output is deterministic: rerunning produces byte-identical files.  Python is only needed
to regenerate fixtures; the TypeScript tests (test/nn/*.test.ts) read the committed JSON.

Tensors are encoded as in scripts/torch_fixtures.py: {"shape", "dtype", "data"} with flat
row-major data, "nan"/"inf"/"-inf" strings, int64 recorded as "int32".

Families and case formats
-------------------------
activation.json, loss.json, functional.json -- functional cases::

    {"fn": name, "options": {...camelCase options...},
     "inputNames": [...], "inputs": [Tensor & {"requiresGrad"}],
     "outputs": [...], "gradOutputs": [Tensor | null], "grads": [Tensor | null]}

  ``grads[i]`` = d(sum_k <outputs[k], gradOutputs[k]>)/d inputs[i] (inputs with requiresGrad).

modules.json -- a module built from ``module``/``args``/``options``, loaded with ``state``
(tensorgrad state-dict names: running_mean -> runningMean), then run for each step::

    {"module", "args", "options", "state": {name: Tensor},
     "steps": [{"train": bool, "inputs", "outputs", "gradOutputs", "grads",
                "paramGrads": {name: Tensor}, "stateAfter": {name: Tensor}}]}

  Parameter gradients are zeroed before every step.

init.json -- ``{"seed", "call", "shape", "dtype", "options", "expected"}`` for an initialiser
applied to a fresh tensor right after ``torch.manual_seed(seed)``, or
``{"seed", "module", "args", "options", "expected": {name: Tensor}}`` for a module constructed
right after seeding (PyTorch's default initialisation).

Inputs are drawn from torch's generator seeded by crc32("<family>/<name>").
"""

import json
import warnings
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from fixture_encode import DTYPES, enc, enc_list, enc_map  # the shared JSON encoders (scripts/fixture_encode.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'nn')
warnings.filterwarnings('ignore')  # kl_div 'mean', conv 'same' notices: not part of the fixtures

F64 = torch.float64
F32 = torch.float32
I64 = torch.int64

# ---------------------------------------------------------------- encoding

def js(v):
    return json.dumps(v, sort_keys=True)


# ---------------------------------------------------------------- input specs

def R(*shape, scale=1.0):
    return lambda: torch.randn(shape, dtype=F64) * scale


def U(lo, hi, *shape):
    return lambda: torch.rand(shape, dtype=F64) * (hi - lo) + lo


def T(data, dtype=F64):
    return lambda: torch.tensor(data, dtype=dtype)


def I(high, *shape, lo=0):
    return lambda: torch.randint(lo, high, shape, dtype=I64)


def LOGP(*shape, dim=-1):
    return lambda: torch.randn(shape, dtype=F64).log_softmax(dim)


def PROB(*shape, dim=-1):
    return lambda: torch.randn(shape, dtype=F64).softmax(dim)


def Q(*shape):
    """integer-valued floats in {-2..2}: ties for max pooling"""
    return lambda: torch.randint(-2, 3, shape).to(F64)


def WITH(spec, index, value):
    """spec with x.view(-1)[index] = value (e.g. an ignored target)"""
    def make():
        x = spec()
        x.view(-1)[index] = value
        return x
    return make


# ------------------------------------------------------------------ registry

FAMILIES = {}


def seed(family, name, salt=''):
    torch.manual_seed(zlib.crc32(('%s/%s%s' % (family, name, salt)).encode()))


def as_list(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return list(out)


def record(fn, xs, req, gouts_f64=None):
    leaves = [x.clone().requires_grad_(r) for x, r in zip(xs, req)]
    outs = as_list(fn(*leaves))
    diff = [o.requires_grad for o in outs]
    if gouts_f64 is None:
        gouts_f64 = [torch.randn(o.shape, dtype=F64) if d else None for o, d in zip(outs, diff)]
    gouts = [g.to(o.dtype) if g is not None else None for g, o in zip(gouts_f64, outs)]
    grads = [None] * len(xs)
    wrt = [l for l, r in zip(leaves, req) if r]
    if wrt and any(diff):
        d_outs = [o for o, d in zip(outs, diff) if d]
        d_gouts = [g for g, d in zip(gouts, diff) if d]
        g1 = torch.autograd.grad(d_outs, wrt, d_gouts, allow_unused=True)
        g1 = [g if g is not None else torch.zeros_like(w) for g, w in zip(g1, wrt)]
        it = iter(g1)
        grads = [next(it) if r else None for r in req]
    parts = [
        '"inputs":[' + ','.join(enc(x, r) for x, r in zip(xs, req)) + ']',
        '"outputs":' + enc_list(outs),
        '"gradOutputs":' + enc_list(gouts),
        '"grads":' + enc_list(grads),
    ]
    return ','.join(parts), gouts_f64


def functional_family(fam):
    cases = FAMILIES.setdefault(fam, {})

    def case(name, fn_name, fn, inputs, options=None, f32=False):
        """inputs: [(input name, spec, requires grad)]; fn(named, options) -> output(s)."""
        assert name not in cases, name
        options = options or {}
        names = [n for n, _, _ in inputs]
        seed(fam, name)
        xs = [s() for _, s, _ in inputs]
        req = [bool(g) and x.is_floating_point() for (_, _, g), x in zip(inputs, xs)]

        def call(*leaves):
            return fn(dict(zip(names, leaves)), options)
        seed(fam, name, '#grad')
        body, gouts = record(call, xs, req)
        head = '"fn":%s,"options":%s,"inputNames":%s,' % (json.dumps(fn_name), js(options), json.dumps(names))
        cases[name] = '{' + head + body + '}'
        if f32:
            xs32 = [x.to(F32) if x.dtype == F64 else x for x in xs]
            body32, _ = record(call, xs32, req, gouts)
            cases[name + '_f32'] = '{' + head + body32 + '}'
    return case


def red(o):
    return o.get('reduction', 'mean')


# ================================================================= activations
c = functional_family('activation')
ACT = {
    'relu': lambda n, o: F.relu(n['x']),
    'relu6': lambda n, o: F.relu6(n['x']),
    'leaky_relu': lambda n, o: F.leaky_relu(n['x'], o.get('negativeSlope', 0.01)),
    'elu': lambda n, o: F.elu(n['x'], o.get('alpha', 1.0)),
    'gelu': lambda n, o: F.gelu(n['x'], approximate=o.get('approximate', 'none')),
    'silu': lambda n, o: F.silu(n['x']),
    'softplus': lambda n, o: F.softplus(n['x'], o.get('beta', 1), o.get('threshold', 20)),
    'logsigmoid': lambda n, o: F.logsigmoid(n['x']),
    'sigmoid': lambda n, o: torch.sigmoid(n['x']),
    'tanh': lambda n, o: torch.tanh(n['x']),
    'hardtanh': lambda n, o: F.hardtanh(n['x'], o.get('minVal', -1.0), o.get('maxVal', 1.0)),
    'softmax': lambda n, o: F.softmax(n['x'], o['dim']),
    'log_softmax': lambda n, o: F.log_softmax(n['x'], o['dim']),
    'erf': lambda n, o: torch.erf(n['x']),
}


def act(name, fn, spec, options=None, f32=False):
    c(name, fn, ACT[fn], [('x', spec, True)], options, f32)


act('relu', 'relu', R(3, 4, scale=2.0), f32=True)
act('relu_zero', 'relu', T([-1.0, 0.0, 2.0]))
act('relu6', 'relu6', R(3, 4, scale=4.0))
act('relu6_bounds', 'relu6', T([-1.0, 0.0, 3.0, 6.0, 7.0]))
act('leaky_relu', 'leaky_relu', R(3, 4, scale=2.0), f32=True)
act('leaky_relu_slope', 'leaky_relu', R(3, 4, scale=2.0), {'negativeSlope': 0.2})
act('leaky_relu_zero', 'leaky_relu', T([-1.0, 0.0, 2.0]), {'negativeSlope': 0.2})
act('elu', 'elu', R(3, 4, scale=2.0), f32=True)
act('elu_alpha', 'elu', R(3, 4, scale=2.0), {'alpha': 0.5})
act('elu_special', 'elu', T([-800.0, -1e-8, 0.0, 1e-8, 800.0]))
act('gelu', 'gelu', R(3, 4, scale=2.0), f32=True)
act('gelu_wide', 'gelu', T([-10.0, -6.0, -3.0, -1.25, -0.84375, -0.5, -1e-10, 0.0, 0.3, 0.9, 1.3, 2.9, 4.0, 7.0]))
act('gelu_tanh', 'gelu', R(3, 4, scale=2.0), {'approximate': 'tanh'}, f32=True)
act('gelu_tanh_wide', 'gelu', T([-12.0, -5.0, -1.0, 0.0, 1.0, 5.0, 12.0]), {'approximate': 'tanh'})
act('silu', 'silu', R(3, 4, scale=2.0), f32=True)
act('softplus', 'softplus', R(3, 4, scale=3.0), f32=True)
act('softplus_beta', 'softplus', R(3, 4, scale=3.0), {'beta': 2.0, 'threshold': 5.0})
act('softplus_threshold', 'softplus', T([-30.0, 0.0, 19.0, 20.0, 21.0, 1000.0]))
act('logsigmoid', 'logsigmoid', R(3, 4, scale=3.0))
act('logsigmoid_large', 'logsigmoid', T([-800.0, -30.0, 0.0, 30.0, 800.0]))
act('sigmoid', 'sigmoid', R(3, 4, scale=3.0))
act('tanh', 'tanh', R(3, 4, scale=2.0))
act('hardtanh', 'hardtanh', R(3, 4, scale=2.0), f32=True)
act('hardtanh_range', 'hardtanh', R(3, 4, scale=2.0), {'minVal': -2.0, 'maxVal': 0.5})
act('hardtanh_bounds', 'hardtanh', T([-2.0, -1.0, 0.0, 1.0, 2.0]))
act('softmax_dim1', 'softmax', R(3, 4), {'dim': 1}, f32=True)
act('softmax_dim0', 'softmax', R(3, 4), {'dim': 0})
act('softmax_3d', 'softmax', R(2, 3, 4), {'dim': -1})
act('log_softmax_dim1', 'log_softmax', R(3, 4), {'dim': 1}, f32=True)
act('log_softmax_dim0', 'log_softmax', R(3, 4), {'dim': 0})
act('log_softmax_large', 'log_softmax', R(3, 4, scale=1e4), {'dim': 1})
act('erf', 'erf', R(3, 4, scale=2.0), f32=True)
act('erf_wide', 'erf', T([-30.0, -5.9, -3.0, -2.8, -1.2, -0.8, -1e-12, 0.0, 1e-300, 0.5, 0.84, 0.85, 1.25, 2.86, 5.5, 6.5]))

# ====================================================================== losses
c = functional_family('loss')

LOSS = {
    'mse_loss': lambda n, o: F.mse_loss(n['input'], n['target'], reduction=red(o)),
    'l1_loss': lambda n, o: F.l1_loss(n['input'], n['target'], reduction=red(o)),
    'smooth_l1_loss': lambda n, o: F.smooth_l1_loss(n['input'], n['target'], reduction=red(o), beta=o.get('beta', 1.0)),
    'huber_loss': lambda n, o: F.huber_loss(n['input'], n['target'], reduction=red(o), delta=o.get('delta', 1.0)),
    'kl_div': lambda n, o: F.kl_div(n['input'], n['target'], reduction=red(o), log_target=o.get('logTarget', False)),
    'binary_cross_entropy': lambda n, o: F.binary_cross_entropy(n['input'], n['target'], weight=n.get('weight'), reduction=red(o)),
    'binary_cross_entropy_with_logits': lambda n, o: F.binary_cross_entropy_with_logits(
        n['input'], n['target'], weight=n.get('weight'), pos_weight=n.get('posWeight'), reduction=red(o)),
    'nll_loss': lambda n, o: F.nll_loss(n['input'], n['target'], weight=n.get('weight'),
                                        ignore_index=o.get('ignoreIndex', -100), reduction=red(o)),
    'cross_entropy': lambda n, o: F.cross_entropy(n['input'], n['target'], weight=n.get('weight'),
                                                  ignore_index=o.get('ignoreIndex', -100), reduction=red(o),
                                                  label_smoothing=o.get('labelSmoothing', 0.0)),
}


def loss(name, fn, inputs, options=None, f32=False):
    c(name, fn, LOSS[fn], inputs, options, f32)


REDS = ['mean', 'sum', 'none']
for r in REDS:
    loss('mse_%s' % r, 'mse_loss', [('input', R(3, 4), True), ('target', R(3, 4), True)], {'reduction': r}, f32=(r == 'mean'))
    loss('l1_%s' % r, 'l1_loss', [('input', R(3, 4), True), ('target', R(3, 4), True)], {'reduction': r}, f32=(r == 'mean'))
    for beta in [1.0, 0.5, 0.0]:
        loss('smooth_l1_%s_beta%s' % (r, beta), 'smooth_l1_loss',
             [('input', R(3, 4, scale=1.5), True), ('target', R(3, 4), True)], {'reduction': r, 'beta': beta})
    for delta in [1.0, 0.5, 2.0]:
        loss('huber_%s_delta%s' % (r, delta), 'huber_loss',
             [('input', R(3, 4, scale=1.5), True), ('target', R(3, 4), True)], {'reduction': r, 'delta': delta})
loss('mse_0d', 'mse_loss', [('input', R(), True), ('target', R(), True)])
loss('l1_tie', 'l1_loss', [('input', T([1.0, 2.0, 3.0]), True), ('target', T([1.0, 0.0, 3.5]), True)])

for r in REDS + ['batchmean']:
    loss('kl_div_%s' % r, 'kl_div', [('input', LOGP(3, 4), True), ('target', PROB(3, 4), True)], {'reduction': r})
    loss('kl_div_log_target_%s' % r, 'kl_div', [('input', LOGP(3, 4), True), ('target', LOGP(3, 4), True)],
         {'reduction': r, 'logTarget': True})
loss('kl_div_zero_target', 'kl_div', [('input', LOGP(2, 3), True), ('target', T([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]), False)],
     {'reduction': 'sum'})
loss('kl_div_1d_batchmean', 'kl_div', [('input', LOGP(5), True), ('target', PROB(5), True)], {'reduction': 'batchmean'})

for r in REDS:
    loss('bce_%s' % r, 'binary_cross_entropy', [('input', U(0.05, 0.95, 3, 4), True), ('target', U(0, 1, 3, 4), True)],
         {'reduction': r}, f32=(r == 'mean'))
    loss('bce_weight_%s' % r, 'binary_cross_entropy',
         [('input', U(0.05, 0.95, 3, 4), True), ('target', U(0, 1, 3, 4), True), ('weight', U(0.5, 2, 3, 4), False)], {'reduction': r})
    for w in [False, True]:
        for pw in [False, True]:
            ins = [('input', R(3, 4, scale=2.0), True), ('target', U(0, 1, 3, 4), True)]
            if w:
                ins.append(('weight', U(0.5, 2, 4), False))
            if pw:
                ins.append(('posWeight', U(0.5, 3, 4), False))
            loss('bce_logits_%s%s%s' % (r, '_w' if w else '', '_pw' if pw else ''), 'binary_cross_entropy_with_logits', ins, {'reduction': r})
loss('bce_edges', 'binary_cross_entropy', [('input', T([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5]), True),
                                           ('target', T([0.0, 1.0, 1.0, 0.0, 1.0, 0.5]), False)], {'reduction': 'none'})
loss('bce_logits_large', 'binary_cross_entropy_with_logits',
     [('input', T([1e4, -1e4, 1e4, -1e4, 0.0, 50.0]), True), ('target', T([0.0, 1.0, 1.0, 0.0, 0.5, 0.3]), True)],
     {'reduction': 'none'})
loss('bce_logits_large_pw', 'binary_cross_entropy_with_logits',
     [('input', T([1e4, -1e4, 1e4, -1e4, 0.0, 50.0]), True), ('target', T([0.0, 1.0, 1.0, 0.0, 0.5, 0.3]), True),
      ('posWeight', T([2.0, 0.5, 3.0, 1.0, 2.0, 0.2]), False)], {'reduction': 'sum'})

for r in REDS:
    for w in [False, True]:
        for ig in [None, 1]:
            ins = [('input', LOGP(5, 4), True), ('target', WITH(I(4, 5), 2, 1) if ig is not None else I(4, 5), False)]
            if w:
                ins.append(('weight', U(0.5, 2, 4), False))
            opts = {'reduction': r}
            if ig is not None:
                opts['ignoreIndex'] = ig
            suffix = ('_w' if w else '') + ('_ig' if ig is not None else '')
            loss('nll_%s%s' % (r, suffix), 'nll_loss', ins, opts, f32=(r == 'mean' and not w and ig is None))
    loss('nll_kdim_%s' % r, 'nll_loss', [('input', LOGP(2, 3, 4, dim=1), True), ('target', WITH(I(3, 2, 4), 1, 2), False),
                                        ('weight', U(0.5, 2, 3), False)], {'reduction': r, 'ignoreIndex': 2})
    loss('nll_4d_%s' % r, 'nll_loss', [('input', LOGP(2, 3, 2, 2, dim=1), True), ('target', I(3, 2, 2, 2), False)], {'reduction': r})
    loss('nll_unbatched_%s' % r, 'nll_loss', [('input', LOGP(4), True), ('target', T(2, dtype=I64), False),
                                             ('weight', U(0.5, 2, 4), False)], {'reduction': r})
loss('nll_all_ignored', 'nll_loss', [('input', LOGP(3, 4), True), ('target', T([-100, -100, -100], dtype=I64), False)])
loss('nll_ignore_out_of_range', 'nll_loss', [('input', LOGP(3, 4), True), ('target', T([7, 0, 3], dtype=I64), False)],
     {'ignoreIndex': 7})

for r in REDS:
    for w in [False, True]:
        for ig in [None, 0]:
            for ls in [0.0, 0.1]:
                ins = [('input', R(5, 4, scale=2.0), True), ('target', WITH(I(4, 5), 3, 0) if ig is not None else I(4, 5), False)]
                if w:
                    ins.append(('weight', U(0.5, 2, 4), False))
                opts = {'reduction': r}
                if ig is not None:
                    opts['ignoreIndex'] = ig
                if ls:
                    opts['labelSmoothing'] = ls
                suffix = ('_w' if w else '') + ('_ig' if ig is not None else '') + ('_ls' if ls else '')
                loss('ce_%s%s' % (r, suffix), 'cross_entropy', ins, opts, f32=(r == 'mean' and not w and ig is None and not ls))
    loss('ce_kdim_%s' % r, 'cross_entropy', [('input', R(2, 3, 4), True), ('target', WITH(I(3, 2, 4), 5, 1), False),
                                            ('weight', U(0.5, 2, 3), False)], {'reduction': r, 'ignoreIndex': 1, 'labelSmoothing': 0.2})
    loss('ce_unbatched_%s' % r, 'cross_entropy', [('input', R(4), True), ('target', T(1, dtype=I64), False),
                                                 ('weight', U(0.5, 2, 4), False)], {'reduction': r, 'labelSmoothing': 0.3})
    for w in [False, True]:
        for ls in [0.0, 0.2]:
            ins = [('input', R(3, 4, scale=2.0), True), ('target', PROB(3, 4), True)]
            if w:
                ins.append(('weight', U(0.5, 2, 4), False))
            opts = {'reduction': r}
            if ls:
                opts['labelSmoothing'] = ls
            loss('ce_prob_%s%s%s' % (r, '_w' if w else '', '_ls' if ls else ''), 'cross_entropy', ins, opts)
    loss('ce_prob_kdim_%s' % r, 'cross_entropy', [('input', R(2, 3, 4), True), ('target', PROB(2, 3, 4, dim=1), True)],
         {'reduction': r, 'labelSmoothing': 0.1})
loss('ce_large_logits', 'cross_entropy', [('input', T([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]]), True), ('target', T([1, 1], dtype=I64), False)],
     {'labelSmoothing': 0.1})
loss('ce_prob_large_logits', 'cross_entropy', [('input', T([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]]), True),
                                               ('target', T([[0.2, 0.3, 0.5], [0.0, 0.0, 1.0]]), True)])
loss('ce_all_ignored_ls', 'cross_entropy', [('input', R(2, 3), True), ('target', T([-100, -100], dtype=I64), False)],
     {'labelSmoothing': 0.1})

# ================================================================== functional
c = functional_family('functional')


def bn_fn(n, o):
    rm = n['runningMean'].detach().clone() if 'runningMean' in n else None
    rv = n['runningVar'].detach().clone() if 'runningVar' in n else None
    y = F.batch_norm(n['input'], rm, rv, n.get('weight'), n.get('bias'), training=o.get('training', False),
                     momentum=o.get('momentum', 0.1), eps=o.get('eps', 1e-5))
    return [y] + [t for t in (rm, rv) if t is not None]


def pad_fn(n, o):
    mode = o.get('mode', 'constant')
    if mode == 'constant':
        return F.pad(n['input'], o['pad'], mode, o.get('value', 0.0))
    return F.pad(n['input'], o['pad'], mode)


def conv_fn(n, o):
    return F.conv2d(n['input'], n['weight'], n.get('bias'), stride=o.get('stride', 1), padding=o.get('padding', 0),
                    dilation=o.get('dilation', 1), groups=o.get('groups', 1))


FUN = {
    'linear': lambda n, o: F.linear(n['input'], n['weight'], n.get('bias')),
    'conv2d': conv_fn,
    'max_pool2d': lambda n, o: F.max_pool2d(n['input'], o['kernelSize'], o.get('stride'), o.get('padding', 0),
                                            o.get('dilation', 1), o.get('ceilMode', False)),
    'avg_pool2d': lambda n, o: F.avg_pool2d(n['input'], o['kernelSize'], o.get('stride'), o.get('padding', 0),
                                            o.get('ceilMode', False), o.get('countIncludePad', True), o.get('divisorOverride')),
    'pad': pad_fn,
    'unfold': lambda n, o: F.unfold(n['input'], o['kernelSize'], o.get('dilation', 1), o.get('padding', 0), o.get('stride', 1)),
    'embedding': lambda n, o: F.embedding(n['input'], n['weight'], o.get('paddingIdx')),
    'batch_norm': bn_fn,
    'layer_norm': lambda n, o: F.layer_norm(n['input'], o['normalizedShape'], n.get('weight'), n.get('bias'), o.get('eps', 1e-5)),
    'one_hot': lambda n, o: F.one_hot(n['input'], o.get('numClasses', -1)),
    'dropout': lambda n, o: F.dropout(n['input'], o.get('p', 0.5), o.get('training', True)),
}


def fun(name, fn, inputs, options=None, f32=False):
    c(name, fn, FUN[fn], inputs, options, f32)


fun('linear', 'linear', [('input', R(2, 3), True), ('weight', R(4, 3), True), ('bias', R(4), True)], f32=True)
fun('linear_nobias', 'linear', [('input', R(2, 3), True), ('weight', R(4, 3), True)])
fun('linear_3d', 'linear', [('input', R(2, 5, 3), True), ('weight', R(4, 3), True), ('bias', R(4), True)])
fun('linear_1d', 'linear', [('input', R(3), True), ('weight', R(4, 3), True), ('bias', R(4), True)])

CONV = [
    ('conv_basic', (2, 3, 5, 5), (4, 3, 3, 3), True, {}),
    ('conv_stride2', (2, 3, 7, 6), (4, 3, 3, 3), True, {'stride': 2}),
    ('conv_pad1', (1, 2, 4, 5), (3, 2, 3, 3), True, {'padding': 1}),
    ('conv_pad_rect', (1, 2, 4, 5), (3, 2, 2, 3), True, {'padding': [1, 2]}),
    ('conv_stride_rect', (1, 2, 6, 7), (3, 2, 3, 2), False, {'stride': [2, 1], 'padding': [0, 1]}),
    ('conv_dilation2', (1, 2, 7, 7), (3, 2, 3, 3), True, {'dilation': 2}),
    ('conv_dilation_pad_stride', (2, 2, 8, 7), (3, 2, 3, 3), True, {'dilation': [2, 1], 'padding': 2, 'stride': 2}),
    ('conv_groups2', (2, 4, 5, 5), (6, 2, 3, 3), True, {'groups': 2}),
    ('conv_depthwise', (1, 3, 5, 5), (3, 1, 3, 3), False, {'groups': 3, 'padding': 1}),
    ('conv_groups_stride_dil', (1, 4, 9, 9), (4, 2, 3, 3), True, {'groups': 2, 'stride': 2, 'dilation': 2, 'padding': 1}),
    ('conv_1x1', (2, 3, 4, 4), (5, 3, 1, 1), True, {}),
    ('conv_same_odd', (1, 2, 5, 6), (3, 2, 3, 3), True, {'padding': 'same'}),
    ('conv_same_even', (1, 2, 5, 6), (3, 2, 4, 2), True, {'padding': 'same'}),
    ('conv_same_dilated', (1, 2, 6, 6), (2, 2, 2, 3), False, {'padding': 'same', 'dilation': [3, 2]}),
    ('conv_valid', (1, 2, 5, 6), (3, 2, 3, 3), True, {'padding': 'valid'}),
    ('conv_unbatched', (3, 5, 5), (2, 3, 3, 3), True, {'padding': 1}),
]
for name, xs, ws, bias, opts in CONV:
    ins = [('input', R(*xs), True), ('weight', R(*ws), True)]
    if bias:
        ins.append(('bias', R(ws[0]), True))
    fun(name, 'conv2d', ins, opts, f32=(name == 'conv_basic'))

MAXPOOL = [
    ('maxpool_k2', (2, 2, 4, 4), {'kernelSize': 2}),
    ('maxpool_k3_s2_p1', (1, 2, 7, 6), {'kernelSize': 3, 'stride': 2, 'padding': 1}),
    ('maxpool_dilation', (1, 2, 7, 7), {'kernelSize': 2, 'stride': 1, 'dilation': 2}),
    ('maxpool_ceil', (1, 2, 5, 5), {'kernelSize': 2, 'stride': 2, 'ceilMode': True}),
    ('maxpool_ceil_pad', (1, 1, 6, 7), {'kernelSize': 3, 'stride': 2, 'padding': 1, 'ceilMode': True}),
    ('maxpool_rect', (1, 2, 5, 6), {'kernelSize': [2, 3], 'stride': [1, 2]}),
    ('maxpool_unbatched', (2, 4, 4), {'kernelSize': 2}),
]
for name, xs, opts in MAXPOOL:
    fun(name, 'max_pool2d', [('input', R(*xs), True)], opts, f32=(name == 'maxpool_k2'))
fun('maxpool_ties', 'max_pool2d', [('input', Q(1, 2, 5, 5), True)], {'kernelSize': 3, 'stride': 1, 'padding': 1})

AVGPOOL = [
    ('avgpool_k2', (2, 2, 4, 4), {'kernelSize': 2}),
    ('avgpool_k3_s2_p1', (1, 2, 7, 6), {'kernelSize': 3, 'stride': 2, 'padding': 1}),
    ('avgpool_k3_s2_p1_nopad', (1, 2, 7, 6), {'kernelSize': 3, 'stride': 2, 'padding': 1, 'countIncludePad': False}),
    ('avgpool_ceil', (1, 2, 5, 5), {'kernelSize': 2, 'stride': 2, 'ceilMode': True}),
    ('avgpool_ceil_pad', (1, 1, 6, 7), {'kernelSize': 3, 'stride': 2, 'padding': 1, 'ceilMode': True}),
    ('avgpool_ceil_pad_nocount', (1, 1, 6, 7), {'kernelSize': 3, 'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False}),
    ('avgpool_divisor', (1, 2, 5, 5), {'kernelSize': 3, 'stride': 2, 'padding': 1, 'divisorOverride': 4}),
    ('avgpool_rect', (1, 2, 5, 6), {'kernelSize': [2, 3], 'stride': [1, 2]}),
    ('avgpool_unbatched', (2, 4, 4), {'kernelSize': 2}),
]
for name, xs, opts in AVGPOOL:
    fun(name, 'avg_pool2d', [('input', R(*xs), True)], opts, f32=(name == 'avgpool_k2'))

fun('pad_constant', 'pad', [('input', R(2, 3), True)], {'pad': [1, 2]})
fun('pad_constant_value', 'pad', [('input', R(2, 3, 4), True)], {'pad': [1, 0, 2, 1, 0, 1], 'value': 1.5})
fun('pad_negative', 'pad', [('input', R(3, 5), True)], {'pad': [-1, 2, 1, -2]})
fun('pad_reflect', 'pad', [('input', R(1, 2, 4), True)], {'pad': [2, 3], 'mode': 'reflect'})
fun('pad_reflect_2d', 'pad', [('input', R(1, 2, 3, 4), True)], {'pad': [1, 2, 2, 1], 'mode': 'reflect'})
fun('pad_replicate', 'pad', [('input', R(2, 3, 4), True)], {'pad': [2, 1, 0, 3], 'mode': 'replicate'})
fun('pad_circular', 'pad', [('input', R(1, 2, 3, 4), True)], {'pad': [1, 3, 2, 0], 'mode': 'circular'})

fun('unfold_k2', 'unfold', [('input', R(2, 2, 3, 4), True)], {'kernelSize': 2})
fun('unfold_k3_p1_d2_s2', 'unfold', [('input', R(1, 2, 6, 5), True)], {'kernelSize': 3, 'padding': 1, 'dilation': 2, 'stride': 2})

fun('embedding', 'embedding', [('input', I(5, 2, 3), False), ('weight', R(5, 4), True)])
fun('embedding_padding', 'embedding', [('input', T([[0, 2, 1], [2, 2, 4]], dtype=I64), False), ('weight', R(5, 3), True)],
    {'paddingIdx': 2})
fun('embedding_padding_negative', 'embedding', [('input', T([4, 1, 4, 0], dtype=I64), False), ('weight', R(5, 3), True)],
    {'paddingIdx': -1})

BN = [
    ('bn_train_2d', (6, 3), {'training': True}, True, True),
    ('bn_train_3d', (4, 3, 5), {'training': True, 'momentum': 0.3}, True, True),
    ('bn_train_4d', (2, 3, 2, 3), {'training': True, 'eps': 1e-3}, True, True),
    ('bn_eval', (4, 3, 2), {'training': False}, True, True),
    ('bn_train_no_stats', (5, 3), {'training': True}, False, True),
    ('bn_train_no_affine', (5, 3), {'training': True}, True, False),
]
for name, xs, opts, stats, affine in BN:
    ins = [('input', R(*xs, scale=2.0), True)]
    if affine:
        ins += [('weight', U(0.5, 1.5, 3), True), ('bias', R(3), True)]
    if stats:
        ins += [('runningMean', R(3), False), ('runningVar', U(0.5, 2, 3), False)]
    fun(name, 'batch_norm', ins, opts, f32=(name == 'bn_train_2d'))

fun('layer_norm', 'layer_norm', [('input', R(2, 3, 4, scale=2.0), True), ('weight', U(0.5, 1.5, 4), True), ('bias', R(4), True)],
    {'normalizedShape': [4]}, f32=True)
fun('layer_norm_2dims', 'layer_norm', [('input', R(2, 3, 4), True), ('weight', R(3, 4), True), ('bias', R(3, 4), True)],
    {'normalizedShape': [3, 4], 'eps': 1e-3})
fun('layer_norm_no_affine', 'layer_norm', [('input', R(5, 6), True)], {'normalizedShape': [6]})

fun('one_hot', 'one_hot', [('input', T([0, 3, 1, 3], dtype=I64), False)], {'numClasses': 5})
fun('one_hot_infer', 'one_hot', [('input', T([[0, 2], [1, 0]], dtype=I64), False)])
fun('dropout_p0', 'dropout', [('input', R(3, 4), True)], {'p': 0.0, 'training': True})
fun('dropout_eval', 'dropout', [('input', R(3, 4), True)], {'p': 0.5, 'training': False})

# ===================================================================== modules
MODULES = {}


def camel(name):
    parts = name.split('_')
    return parts[0] + ''.join(p[:1].upper() + p[1:] for p in parts[1:])


def ts_key(k):
    return '.'.join(camel(p) for p in k.split('.'))


def module_case(name, make, module, args, options, steps, init=None):
    """steps: [(train, [input specs])]; params and float buffers are set from seeded randoms."""
    assert name not in MODULES, name
    seed('modules', name)
    m = make()
    with torch.no_grad():
        for k, p in m.named_parameters():
            p.copy_(torch.randn(p.shape, dtype=F64))
        if init:
            init(m)
    state = {ts_key(k): v.detach().clone() for k, v in m.state_dict().items()}
    out_steps = []
    for i, (train, specs) in enumerate(steps):
        seed('modules', name, '#%d' % i)
        xs = [s() for s in specs]
        m.train(train)
        m.zero_grad(set_to_none=True)
        leaves = [x.clone().requires_grad_(x.is_floating_point()) for x in xs]
        outs = as_list(m(*leaves))
        gouts = [torch.randn(o.shape, dtype=F64) for o in outs]
        torch.autograd.backward(outs, gouts)
        grads = [l.grad if l.requires_grad else None for l in leaves]
        pgrads = {ts_key(k): (p.grad if p.grad is not None else torch.zeros_like(p)) for k, p in m.named_parameters()}
        after = {ts_key(k): v.detach().clone() for k, v in m.state_dict().items()}
        out_steps.append('{"train":%s,"inputs":[%s],"outputs":%s,"gradOutputs":%s,"grads":%s,"paramGrads":%s,"stateAfter":%s}' % (
            'true' if train else 'false', ','.join(enc(x, x.is_floating_point()) for x in xs), enc_list(outs), enc_list(gouts),
            enc_list(grads), enc_map(pgrads), enc_map(after)))
    MODULES[name] = '{"module":%s,"args":%s,"options":%s,"state":%s,"steps":[%s]}' % (
        json.dumps(module), json.dumps(args), js(options), enc_map(state), ','.join(out_steps))


def positive_var(m):
    m.running_var.copy_(torch.rand(m.running_var.shape, dtype=F64) + 0.5)
    m.running_mean.copy_(torch.randn(m.running_mean.shape, dtype=F64))


module_case('linear', lambda: nn.Linear(4, 3).double(), 'Linear', [4, 3], {}, [(True, [R(2, 4)])])
module_case('linear_nobias', lambda: nn.Linear(4, 3, bias=False).double(), 'Linear', [4, 3], {'bias': False}, [(True, [R(5, 4)])])
module_case('conv2d', lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1).double(), 'Conv2d', [2, 3, 3],
            {'stride': 2, 'padding': 1}, [(True, [R(2, 2, 5, 5)])])
for mode in ['reflect', 'replicate', 'circular']:
    module_case('conv2d_%s' % mode, lambda mode=mode: nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode=mode).double(), 'Conv2d',
                [2, 2, 3], {'padding': [1, 2], 'paddingMode': mode}, [(True, [R(1, 2, 4, 5)])])
module_case('conv2d_same_reflect', lambda: nn.Conv2d(2, 2, (2, 3), padding='same', padding_mode='reflect').double(), 'Conv2d',
            [2, 2, [2, 3]], {'padding': 'same', 'paddingMode': 'reflect'}, [(True, [R(1, 2, 4, 5)])])
module_case('conv2d_groups_nobias', lambda: nn.Conv2d(4, 2, 2, groups=2, bias=False, dilation=2).double(), 'Conv2d', [4, 2, 2],
            {'groups': 2, 'bias': False, 'dilation': 2}, [(True, [R(2, 4, 5, 5)])])
module_case('maxpool2d', lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), 'MaxPool2d', [3],
            {'stride': 2, 'padding': 1, 'ceilMode': True}, [(True, [R(1, 2, 6, 6)])])
module_case('avgpool2d', lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), 'AvgPool2d', [3],
            {'stride': 2, 'padding': 1, 'countIncludePad': False}, [(True, [R(1, 2, 6, 6)])])
BN_STEPS = [(True, [R(6, 3, scale=2.0)]), (True, [R(6, 3, scale=2.0)]), (False, [R(4, 3)])]
module_case('batchnorm1d', lambda: nn.BatchNorm1d(3).double(), 'BatchNorm1d', [3], {}, BN_STEPS, init=positive_var)
module_case('batchnorm1d_3d', lambda: nn.BatchNorm1d(3, momentum=0.25).double(), 'BatchNorm1d', [3], {'momentum': 0.25},
            [(True, [R(4, 3, 5)]), (False, [R(2, 3, 5)])], init=positive_var)
module_case('batchnorm1d_cumulative', lambda: nn.BatchNorm1d(3, momentum=None).double(), 'BatchNorm1d', [3], {'momentum': None},
            BN_STEPS, init=positive_var)
module_case('batchnorm1d_no_stats', lambda: nn.BatchNorm1d(3, track_running_stats=False).double(), 'BatchNorm1d', [3],
            {'trackRunningStats': False}, [(True, [R(6, 3)]), (False, [R(4, 3)])])
module_case('batchnorm1d_no_affine', lambda: nn.BatchNorm1d(3, affine=False).double(), 'BatchNorm1d', [3], {'affine': False},
            [(True, [R(6, 3)]), (False, [R(4, 3)])], init=positive_var)
module_case('batchnorm2d', lambda: nn.BatchNorm2d(3, eps=1e-3).double(), 'BatchNorm2d', [3], {'eps': 1e-3},
            [(True, [R(2, 3, 3, 2, scale=2.0)]), (True, [R(2, 3, 3, 2)]), (False, [R(1, 3, 2, 2)])], init=positive_var)
module_case('layernorm', lambda: nn.LayerNorm([3, 4]).double(), 'LayerNorm', [[3, 4]], {}, [(True, [R(2, 3, 4, scale=2.0)])])
module_case('embedding_padding', lambda: nn.Embedding(6, 3, padding_idx=1).double(), 'Embedding', [6, 3], {'paddingIdx': 1},
            [(True, [T([[1, 2, 1], [5, 1, 0]], dtype=I64)])])
module_case('sequential_mlp', lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2), nn.GELU()).double(), 'MLP', [], {},
            [(True, [R(3, 4)])])

# ======================================================================== init
INIT = {}


def init_case(name, call, shape, dtype, options, fn, seed_value=0):
    assert name not in INIT, name
    torch.manual_seed(seed_value)
    t = torch.empty(shape, dtype=dtype)
    fn(t)
    INIT[name] = '{"seed":%d,"call":%s,"shape":%s,"dtype":"%s","options":%s,"expected":%s}' % (
        seed_value, json.dumps(call), json.dumps(list(shape)), DTYPES[dtype], js(options), enc(t))


def init_module(name, module, args, options, make, seed_value=0):
    assert name not in INIT, name
    torch.manual_seed(seed_value)
    m = make()
    sd = {ts_key(k): v for k, v in m.state_dict().items()}
    INIT[name] = '{"seed":%d,"module":%s,"args":%s,"options":%s,"expected":%s}' % (
        seed_value, json.dumps(module), json.dumps(args), js(options), enc_map(sd))


init = nn.init
for dt, tag in [(F32, 'f32'), (F64, 'f64')]:
    init_case('uniform_%s' % tag, 'uniform_', (3, 5), dt, {'a': -0.3, 'b': 0.7}, lambda t: init.uniform_(t, -0.3, 0.7), 1)
    init_case('normal_small_%s' % tag, 'normal_', (3, 4), dt, {'mean': 0.5, 'std': 2.0}, lambda t: init.normal_(t, 0.5, 2.0), 2)
    init_case('normal_large_%s' % tag, 'normal_', (5, 7), dt, {'mean': -1.0, 'std': 0.5}, lambda t: init.normal_(t, -1.0, 0.5), 3)
    init_case('xavier_uniform_%s' % tag, 'xavier_uniform_', (4, 6), dt, {'gain': 1.5}, lambda t: init.xavier_uniform_(t, 1.5), 4)
    init_case('xavier_normal_%s' % tag, 'xavier_normal_', (4, 3, 2, 2), dt, {}, init.xavier_normal_, 5)
    init_case('kaiming_uniform_%s' % tag, 'kaiming_uniform_', (5, 3), dt, {}, init.kaiming_uniform_, 6)
    init_case('kaiming_uniform_relu_fan_out_%s' % tag, 'kaiming_uniform_', (4, 3, 3, 3), dt,
              {'mode': 'fan_out', 'nonlinearity': 'relu'}, lambda t: init.kaiming_uniform_(t, mode='fan_out', nonlinearity='relu'), 7)
    init_case('kaiming_uniform_a_%s' % tag, 'kaiming_uniform_', (6, 4), dt, {'a': 0.2},
              lambda t: init.kaiming_uniform_(t, a=0.2), 8)
    init_case('kaiming_normal_%s' % tag, 'kaiming_normal_', (6, 5), dt, {'nonlinearity': 'relu'},
              lambda t: init.kaiming_normal_(t, nonlinearity='relu'), 9)
    init_case('kaiming_normal_tanh_fan_out_%s' % tag, 'kaiming_normal_', (2, 3), dt, {'mode': 'fan_out', 'nonlinearity': 'tanh'},
              lambda t: init.kaiming_normal_(t, mode='fan_out', nonlinearity='tanh'), 10)
    init_case('orthogonal_tall_%s' % tag, 'orthogonal_', (6, 3), dt, {}, init.orthogonal_, 11)
    init_case('orthogonal_wide_%s' % tag, 'orthogonal_', (3, 5), dt, {'gain': 2.0}, lambda t: init.orthogonal_(t, 2.0), 12)
    init_case('orthogonal_conv_%s' % tag, 'orthogonal_', (4, 2, 2, 2), dt, {}, init.orthogonal_, 13)
    init_case('trunc_normal_%s' % tag, 'trunc_normal_', (4, 5), dt, {}, init.trunc_normal_, 14)
    init_case('trunc_normal_args_%s' % tag, 'trunc_normal_', (3, 6), dt, {'mean': 0.5, 'std': 0.3, 'a': 0.2, 'b': 1.5},
              lambda t: init.trunc_normal_(t, 0.5, 0.3, 0.2, 1.5), 15)
init_case('constant_', 'constant_', (2, 3), F32, {'value': 0.25}, lambda t: init.constant_(t, 0.25))
init_case('zeros_', 'zeros_', (2, 3), F32, {}, init.zeros_)
init_case('ones_', 'ones_', (2, 3), F64, {}, init.ones_)
init_case('eye_', 'eye_', (3, 4), F32, {}, init.eye_)

init_module('linear_4_3', 'Linear', [4, 3], {}, lambda: nn.Linear(4, 3))
init_module('linear_4_3_seed7', 'Linear', [4, 3], {}, lambda: nn.Linear(4, 3), 7)
init_module('linear_3_5_nobias', 'Linear', [3, 5], {'bias': False}, lambda: nn.Linear(3, 5, bias=False), 1)
init_module('linear_f64', 'Linear', [6, 2], {'dtype': 'float64'}, lambda: nn.Linear(6, 2, dtype=F64), 2)
init_module('conv2d', 'Conv2d', [3, 4, 3], {}, lambda: nn.Conv2d(3, 4, 3), 3)
init_module('conv2d_groups', 'Conv2d', [4, 6, [2, 3]], {'groups': 2}, lambda: nn.Conv2d(4, 6, (2, 3), groups=2), 4)
init_module('embedding_large', 'Embedding', [10, 3], {}, lambda: nn.Embedding(10, 3), 5)
init_module('embedding_padding', 'Embedding', [3, 2], {'paddingIdx': 1}, lambda: nn.Embedding(3, 2, padding_idx=1), 6)
init_module('embedding_f64', 'Embedding', [4, 5], {'dtype': 'float64'}, lambda: nn.Embedding(4, 5, dtype=F64), 7)
init_module('batchnorm2d', 'BatchNorm2d', [3], {}, lambda: nn.BatchNorm2d(3), 8)
init_module('layernorm', 'LayerNorm', [[2, 3]], {}, lambda: nn.LayerNorm([2, 3]), 9)
init_module('sequential_mlp', 'MLP', [], {}, lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2), nn.GELU()), 10)


def write(name, cases):
    path = os.path.join(OUT_DIR, name + '.json')
    body = ',\n'.join('%s: %s' % (json.dumps(n), s) for n, s in cases.items())
    text = '{\n' + body + '\n}\n'
    json.loads(text)  # sanity: valid JSON
    with open(path, 'w') as f:
        f.write(text)
    print('%-16s %4d cases %8d bytes' % (name + '.json', len(cases), len(text)))
    return len(cases)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = sum(write(fam, cases) for fam, cases in FAMILIES.items())
    total += write('modules', MODULES)
    total += write('init', INIT)
    print('total %d cases' % total, file=sys.stderr)


if __name__ == '__main__':
    main()
