#!/usr/bin/env python3
"""Record torch.einsum's results, gradients and error messages for tensorgrad's einsum tests.

Run with the Debian PyTorch (1.13):  /usr/bin/python3 scripts/torch_fixtures_einsum.py
Writes (deterministically, byte-identical on rerun):

  test/fixtures/einsum/valid.json    name -> case
  test/fixtures/einsum/invalid.json  name -> error case

A valid case has the fields of test/helpers/oracle.ts's FixtureCase plus how to call einsum::

    {
      "equation": "ij,jk->ik" | null,          # null: sublist form
      "sublists": [[0, 1], [1, 2]] | null,     # one per operand; "..." is Python's Ellipsis
      "outputSublist": [0, 2] | null,          # the optional trailing output sublist
      "inputs": [Tensor & {"requiresGrad": bool}, ...],
      "outputs": [Tensor], "gradOutputs": [Tensor | null], "grads": [Tensor | null, ...],
      # second-order cases only:
      "gradGradOutputs": [Tensor | null, ...], "secondGrads": [Tensor | null, ...]
    }

Tensors are {"shape", "dtype", "data"} (flat, row-major; float64 data in Python's shortest
round-trip repr). grads[i] = d<out, gradOutput>/d inputs[i]. For second-order cases, with
g1 = those grads (create_graph=True) and fixed random v_i = gradGradOutputs[i],
secondGrads[j] = d(sum_i <g1_i, v_i>)/d inputs[j] (zeros where unreachable).

An invalid case is {"equation" | "sublists"/"outputSublist", "shapes", "dtypes", "errorType",
"error"}: the first line of the exception PyTorch raises.

Inputs are drawn from torch's generator seeded by crc32("einsum/<name>").
"""

import json
import os
import zlib

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'einsum')
F64 = torch.float64
DTYPES = {torch.float64: 'float64', torch.float32: 'float32', torch.int32: 'int32'}


def enc(t, requires_grad=None):
    if t is None:
        return None
    t = t.detach()
    dt = DTYPES[t.dtype]
    conv = int if dt == 'int32' else float
    rec = {'shape': list(t.shape), 'dtype': dt, 'data': [conv(v) for v in t.reshape(-1).tolist()]}
    if requires_grad is not None:
        rec['requiresGrad'] = requires_grad
    return rec


def seed(name):
    torch.manual_seed(zlib.crc32(('einsum/%s' % name).encode()))


def to_py_sublist(s):
    return [Ellipsis if x == '...' else x for x in s]


def call(eq, sublists, out_sublist, xs):
    if eq is not None:
        return torch.einsum(eq, *xs)
    args = []
    for x, s in zip(xs, sublists):
        args += [x, to_py_sublist(s)]
    if out_sublist is not None:
        args.append(to_py_sublist(out_sublist))
    return torch.einsum(*args)


def make_input(shape, dtype):
    if dtype == 'int32':
        return torch.randint(-4, 5, shape, dtype=torch.int32)
    x = torch.randn(shape, dtype=F64)
    return x.float() if dtype == 'float32' else x


VALID = {}
INVALID = {}


def valid(name, eq, *shapes, sublists=None, out=None, dtype='float64', second=False):
    assert name not in VALID, name
    seed(name)
    xs = [make_input(s, dtype) for s in shapes]
    floating = dtype != 'int32'
    leaves = [x.clone().requires_grad_(floating) for x in xs]
    y = call(eq, sublists, out, leaves)
    case = {
        'equation': eq,
        'sublists': sublists,
        'outputSublist': out,
        'inputs': [enc(x, floating) for x in xs],
        'outputs': [enc(y)],
    }
    if not floating:
        case['gradOutputs'] = [None]
        case['grads'] = [None] * len(xs)
    else:
        go = torch.randn(y.shape, dtype=F64).to(y.dtype)
        g1 = torch.autograd.grad(y, leaves, go, create_graph=second, allow_unused=True)
        g1 = [torch.zeros_like(x) if g is None else g for g, x in zip(g1, leaves)]
        case['gradOutputs'] = [enc(go)]
        case['grads'] = [enc(g) for g in g1]
        if second:
            vs = [torch.randn(x.shape, dtype=F64) for x in xs]
            inner = sum((g * v).sum() for g, v in zip(g1, vs) if g.requires_grad)
            g2 = torch.autograd.grad(inner, leaves, allow_unused=True)
            case['gradGradOutputs'] = [enc(v) for v in vs]
            case['secondGrads'] = [enc(torch.zeros_like(x) if g is None else g) for g, x in zip(g2, leaves)]
    VALID[name] = case


