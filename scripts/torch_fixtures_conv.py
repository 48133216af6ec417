#!/usr/bin/env python3
"""Generate PyTorch oracle fixtures for tensorgrad's sliding-window ops under test/fixtures/conv/.

Run with the Debian PyTorch (1.13):  /usr/bin/python3 scripts/torch_fixtures_conv.py
The output is deterministic: rerunning produces byte-identical files.  The TypeScript test
(test/nn/conv-fast.test.ts) reads the committed JSON.

conv.json maps a case name to::

    {"fn": "unfold" | "fold" | "conv2d" | "max_pool2d_with_indices" | "avg_pool2d",
     "options": {...camelCase options...},
     "inputs": [Tensor & {"requiresGrad"}], "outputs": [Tensor],
     "gradOutputs": [Tensor | null], "grads": [Tensor | null],
     # second-order cases only:
     "gradGradOutputs": [Tensor | null], "secondGrads": [Tensor | null]}

Tensors are {"shape", "dtype", "data"} with flat row-major data, "nan"/"inf"/"-inf" strings and
int64 recorded as "int32" (as scripts/torch_fixtures.py).  ``grads[i]`` is
d(sum_k <outputs[k], gradOutputs[k]>)/d inputs[i]; with g1 those gradients (create_graph),
``secondGrads[j]`` is d(sum_i <g1_i, gradGradOutputs[i]>)/d inputs[j] (zeros where unreachable).
A case with f32 also gets a "<name>_f32" twin computed by PyTorch in float32 from the same
inputs cast to float32.  Inputs are drawn from torch's generator seeded by crc32("conv/<name>").
"""

import os
import zlib

import torch
import torch.nn.functional as F
from fixture_encode import enc, enc_list  # the shared JSON encoders (scripts/fixture_encode.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'conv')
F64 = torch.float64
F32 = torch.float32
def js(v):
    import json
    return json.dumps(v, sort_keys=True)


def seed(name, salt=''):
    torch.manual_seed(zlib.crc32(('conv/%s%s' % (name, salt)).encode()))


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


FNS = {
    'unfold': lambda xs, o: F.unfold(xs[0], o['kernelSize'], o.get('dilation', 1), o.get('padding', 0), o.get('stride', 1)),
    'fold': lambda xs, o: F.fold(xs[0], o['outputSize'], o['kernelSize'], o.get('dilation', 1), o.get('padding', 0),
                                 o.get('stride', 1)),
    'conv2d': lambda xs, o: F.conv2d(xs[0], xs[1], xs[2] if len(xs) > 2 else None, o.get('stride', 1), o.get('padding', 0),
                                     o.get('dilation', 1), o.get('groups', 1)),
    'max_pool2d_with_indices': lambda xs, o: F.max_pool2d(xs[0], o['kernelSize'], o.get('stride'), o.get('padding', 0),
                                                          o.get('dilation', 1), o.get('ceilMode', False), True),
    'avg_pool2d': lambda xs, o: F.avg_pool2d(xs[0], o['kernelSize'], o.get('stride'), o.get('padding', 0),
                                             o.get('ceilMode', False), o.get('countIncludePad', True),
                                             o.get('divisorOverride')),
}

CASES = {}


def record(fn, opts, xs, gouts, ggs, second):
    leaves = [x.clone().requires_grad_(True) for x in xs]
    outs = fn(leaves, opts)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    diff = [o for o in outs if o.requires_grad]
    if gouts is None:
        gouts = [torch.randn(o.shape, dtype=F64) if o.requires_grad else None for o in outs]
    gcast = [g.to(o.dtype) if g is not None else None for g, o in zip(gouts, outs)]
    g1 = torch.autograd.grad(diff, leaves, [g for g in gcast if g is not None], create_graph=second, allow_unused=True)
    g1 = [g if g is not None else torch.zeros_like(x) for g, x in zip(g1, leaves)]
    parts = [
        '"inputs":[' + ','.join(enc(x, True) for x in xs) + ']',
        '"outputs":' + enc_list(outs),
        '"gradOutputs":' + enc_list(gcast),
        '"grads":' + enc_list(g1),
    ]
    if second:
        if ggs is None:
            ggs = [torch.randn(x.shape, dtype=F64) for x in xs]
        total = sum((g * v.to(g.dtype)).sum() for g, v in zip(g1, ggs) if g.requires_grad)
        g2 = torch.autograd.grad(total, leaves, allow_unused=True) if torch.is_tensor(total) else [None] * len(xs)
        g2 = [g if g is not None else torch.zeros_like(x) for g, x in zip(g2, leaves)]
        parts.append('"gradGradOutputs":' + enc_list([v.to(x.dtype) for v, x in zip(ggs, xs)]))
        parts.append('"secondGrads":' + enc_list(g2))
    return ','.join(parts), gouts, ggs


def case(name, fn_name, specs, options, f32=False, second=False):
    assert name not in CASES, name
    seed(name)
    xs = [s() for s in specs]
    seed(name, '#grad')
    head = '"fn":"%s","options":%s,' % (fn_name, js(options))
    body, gouts, ggs = record(FNS[fn_name], options, xs, None, None, second)
    CASES[name] = '{' + head + body + '}'
    if f32:
        body32, _, _ = record(FNS[fn_name], options, [x.to(F32) for x in xs], gouts, ggs, second)
        CASES[name + '_f32'] = '{' + head + body32 + '}'


def R(*shape):
    return lambda: torch.randn(shape, dtype=F64)


def T(data):
    return lambda: torch.tensor(data, dtype=F64)


def Q(*shape):
    """integer-valued floats in {-2..2}: ties"""
    return lambda: torch.randint(-2, 3, shape).to(F64)


