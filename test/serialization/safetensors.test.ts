import { describe, expect, it } from 'vitest';
import { decodeSafetensors, deserialize, encodeSafetensors, parseSafetensorsHeader, SafetensorsError, serialize } from '../../src/serialization/index.js';
import { ones, tensor, type Tensor } from '../../src/index.js';

const utf8 = new TextEncoder();

/** Build a safetensors file from a header object (or raw header text) and a data section. */
function file(header: object | string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let text = utf8.encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && text.length % 8 !== 0) {
    const padded = new Uint8Array(text.length + ((8 - (text.length % 8)) % 8)).fill(0x20);
    padded.set(text);
    text = padded;
  }
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

describe('layout written', () => {
  it('header length, compact JSON, space padding to 8 bytes, tensors after it', () => {
    const bytes = serialize({ a: tensor([1, 2, 3]) });
    const text = headerText(bytes);
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}');
    expect((8 + text.length) % 8).toBe(0);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + text.length + 12);
    expect(Array.from(new Float32Array(bytes.slice(8 + text.length).buffer))).toEqual([1, 2, 3]);
  });

  it('orders tensors by dtype (widest first) then name; __metadata__ first with sorted keys', () => {
    const bytes = encodeSafetensors(
      new Map<string, Tensor>([
        ['b', tensor([true])],
        ['z', tensor([1], { dtype: 'int32' })],
        ['y', tensor([1], { dtype: 'float32' })],
        ['x', tensor([1], { dtype: 'float64' })],
        ['a', tensor([2], { dtype: 'float32' })],
      ]),
      { zeta: '1', alpha: '2' },
    );
    const header = JSON.parse(headerText(bytes)) as Record<string, unknown>;
    expect(Object.keys(header)).toEqual(['__metadata__', 'x', 'a', 'y', 'z', 'b']);
    expect(Object.keys(header['__metadata__'] as object)).toEqual(['alpha', 'zeta']);
    expect(parseSafetensorsHeader(bytes).tensors.get('b')).toEqual({ dtype: 'BOOL', shape: [1], dataOffsets: [20, 21] });
  });

  it('an empty state dict is a valid 16-byte file', () => {
    const bytes = serialize({});
    expect(headerText(bytes)).toBe('{}      ');
    expect(bytes.length).toBe(16);
    expect(deserialize(bytes)).toEqual({});
  });

  it('rejects reserved names and non-string metadata', () => {
    expect(() => encodeSafetensors(new Map([['__metadata__', ones(1)]]))).toThrow(/reserved/);
    expect(() => serialize({ a: ones(1) }, { metadata: { n: 1 as unknown as string } })).toThrow('safetensors metadata values must be strings');
    expect(() => serialize({ a: ones(1) }, { metadata: { 'tensorgrad.structure': '{}' } })).toThrow(/reserved/);
  });
});

