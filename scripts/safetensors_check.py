#!/usr/bin/env python3
"""Cross-check tensorgrad's safetensors files against an independent implementation.

Run with the Debian Python that has numpy and PyTorch (Debian ships no `safetensors` package):

    /usr/bin/python3 scripts/safetensors_check.py        # or: npm run check:safetensors

The reader and writer below are written from the format description at
https://github.com/huggingface/safetensors ("Format") and the reference implementation's rules,
with the standard library and numpy only:

    8 bytes   N, little-endian u64: header size
    N bytes   UTF-8 JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}},
              padded with spaces to a multiple of 8 (the reference writer's padding)
    rest      tensor bytes, little-endian, C order; data_offsets [begin, end) relative to here

Writer: tensors sorted by dtype (widest first, the reference's Dtype order) then by name, compact
JSON (serde_json style) with __metadata__ first and its keys sorted.  Reader: the reference's
checks (header bounds, UTF-8, leading '{', offsets that tile the data section, byte sizes).

What it does, all under test/fixtures/safetensors/:

1. python_written.safetensors + .json: a flat sample (every tensorgrad dtype, special floats,
   int32 extremes, a scalar, an empty tensor, a non-ASCII name) written by this writer, and the
   expected values.  test/serialization/python-interop.test.ts loads it with tensorgrad and checks
   every value bit for bit, and checks that tensorgrad writes the very same bytes.
2. python_nested.safetensors + .json: a real torch.optim.Adam state_dict (nested: int keys,
   tuples, 0-dim step tensors, None) stored with tensorgrad's nested-state scheme (tensors under
   dotted keys, the rest as JSON in __metadata__["tensorgrad.structure"], see
   src/serialization/structure.ts), implemented here independently; the test loads it.
3. Runs tensorgrad (tsx) to write tensorgrad_written.safetensors (the sample of 1) and
   tensorgrad_nested.safetensors (the state of 2), reads both with the reader here, checks every
   tensor, the metadata and the nested structure, and records the verdict, with the files'
   SHA-256, in tensorgrad_written.check.json.  The TypeScript test checks that tensorgrad still
   writes exactly those verified bytes, so the check stays meaningful without Python.
"""

import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'safetensors')
STRUCTURE_KEY = 'tensorgrad.structure'

# safetensors dtype -> (numpy dtype, tensorgrad dtype); rank = the reference's Dtype enum order.
DTYPES = {'F64': ('<f8', 'float64'), 'F32': ('<f4', 'float32'), 'I32': ('<i4', 'int32'), 'BOOL': ('|b1', 'bool')}
RANK = {'BOOL': 0, 'I32': 9, 'F32': 11, 'F64': 12}


def st_dtype(arr):
    """The safetensors dtype of a float64/float32/int32/bool numpy array."""
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    table = {('b', 1): 'BOOL', ('i', 4): 'I32', ('f', 4): 'F32', ('f', 8): 'F64'}
    if (kind, size) not in table:
        raise TypeError(f'unsupported dtype {arr.dtype}')
    return table[(kind, size)]


# ----------------------------------------------------------------------------------- format

def write_safetensors(tensors, metadata=None):
    """dict name -> numpy array (float64/float32/int32/bool) -> bytes."""
    items = []
    for name, arr in tensors.items():
        st = st_dtype(arr)
        items.append((name, st, np.array(arr, dtype=DTYPES[st][0], order='C')))  # (ascontiguousarray would make 0-d arrays 1-d)
    # Widest dtype first, then by name (Python compares str by code point = UTF-8 byte order).
    items.sort(key=lambda it: (-RANK[it[1]], it[0]))
    header = {}
    if metadata:
        header['__metadata__'] = {k: metadata[k] for k in sorted(metadata)}
    offset = 0
    for name, st, arr in items:
        header[name] = {'dtype': st, 'shape': list(arr.shape), 'data_offsets': [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(arr.tobytes() for _, _, arr in items)


class FormatError(Exception):
    pass


def read_safetensors(data):
    """bytes -> (dict name -> numpy array, metadata dict), validating like the reference."""
    if len(data) < 8:
        raise FormatError('file shorter than 8 bytes')
    (n,) = struct.unpack('<Q', data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise FormatError(f'invalid header length {n}')
    text = data[8:8 + n].decode('utf-8')
    if not text.startswith('{'):
        raise FormatError('header does not start with {')
    header = json.loads(text)
    metadata = header.pop('__metadata__', None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise FormatError('metadata must map strings to strings')
    body = data[8 + n:]
    end = 0
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]['data_offsets'])):
        begin, stop = info['data_offsets']
        if begin != end or stop < begin:
            raise FormatError(f'tensor {name!r}: offsets {begin, stop} do not continue at {end}')
        np_dtype = np.dtype(DTYPES[info['dtype']][0])
        count = math.prod(info['shape'])
        if count * np_dtype.itemsize != stop - begin:
            raise FormatError(f'tensor {name!r}: {stop - begin} bytes for shape {info["shape"]}')
        out[name] = np.frombuffer(body[begin:stop], dtype=np_dtype).reshape(tuple(info['shape']))
        end = stop
    if end != len(body):
        raise FormatError(f'{len(body) - end} bytes after the last tensor')
    return out, metadata


# ------------------------------------------------------------------- tensorgrad's nested scheme

def flatten_state(obj):
    """tensorgrad's scheme for nested state: (tensors under dotted keys, JSON skeleton)."""
    tensors = {}

    def walk(value, path):
        if isinstance(value, (torch.Tensor, np.ndarray)):
            key = '.'.join(path)
            assert key not in tensors
            tensors[key] = value.numpy() if isinstance(value, torch.Tensor) else value
            return {'$tensor': key}
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)):
            if isinstance(value, float) and (not math.isfinite(value) or (value == 0 and math.copysign(1, value) < 0)):
                return {'$number': '-0' if value == 0 else ('NaN' if math.isnan(value) else ('Infinity' if value > 0 else '-Infinity'))}
            return value
        if isinstance(value, (list, tuple)):
            return [walk(v, path + [str(i)]) for i, v in enumerate(value)]
        if isinstance(value, dict):
            rec = {str(k): walk(v, path + [str(k)]) for k, v in value.items()}
            return {'$object': rec} if any(k.startswith('$') for k in rec) else rec
        raise TypeError(type(value))

    skeleton = walk(obj, [])
    return tensors, json.dumps(skeleton, separators=(',', ':'), ensure_ascii=False)