# ------------------------------------------------------------------ unfold (im2col)
case('unfold_k2', 'unfold', [R(2, 3, 4, 5)], {'kernelSize': 2}, f32=True, second=True)
case('unfold_k3_p1', 'unfold', [R(1, 2, 5, 5)], {'kernelSize': 3, 'padding': 1})
case('unfold_k3_p1_d2_s2', 'unfold', [R(2, 2, 7, 6)], {'kernelSize': 3, 'padding': 1, 'dilation': 2, 'stride': 2}, second=True)
case('unfold_rect', 'unfold', [R(1, 3, 6, 7)], {'kernelSize': [2, 3], 'padding': [1, 0], 'dilation': [1, 2], 'stride': [2, 1]})
case('unfold_stride_gt_kernel', 'unfold', [R(1, 2, 9, 8)], {'kernelSize': 2, 'stride': 3, 'padding': 2})
case('unfold_k1', 'unfold', [R(2, 3, 3, 4)], {'kernelSize': 1})
case('unfold_unbatched', 'unfold', [R(2, 4, 5)], {'kernelSize': [3, 2], 'padding': 1})
case('unfold_big', 'unfold', [R(1, 4, 8, 7)], {'kernelSize': 3, 'padding': 1}, f32=True)

# ------------------------------------------------------------------ fold (col2im)
case('fold_k2_overlap', 'fold', [R(2, 12, 12)], {'outputSize': [4, 5], 'kernelSize': 2}, f32=True, second=True)
case('fold_k3_p1_d2_s2', 'fold', [R(1, 18, 6)], {'outputSize': [6, 7], 'kernelSize': 3, 'padding': 1, 'dilation': 2, 'stride': 2},
     second=True)
case('fold_rect', 'fold', [R(2, 12, 18)], {'outputSize': [5, 7], 'kernelSize': [2, 3], 'padding': [1, 0], 'dilation': [1, 2],
                                          'stride': [1, 1]})
case('fold_stride_gt_kernel', 'fold', [R(1, 8, 9)], {'outputSize': [8, 7], 'kernelSize': 2, 'stride': 3, 'padding': 1})
case('fold_unbatched', 'fold', [R(8, 12)], {'outputSize': [4, 5], 'kernelSize': 2})
case('fold_big', 'fold', [R(1, 36, 56)], {'outputSize': [8, 7], 'kernelSize': 3, 'padding': 1}, f32=True)

# ------------------------------------------------------------------ conv2d (im2col + matmul)
case('conv_bias_second', 'conv2d', [R(2, 3, 5, 6), R(4, 3, 3, 3), R(4)], {'padding': 1}, second=True)
case('conv_groups_stride_dil_second', 'conv2d', [R(1, 4, 9, 8), R(6, 2, 3, 2), R(6)],
     {'groups': 2, 'stride': [2, 1], 'dilation': [1, 2], 'padding': 1}, second=True)
case('conv_1x1_second', 'conv2d', [R(2, 3, 4, 4), R(5, 3, 1, 1)], {}, second=True)
case('conv_cnn_layer', 'conv2d', [R(1, 8, 8, 8), R(16, 8, 3, 3), R(16)], {'padding': 1}, f32=True)
case('conv_first_layer', 'conv2d', [R(2, 1, 10, 10), R(8, 1, 3, 3), R(8)], {'padding': 1}, f32=True)

# ------------------------------------------------------------------ pooling
case('maxpool_k2', 'max_pool2d_with_indices', [R(2, 3, 6, 6)], {'kernelSize': 2}, f32=True, second=True)
case('maxpool_k3_s2_p1_ceil', 'max_pool2d_with_indices', [R(1, 2, 8, 7)],
     {'kernelSize': 3, 'stride': 2, 'padding': 1, 'ceilMode': True})
case('maxpool_dilation_pad', 'max_pool2d_with_indices', [R(1, 2, 9, 9)],
     {'kernelSize': [3, 2], 'stride': [2, 1], 'padding': 1, 'dilation': [2, 3]})
case('maxpool_ties', 'max_pool2d_with_indices', [Q(1, 2, 6, 6)], {'kernelSize': 3, 'stride': 1, 'padding': 1}, second=True)
NAN, INF = float('nan'), float('inf')
case('maxpool_nan_inf', 'max_pool2d_with_indices', [T([[[[NAN, 1.0, 2.0, NAN],
                                                         [3.0, NAN, -INF, -INF],
                                                         [-INF, -INF, 5.0, INF],
                                                         [-INF, -INF, INF, 0.0]]]])], {'kernelSize': 2, 'stride': 1})
case('maxpool_all_neg_inf_padded', 'max_pool2d_with_indices', [T([[[[-INF, -INF, -INF], [-INF, 1.0, -INF], [-INF, -INF, -INF]]]])],
     {'kernelSize': 2, 'stride': 2, 'padding': 1, 'ceilMode': True})
case('avgpool_k3_s2_p1_ceil_second', 'avg_pool2d', [R(1, 2, 7, 6)],
     {'kernelSize': 3, 'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False}, second=True)
case('avgpool_k2', 'avg_pool2d', [R(2, 3, 6, 6)], {'kernelSize': 2}, f32=True)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    body = ',\n'.join('%s:%s' % (js(k), v) for k, v in sorted(CASES.items()))
    with open(os.path.join(OUT_DIR, 'conv.json'), 'w') as f:
        f.write('{\n' + body + '\n}\n')
    print('wrote %d cases to %s' % (len(CASES), os.path.relpath(os.path.join(OUT_DIR, 'conv.json'), ROOT)))


if __name__ == '__main__':
    main()