def invalid(name, eq, *shapes, sublists=None, out=None, dtypes=None, no_operands=False):
    assert name not in INVALID, name
    dts = dtypes or ['float64'] * len(shapes)
    xs = [torch.zeros(s, dtype={'float64': F64, 'float32': torch.float32}[d]) for s, d in zip(shapes, dts)]
    try:
        if no_operands:
            torch.einsum(eq)
        else:
            call(eq, sublists, out, xs)
    except (RuntimeError, ValueError) as e:
        INVALID[name] = {
            'equation': eq,
            'sublists': sublists,
            'outputSublist': out,
            'shapes': [list(s) for s in shapes],
            'dtypes': dts,
            'errorType': type(e).__name__,
            'error': str(e).split('\n')[0],
        }
        return
    raise AssertionError('%s: PyTorch accepted it' % name)


# ------------------------------------------------------------------------- valid cases

# matrix products and the basics
valid('matmul', 'ij,jk->ik', (3, 4), (4, 5), second=True)
valid('matmul_implicit', 'ij,jk', (3, 4), (4, 5))
valid('bmm', 'bij,bjk->bik', (2, 3, 4), (2, 4, 5), second=True)
valid('attention_scores', 'bhqd,bhkd->bhqk', (2, 2, 3, 4), (2, 2, 5, 4))
valid('matvec', 'ij,j->i', (3, 4), (4,))
valid('transpose', 'ij->ji', (3, 4))
valid('identity', 'ij->ij', (3, 4))
valid('sum_all', 'ij->', (3, 4))
valid('sum_rows', 'ij->i', (3, 4))
valid('dot', 'i,i->', (5,), (5,))
valid('dot_implicit', 'i,i', (5,), (5,))
valid('outer', 'i,j->ij', (3,), (4,))
valid('hadamard', 'ij,ij->ij', (3, 4), (3, 4))
valid('trace_of_product', 'ij,ji->', (3, 4), (4, 3), second=True)
valid('sum_of_outer', 'ab,cd->', (2, 3), (4, 2))
valid('summed_only_in_one', 'ij,jk->k', (3, 4), (4, 5))
valid('permuted_contraction', 'ijk,ikj->i', (2, 3, 4), (2, 4, 3))
valid('whitespace', ' i j , j k -> k i ', (3, 4), (4, 2))
valid('output_order_last', 'jk,ij->ik', (4, 5), (3, 4))
# implicit output: labels seen once, uppercase before lowercase
valid('implicit_upper_first', 'ab,bZ', (2, 3), (3, 4))
valid('implicit_mixed_case', 'bA,c', (2, 3), (4,))
valid('implicit_trace_upper', 'Ba,aB', (2, 3), (3, 2))
# repeated labels: diagonals and traces
valid('diagonal', 'ii->i', (4, 4))
valid('trace', 'ii', (4, 4))
valid('diag_keep_other', 'iij->ij', (3, 3, 2))
valid('diag_middle', 'iji->j', (3, 2, 3))
valid('diag_then_contract', 'ijj,jk->ik', (2, 3, 3), (3, 4), second=True)
valid('diag_both_operands', 'ii,ij->j', (3, 3), (3, 4), second=True)
valid('diag_triple', 'iii->i', (3, 3, 3))
valid('diag_output_transposed', 'ijij->ji', (2, 3, 2, 3))
# ellipsis
valid('ellipsis_bmm', '...ij,...jk->...ik', (2, 3, 4), (2, 4, 5))
valid('ellipsis_broadcast_ranks', '...ij,...jk', (2, 1, 3, 4), (5, 4, 2), second=True)
valid('ellipsis_size1', '...i,...i->...i', (3, 1, 4), (2, 4))
valid('ellipsis_middle', 'i...j->j...i', (2, 3, 4, 5))
valid('ellipsis_summed', '...ij->ij', (2, 3, 4, 5))
valid('ellipsis_empty', '...ij,jk->...ik', (3, 4), (4, 2))
valid('ellipsis_batch_transpose', '...ij->...ji', (2, 3, 4, 5))
valid('ellipsis_only', '...,...', (), (3,))
valid('ellipsis_output_only', 'ij,jk->...', (2, 3), (3, 4))
valid('ellipsis_with_diag', '...ii,...i->...i', (2, 3, 3), (3,))
valid('ellipsis_trailing', 'i...,i...->...', (3, 2, 4), (3, 1, 4))
# 0-d operands
valid('zero_d_product', ',->', (), ())
valid('zero_d_scale', 'i,->i', (4,), ())
valid('zero_d_matrix', ',ij->ji', (), (2, 3))
valid('zero_d_single', '', ())
# size-1 broadcasting of labelled dims
valid('size1_contracted', 'ij,jk->ik', (2, 1), (3, 4))
valid('size1_both_sides', 'ij,ij->ij', (2, 1), (1, 3))
valid('size1_batch', 'bij,bjk->bik', (1, 2, 3), (4, 3, 5), second=True)
valid('size1_summed', 'ij,kj->', (3, 1), (2, 4))
# zero-size dims
valid('zero_size_outer', 'i,j->ij', (0,), (3,))
valid('zero_size_contraction', 'ij,jk->ik', (2, 0), (0, 3))
# 3 to 5 operands (planned contraction order)
valid('chain3', 'ij,jk,kl->il', (2, 3), (3, 4), (4, 5), second=True)
valid('bilinear', 'bn,anm,bm->ba', (2, 5), (3, 5, 4), (2, 4))
valid('triple_hadamard', 'i,i,i->i', (4,), (4,), (4,))
valid('triple_dot', 'i,i,i', (4,), (4,), (4,))
valid('chain4', 'ab,bc,cd,de->ae', (2, 3), (3, 4), (4, 2), (2, 3))
valid('chain4_with_trace', '...ii,...ij,jk,k->...', (2, 3, 3), (2, 3, 4), (4, 2), (2,))
valid('tucker5', 'pi,qj,ijkl,rk,sl->pqrs', (2, 3), (2, 3), (3, 3, 3, 3), (2, 3), (2, 3))
valid('batched_chain5', 'bij,bjk,bkl,blm,bmn->bin', (2, 2, 3), (2, 3, 2), (2, 2, 3), (2, 3, 2), (2, 2, 2))
valid('four_cycle', 'ab,bc,cd,da->', (2, 3), (3, 4), (4, 2), (2, 2), second=True)
valid('broadcast3', 'ij,jk,k->ij', (2, 1), (3, 4), (1,))
# the sublist form
valid('sublist_matmul', None, (3, 4), (4, 5), sublists=[[0, 1], [1, 2]], out=[0, 2])
valid('sublist_implicit', None, (3, 4), (4, 5), sublists=[[0, 1], [1, 2]])
valid('sublist_ellipsis', None, (2, 3, 4), (2, 4, 5), sublists=[['...', 0, 1], ['...', 1, 2]], out=['...', 0, 2])
valid('sublist_lowercase', None, (3, 4), sublists=[[27, 0]], out=[0, 27])
valid('sublist_three', None, (2, 3), (3, 4), (4, 2), sublists=[[0, 1], [1, 2], [2, 3]], out=[0, 3])
valid('sublist_trace', None, (3, 3), sublists=[[5, 5]])
# other dtypes
valid('int32_matmul', 'ij,jk->ik', (3, 4), (4, 2), dtype='int32')
valid('float32_bmm', 'bij,bjk->bik', (2, 3, 4), (2, 4, 5), dtype='float32')