def unflatten_state(structure, tensors):
    used = set()

    def build(node):
        if isinstance(node, list):
            return [build(v) for v in node]
        if not isinstance(node, dict):
            return node
        if list(node) == ['$tensor']:
            used.add(node['$tensor'])
            return tensors[node['$tensor']]
        if list(node) == ['$number']:
            return {'NaN': math.nan, 'Infinity': math.inf, '-Infinity': -math.inf, '-0': -0.0}[node['$number']]
        body = node['$object'] if list(node) == ['$object'] else node
        return {k: build(v) for k, v in body.items()}

    result = build(json.loads(structure))
    if used != set(tensors):
        raise FormatError(f'unreferenced tensors: {sorted(set(tensors) - used)}')
    return result


# ------------------------------------------------------------------------------- samples

def sample_tensors():
    return {
        'f32': np.array([[0.0, -0.0, 1.5], [math.nan, math.inf, -math.inf]], dtype='<f4'),
        'f32.extremes': np.array([1e-45, 3.4028234663852886e38, -1.1754943508222875e-38, 1 / 3], dtype='<f4'),
        'f64': np.array([math.pi, -1e-300, 5e-324, 0.1], dtype='<f8'),
        'f64.scalar': np.array(2.5, dtype='<f8'),
        'i32': np.array([[-2147483648, 2147483647], [0, -1]], dtype='<i4'),
        'bool': np.array([True, False, True, True, False]),
        'empty': np.zeros((0, 3), dtype='<f4'),
        'layers.0.weight': (np.arange(12, dtype='<f4').reshape(4, 3) / 7).astype('<f4'),
        'layers.0.bias': np.array([-0.25, 0.5, 0.75, 1.0], dtype='<f4'),
        'ünïcode.β': np.array([42], dtype='<i4'),
    }


SAMPLE_METADATA = {'format': 'pt', 'note': 'written by scripts/safetensors_check.py'}


def encode_value(x):
    x = float(x)
    if math.isnan(x):
        return 'nan'
    if math.isinf(x):
        return 'inf' if x > 0 else '-inf'
    return x


def describe(arr):
    """numpy array -> the JSON form used by the fixtures (and tensorgrad's oracle fixtures)."""
    st = st_dtype(arr)
    flat = arr.reshape(-1).tolist()
    if st == 'BOOL':
        data = [bool(v) for v in flat]
    elif st == 'I32':
        data = [int(v) for v in flat]
    else:
        data = [encode_value(v) for v in flat]
    return {'dtype': DTYPES[st][1], 'shape': list(arr.shape), 'data': data}


def describe_nested(value):
    if isinstance(value, np.ndarray):
        return {'__tensor__': describe(value)}
    if isinstance(value, list):
        return [describe_nested(v) for v in value]
    if isinstance(value, dict):
        return {k: describe_nested(v) for k, v in value.items()}
    return value


def adam_state():
    """A real PyTorch Adam state_dict after two steps (with None grads in one group)."""
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(2, 3))
    b = torch.nn.Parameter(torch.randn(3))
    frozen = torch.nn.Parameter(torch.randn(2))
    opt = torch.optim.Adam([{'params': [w, b]}, {'params': [frozen], 'lr': 0.1}], lr=0.01, weight_decay=1e-4)
    for _ in range(2):
        opt.zero_grad()
        ((torch.ones(1, 2) @ w + b) ** 2).sum().backward()
        opt.step()
    return opt.state_dict()


# ---------------------------------------------------------------------------------- checks

