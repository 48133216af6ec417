/**
 * Files exchanged with an independent safetensors implementation (scripts/safetensors_check.py,
 * written from the format spec with Python's standard library and numpy). Python is not needed
 * here: the script's outputs are committed under test/fixtures/safetensors/ (regenerate and
 * re-verify with `npm run check:safetensors`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deserialize, parseSafetensorsHeader, serialize } from '../../src/serialization/index.js';
import { tensor, Tensor, type DType } from '../../src/index.js';

type Value = number | boolean | 'nan' | 'inf' | '-inf';
interface Described {
  dtype: DType;
  shape: number[];
  data: Value[];
}
type Nested = null | string | number | boolean | { __tensor__: Described } | Nested[] | { [k: string]: Nested };

const fixture = (name: string) => new URL(`../fixtures/safetensors/${name}`, import.meta.url);
const bytesOf = (name: string) => new Uint8Array(readFileSync(fixture(name)));
const jsonOf = <T>(name: string) => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;

const num = (v: Value): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));
const toTensor = (d: Described) => tensor(d.data.map(num), { dtype: d.dtype, shape: d.shape });

function expectMatches(t: unknown, d: Described): void {
  expect(t).toBeInstanceOf(Tensor);
  const x = t as Tensor;
  expect(x.dtype).toBe(d.dtype);
  expect(x.shape).toEqual(d.shape);
  const got = Array.from(x.dataSync());
  const want = d.data.map(num);
  // Bit for bit: Object.is tells -0 from 0 and matches NaN.
  got.forEach((v, i) => expect(Object.is(v, d.dtype === 'float32' ? Math.fround(want[i]!) : want[i])).toBe(true));
}

function build(v: Nested): unknown {
  if (Array.isArray(v)) return v.map(build);
  if (v !== null && typeof v === 'object') {
    if ('__tensor__' in v) return toTensor(v.__tensor__ as Described);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, build(x)]));
  }
  return v;
}

function expectNested(got: unknown, want: Nested): void {
  if (Array.isArray(want)) {
    expect(Array.isArray(got)).toBe(true);
    expect((got as unknown[]).length).toBe(want.length);
    want.forEach((w, i) => expectNested((got as unknown[])[i], w));
  } else if (want !== null && typeof want === 'object') {
    if ('__tensor__' in want) return expectMatches(got, want.__tensor__ as Described);
    expect(Object.keys(got as object).sort()).toEqual(Object.keys(want).sort());
    for (const [k, w] of Object.entries(want)) expectNested((got as Record<string, unknown>)[k], w);
  } else {
    expect(got).toBe(want);
  }
}

const flat = jsonOf<{ metadata: Record<string, string>; tensors: Record<string, Described> }>('python_written.json');
const nested = jsonOf<{ state: Nested }>('python_nested.json');

function flatSample(): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(flat.tensors).map(([k, d]) => [k, toTensor(d)]));
}

describe('files written by the Python writer', () => {
  it('load exactly: every dtype, special floats, scalar, empty, non-ASCII names, metadata', () => {
    const bytes = bytesOf('python_written.safetensors');
    const back = deserialize(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(flat.tensors).sort());
    for (const [k, d] of Object.entries(flat.tensors)) expectMatches(back[k], d);
    expect(parseSafetensorsHeader(bytes).metadata).toEqual(flat.metadata);
  });

  it('tensorgrad writes the very same bytes for the same tensors', () => {
    expect(serialize(flatSample(), { metadata: flat.metadata })).toEqual(bytesOf('python_written.safetensors'));
  });

  it("a PyTorch Adam state_dict stored with tensorgrad's nested scheme loads as nested state", () => {
    const back = deserialize<{ state: Record<string, Record<string, Tensor>>; param_groups: Record<string, unknown>[] }>(bytesOf('python_nested.safetensors'));
    expectNested(back, nested.state);
    expect(back.param_groups[0]!['betas']).toEqual([0.9, 0.999]);
    expect(back.param_groups[0]!['eps']).toBe(1e-8);
    expect(back.param_groups[0]!['foreach']).toBeNull();
    expect(back.state['0']!['step']!.shape).toEqual([]);
  });
});

describe('files written by tensorgrad, verified by the Python reader', () => {
  const report = jsonOf<{ ok: boolean; files: Record<string, { sha256: string; ok: boolean; identicalToPythonWriter?: boolean }> }>('tensorgrad_written.check.json');
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('the recorded check passed', () => {
    expect(report.ok).toBe(true);
    expect(Object.values(report.files).every((f) => f.ok)).toBe(true);
    expect(report.files['test/fixtures/safetensors/tensorgrad_written.safetensors']!.identicalToPythonWriter).toBe(true);
  });

  it('tensorgrad still writes exactly the bytes the Python reader verified', () => {
    const flatBytes = serialize(flatSample(), { metadata: flat.metadata });
    expect(flatBytes).toEqual(bytesOf('tensorgrad_written.safetensors'));
    expect(sha(flatBytes)).toBe(report.files['test/fixtures/safetensors/tensorgrad_written.safetensors']!.sha256);
    const nestedBytes = serialize(build(nested.state) as object);
    expect(nestedBytes).toEqual(bytesOf('tensorgrad_nested.safetensors'));
    expect(sha(nestedBytes)).toBe(report.files['test/fixtures/safetensors/tensorgrad_nested.safetensors']!.sha256);
  });
});