describe('reading foreign dtypes', () => {
  it('I64/I16/U16/I8/U8 become int32 (range-checked); F16/BF16 become float32 exactly', () => {
    const i64 = new BigInt64Array([-5n, 2147483647n]);
    const i16 = new Int16Array([-32768, 7]);
    const u16 = new Uint16Array([65535, 1]);
    const i8 = new Int8Array([-128, 127]);
    const u8 = new Uint8Array([255, 0]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]); // 1, -2, 2^-24, inf, 0.333251953125
    const bf16 = new Uint16Array([0x3f80, 0xc0a0, 0x7fc0]); // 1, -5, NaN
    const parts = [i64, i16, u16, i8, u8, f16, bf16].map((a) => new Uint8Array(a.buffer));
    const names = ['i64', 'i16', 'u16', 'i8', 'u8', 'f16', 'bf16'];
    const dtypes = ['I64', 'I16', 'U16', 'I8', 'U8', 'F16', 'BF16'];
    const header: Record<string, object> = {};
    let off = 0;
    parts.forEach((p, k) => {
      header[names[k]!] = { dtype: dtypes[k], shape: [p.length / [8, 2, 2, 1, 1, 2, 2][k]!], data_offsets: [off, off + p.length] };
      off += p.length;
    });
    const data = new Uint8Array(off);
    off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    const { tensors } = decodeSafetensors(file(header, data));
    const vals = (k: string) => Array.from(tensors.get(k)!.dataSync());
    expect(tensors.get('i64')!.dtype).toBe('int32');
    expect(vals('i64')).toEqual([-5, 2147483647]);
    expect(vals('i16')).toEqual([-32768, 7]);
    expect(vals('u16')).toEqual([65535, 1]);
    expect(vals('i8')).toEqual([-128, 127]);
    expect(vals('u8')).toEqual([255, 0]);
    expect(tensors.get('f16')!.dtype).toBe('float32');
    expect(vals('f16')).toEqual([1, -2, 2 ** -24, Infinity, 0.333251953125]);
    expect(vals('bf16').slice(0, 2)).toEqual([1, -5]);
    expect(vals('bf16')[2]).toBeNaN();
  });

  it('an I64 value outside int32 is an error; unknown dtypes are named', () => {
    const big = new Uint8Array(new BigInt64Array([2n ** 40n]).buffer);
    expect(() => deserialize(file({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big))).toThrow("tensor 't' (I64) holds 1099511627776, which does not fit in int32");
    expect(() => deserialize(file({ t: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(/tensor 't' has dtype F8_E4M3, which tensorgrad cannot read/);
  });
});

describe('corrupt files give clear errors', () => {
  const good = serialize({ a: tensor([1, 2]), b: tensor([3], { dtype: 'int32' }) });
  const err = (bytes: Uint8Array) => {
    try {
      deserialize(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };

  it('too short, bad or huge header length', () => {
    expect(err(new Uint8Array(5))).toMatch(/5 bytes long, too short for the 8-byte header length/);
    const long = good.slice();
    new DataView(long.buffer).setBigUint64(0, BigInt(good.length), true);
    expect(err(long)).toMatch(/header length \d+ runs past the end of the file/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(err(huge)).toMatch(/larger than the 100 MB limit/);
    expect(err(good.subarray(0, 30))).toMatch(/runs past the end of the file/);
  });

  it('header that is not UTF-8, not JSON, or not an object', () => {
    expect(err(file('{"a": ', undefined))).toMatch(/the header is not valid JSON/);
    expect(err(file('[1, 2]'))).toMatch(/must be a JSON object starting with '\{'/);
    const bad = file('{"a":1}');
    bad[9] = 0xff;
    expect(err(bad)).toMatch(/not valid UTF-8/);
    expect(err(file('{"a": 1}'))).toMatch(/the entry for tensor 'a' must be an object/);
    expect(err(file({ __metadata__: { k: 1 } }))).toMatch(/__metadata__ values must be strings/);
  });

  it('invalid entries', () => {
    expect(err(file({ a: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)))).toMatch(/tensor 'a' has no dtype/);
    expect(err(file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)))).toMatch(/invalid shape \[-1\]/);
    expect(err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)))).toMatch(/invalid data_offsets \[4,0\]/);
    expect(err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)))).toMatch(/invalid data_offsets/);
  });

  it('offsets out of range, overlapping, with gaps or trailing bytes', () => {
    expect(err(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)))).toMatch(
      /data_offsets \[0, 8\] of tensor 'a' are out of range: the data section has 4 bytes/,
    );
    expect(err(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)))).toMatch(
      /tensor 'b' \(bytes 4\.\.8\) overlaps tensor 'a'/,
    );
    expect(err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)))).toMatch(/4 unused bytes before tensor 'a'/);
    expect(err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(6)))).toMatch(/2 bytes after the last tensor/);
  });

  it('byte size that does not match dtype and shape', () => {
    expect(err(file({ a: { dtype: 'F64', shape: [2, 3], data_offsets: [0, 24] } }, new Uint8Array(24)))).toMatch(
      "tensor 'a' has dtype F64 and shape [2, 3] (48 bytes), but its data_offsets span 24 bytes",
    );
  });

  it('a truncated copy of a real file', () => {
    expect(err(good.subarray(0, good.length - 1))).toMatch(/out of range/);
  });

  it('a broken nested structure', () => {
    const bad = (structure: string, tensors: Record<string, Tensor> = {}) =>
      err(encodeSafetensors(new Map(Object.entries(tensors)), { 'tensorgrad.structure': structure }));
    expect(bad('{"a": ')).toMatch(/metadata 'tensorgrad.structure' is not valid JSON/);
    expect(bad('{"a":{"$tensor":"missing"}}')).toMatch(/refers to tensor 'missing', which is not in the file/);
    expect(bad('{"a":1}', { extra: ones(1) })).toMatch(/tensor 'extra' is in the file but not referenced/);
    expect(bad('{"a":{"$number":"two"}}')).toMatch(/unknown \$number "two"/);
    expect(bad('{"$weird":1,"b":2}')).toMatch(/unexpected key '\$weird'/);
  });
});