def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def run_tensorgrad_writer(out_flat, out_nested):
    """Write both samples with tensorgrad's serializer (via tsx), from the JSON fixtures."""
    src = os.path.join(ROOT, 'src', 'serialization', 'index.ts')
    creation = os.path.join(ROOT, 'src', 'tensor', 'creation.ts')
    program = f"""
import {{ readFileSync, writeFileSync }} from 'node:fs';
import {{ serialize }} from {json.dumps(src)};
import {{ tensor }} from {json.dumps(creation)};
const fx = (name: string) => JSON.parse(readFileSync({json.dumps(FIXTURES)} + '/' + name, 'utf8'));
const num = (v: unknown) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const toTensor = (d: any) => tensor(d.data.map(num), {{ dtype: d.dtype, shape: d.shape }});
const build = (v: any): any =>
  Array.isArray(v) ? v.map(build)
  : v !== null && typeof v === 'object' ? ('__tensor__' in v ? toTensor(v.__tensor__) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, build(x)])))
  : v;
const flat = fx('python_written.json');
const tensors: Record<string, unknown> = {{}};
for (const [k, d] of Object.entries(flat.tensors)) tensors[k] = toTensor(d);
writeFileSync({json.dumps(out_flat)}, serialize(tensors, {{ metadata: flat.metadata }}));
writeFileSync({json.dumps(out_nested)}, serialize(build(fx('python_nested.json').state)));
"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'write.ts')
        with open(path, 'w') as f:
            f.write(program)
        subprocess.run([os.path.join(ROOT, 'node_modules', '.bin', 'tsx'), path], check=True, cwd=ROOT)


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    rel = lambda p: os.path.relpath(p, ROOT)

    # 1. flat sample written here
    tensors = sample_tensors()
    py_bytes = write_safetensors(tensors, SAMPLE_METADATA)
    back, meta = read_safetensors(py_bytes)
    assert meta == SAMPLE_METADATA and all(same_bits(back[k], v) for k, v in tensors.items())
    with open(os.path.join(FIXTURES, 'python_written.safetensors'), 'wb') as f:
        f.write(py_bytes)
    with open(os.path.join(FIXTURES, 'python_written.json'), 'w') as f:
        json.dump({'metadata': SAMPLE_METADATA, 'tensors': {k: describe(v) for k, v in tensors.items()}}, f, ensure_ascii=False, separators=(',', ':'))
        f.write('\n')

    # 2. nested optimizer state written here with tensorgrad's scheme
    state = adam_state()
    nested_tensors, structure = flatten_state(state)
    nested_bytes = write_safetensors(nested_tensors, {STRUCTURE_KEY: structure})
    with open(os.path.join(FIXTURES, 'python_nested.safetensors'), 'wb') as f:
        f.write(nested_bytes)
    nested_back, nested_meta = read_safetensors(nested_bytes)
    rebuilt_py = unflatten_state(nested_meta[STRUCTURE_KEY], nested_back)
    with open(os.path.join(FIXTURES, 'python_nested.json'), 'w') as f:
        json.dump({'state': describe_nested(rebuilt_py)}, f, ensure_ascii=False, separators=(',', ':'))
        f.write('\n')

    # 3. files written by tensorgrad, read here
    tg_flat = os.path.join(FIXTURES, 'tensorgrad_written.safetensors')
    tg_nested = os.path.join(FIXTURES, 'tensorgrad_nested.safetensors')
    run_tensorgrad_writer(tg_flat, tg_nested)
    report = {'reader': 'scripts/safetensors_check.py (independent reader, numpy ' + np.__version__ + ')', 'files': {}}

    with open(tg_flat, 'rb') as f:
        tg_bytes = f.read()
    got, got_meta = read_safetensors(tg_bytes)
    flat_checks = {k: same_bits(got[k], v) for k, v in tensors.items()}
    flat_ok = set(got) == set(tensors) and all(flat_checks.values()) and got_meta == SAMPLE_METADATA
    report['files'][rel(tg_flat)] = {
        'sha256': hashlib.sha256(tg_bytes).hexdigest(),
        'tensors': {k: {'dtype': DTYPES[st_dtype(got[k])][1], 'shape': list(got[k].shape), 'bitExact': flat_checks.get(k, False)} for k in sorted(got)},
        'metadata': got_meta,
        'identicalToPythonWriter': tg_bytes == py_bytes,
        'ok': flat_ok,
    }

    with open(tg_nested, 'rb') as f:
        tg_nested_bytes = f.read()
    got_n, meta_n = read_safetensors(tg_nested_bytes)
    rebuilt = unflatten_state(meta_n[STRUCTURE_KEY], got_n)
    nested_ok = describe_nested(rebuilt) == describe_nested(rebuilt_py) and all(
        same_bits(got_n[k], v) for k, v in nested_tensors.items())
    report['files'][rel(tg_nested)] = {
        'sha256': hashlib.sha256(tg_nested_bytes).hexdigest(),
        'tensorKeys': sorted(got_n),
        'structureMatchesPyTorchState': nested_ok,
        'ok': nested_ok and set(got_n) == set(nested_tensors),
    }
    report['ok'] = all(v['ok'] for v in report['files'].values())
    with open(os.path.join(FIXTURES, 'tensorgrad_written.check.json'), 'w') as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if not report['ok']:
        sys.exit('safetensors cross-check FAILED')
    print('safetensors cross-check passed')


if __name__ == '__main__':
    main()
