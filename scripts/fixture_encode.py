"""Shared JSON encoding for the fixture generators (torch_fixtures*.py).

A tensor is written as {"shape": [...], "dtype": "...", "data": [...flat row-major...]} with
optional "requiresGrad"; NaN/Infinity become the strings "nan", "inf", "-inf"; float32 values are
written with the fewest digits that round-trip, so reruns give byte-identical files.
"""
import json
import math
import struct

import torch

DTYPES = {torch.float64: 'float64', torch.float32: 'float32', torch.int32: 'int32', torch.int64: 'int32', torch.bool: 'bool'}


def f32_str(v):
    for p in range(1, 10):
        s = '%.*g' % (p, v)
        if struct.unpack('<f', struct.pack('<f', float(s)))[0] == v:
            return repr(float(s))  # same double, written like float64 data
    raise AssertionError(v)


def num(v, dt):
    if dt == 'bool':
        return 'true' if v else 'false'
    if dt == 'int32':
        v = int(v)
        assert -2**31 <= v < 2**31, v
        return str(v)
    v = float(v)
    if math.isnan(v):
        return '"nan"'
    if math.isinf(v):
        return '"inf"' if v > 0 else '"-inf"'
    return f32_str(v) if dt == 'float32' else repr(v)


def enc(t, requires_grad=None):
    if t is None:
        return 'null'
    t = t.detach()
    dt = DTYPES[t.dtype]
    data = ','.join(num(v, dt) for v in t.reshape(-1).tolist())
    s = '{"shape":[%s],"dtype":"%s","data":[%s]' % (','.join(str(d) for d in t.shape), dt, data)
    if requires_grad is not None:
        s += ',"requiresGrad":%s' % ('true' if requires_grad else 'false')
    return s + '}'


def enc_list(ts):
    return '[' + ','.join(enc(t) for t in ts) + ']'


def enc_map(d):
    return '{' + ','.join('%s:%s' % (json.dumps(k), enc(v)) for k, v in d.items()) + '}'