# ----------------------------------------------------------------------- invalid cases

invalid('output_label_missing', 'ij,jk->il', (2, 3), (3, 4))
invalid('output_label_repeated', 'ij,jk->ii', (2, 3), (3, 4))
invalid('fewer_operands', 'ij,jk', (2, 3))
invalid('more_operands', 'ij', (2, 3), (3, 4))
invalid('rank_mismatch', 'ijk,jk', (2, 3), (3, 4))
invalid('rank_mismatch_second', 'ij,jkl->ik', (2, 3), (3, 4))
invalid('ellipsis_too_many_labels', 'i...j,j', (2,), (3,))
invalid('incompatible_sizes', 'ij,ik', (2, 3), (3, 4))
invalid('incompatible_sizes_upper', 'Ab,bA', (2, 3), (3, 4))
invalid('repeated_label_sizes', 'ii', (2, 3))
invalid('ellipsis_broadcast', '...ij,...jk', (2, 2, 3), (3, 3, 4))
invalid('bad_char', 'i1,jk', (2, 3), (3, 4))
invalid('bad_char_output', 'ij->i$', (2, 3))
invalid('second_arrow', 'ij->i->j', (2, 3))
invalid('spaced_arrow', 'i - > i', (3,))
invalid('two_ellipses_operand', 'i...j...,jk', (2, 3), (3, 4))
invalid('six_dots', '......,jk', (2, 3), (3, 4))
invalid('two_ellipses_output', 'ij->......', (2, 3))
invalid('stray_dot_operand', 'ij.->i', (2, 3))
invalid('stray_dot_output', 'ij->i.', (2, 3))
invalid('empty_operand_subscripts', 'ij,->i', (2, 3), (3, 4))
invalid('sublist_out_of_range', None, (2, 3), sublists=[[0, 52]])
invalid('sublist_negative', None, (2, 3), sublists=[[0, -1]])
invalid('sublist_bad_output', None, (2, 3), sublists=[[0, 1]], out=[60])
invalid('no_operands', 'ij', no_operands=True)
invalid('dtype_mismatch', 'ij,jk->ik', (2, 3), (3, 4), dtypes=['float32', 'float64'])


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for fname, cases in (('valid.json', VALID), ('invalid.json', INVALID)):
        body = ',\n'.join('%s: %s' % (json.dumps(n), json.dumps(c, separators=(',', ':'))) for n, c in cases.items())
        with open(os.path.join(OUT_DIR, fname), 'w') as f:
            f.write('{\n' + body + '\n}\n')
    print('einsum fixtures: %d valid (%d second-order), %d invalid' % (
        len(VALID), sum('secondGrads' in c for c in VALID.values()), len(INVALID)))


if __name__ == '__main__':
    main()
