import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeIdx,
  encodeIdx,
  IdxFormatError,
  isGzip,
  parseIdx,
  readIdxFile,
  type IdxArray,
} from '../../src/data/idx.js';

/** Build an IDX buffer by hand: header bytes then big-endian body bytes. */
function idx(code: number, dims: number[], body: number[]): Uint8Array {
  const header = [0, 0, code, dims.length];
  for (const d of dims) header.push((d >>> 24) & 0xff, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff);
  return Uint8Array.from([...header, ...body]);
}

describe('parseIdx', () => {
  it('reads ubyte (0x08) with a 3-d shape', () => {
    const r = parseIdx(idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]));
    expect(r.dtype).toBe('uint8');
    expect(r.shape).toEqual([2, 2, 3]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it('reads signed byte (0x09)', () => {
    const r = parseIdx(idx(0x09, [4], [0x00, 0x7f, 0x80, 0xff]));
    expect(r.dtype).toBe('int8');
    expect(r.data).toBeInstanceOf(Int8Array);
    expect(Array.from(r.data)).toEqual([0, 127, -128, -1]);
  });

  it('reads big-endian short (0x0B)', () => {
    const r = parseIdx(idx(0x0b, [3], [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00]));
    expect(r.dtype).toBe('int16');
    expect(r.data).toBeInstanceOf(Int16Array);
    expect(Array.from(r.data)).toEqual([0x0102, -2, -32768]);
  });

  it('reads big-endian int (0x0C)', () => {
    const r = parseIdx(idx(0x0c, [1, 2], [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfd]));
    expect(r.dtype).toBe('int32');
    expect(r.shape).toEqual([1, 2]);
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(Array.from(r.data)).toEqual([0x01020304, -3]);
  });

  it('reads big-endian float (0x0D)', () => {
    // 1.5 = 0x3fc00000, -2 = 0xc0000000
    const r = parseIdx(idx(0x0d, [2], [0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]));
    expect(r.dtype).toBe('float32');
    expect(r.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.data)).toEqual([1.5, -2]);
  });

  it('reads big-endian double (0x0E)', () => {
    // 0.1 = 0x3fb999999999999a
    const r = parseIdx(idx(0x0e, [1], [0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]));
    expect(r.dtype).toBe('float64');
    expect(r.data).toBeInstanceOf(Float64Array);
    expect(r.data[0]).toBe(0.1);
  });

  it('handles empty dimensions and 0-d (scalar) files', () => {
    const empty = parseIdx(idx(0x08, [0, 28, 28], []));
    expect(empty.shape).toEqual([0, 28, 28]);
    expect(empty.data.length).toBe(0);
    const scalar = parseIdx(idx(0x0c, [], [0, 0, 0, 42]));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([42]);
  });

  it('works on a subarray with a non-zero byteOffset', () => {
    const inner = idx(0x0b, [2], [0x00, 0x05, 0xff, 0xff]);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    const r = parseIdx(outer.subarray(3));
    expect(Array.from(r.data)).toEqual([5, -1]);
  });

  it('parses the MNIST label header layout', () => {
    // magic 0x00000801, 10 items
    const r = parseIdx(idx(0x08, [10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]));
    expect(r.shape).toEqual([10]);
    expect(r.data[0]).toBe(7);
  });

  it('narrows data by dtype', () => {
    const r: IdxArray = parseIdx(idx(0x0d, [1], [0x3f, 0x80, 0, 0]));
    if (r.dtype === 'float32') {
      const f: Float32Array = r.data;
      expect(f[0]).toBe(1);
    } else {
      expect.unreachable();
    }
  });
});

describe('parseIdx errors', () => {
  it('rejects a bad magic number', () => {
    expect(() => parseIdx(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]))).toThrow(/bad magic number 0x50 0x4b/);
    expect(() => parseIdx(Uint8Array.from([0x50, 0x4b, 0x03, 0x04]))).toThrow(IdxFormatError);
  });

  it('rejects an unknown dtype code', () => {
    expect(() => parseIdx(idx(0x0a, [1], [0]))).toThrow(/unknown element type code 0x0a/);
    expect(() => parseIdx(idx(0x0f, [1], [0]))).toThrow(/unknown element type code 0x0f/);
  });

  it('rejects a file too short for the magic number', () => {
    expect(() => parseIdx(new Uint8Array(0))).toThrow(/truncated header.*got 0/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 8]))).toThrow(/truncated header/);
  });

  it('rejects truncated dimensions', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]))).toThrow(
      /truncated header: 3 dimensions need 16 header bytes, got 10/,
    );
  });

  it('rejects truncated data', () => {
    const full = idx(0x0c, [2, 2], new Array<number>(16).fill(1));
    expect(() => parseIdx(full.subarray(0, full.length - 1))).toThrow(
      /truncated data: shape \[2, 2\] of int32 needs 16 bytes after the 12-byte header, but only 15/,
    );
    // dims that claim far more data than exists must not try to allocate it
    expect(() => parseIdx(idx(0x0e, [0xffffffff, 0xffffffff], [1, 2, 3]))).toThrow(/truncated data/);
  });

  it('rejects trailing bytes', () => {
    expect(() => parseIdx(idx(0x08, [2], [1, 2, 3]))).toThrow(/1 unexpected trailing bytes/);
  });

  it('asks for decompression on gzip input', () => {
    const gz = gzipSync(idx(0x08, [1], [1]));
    expect(isGzip(gz)).toBe(true);
    expect(() => parseIdx(gz)).toThrow(/gzip-compressed/);
  });
});

describe('encodeIdx', () => {
  const cases: IdxArray[] = [
    { dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) },
    { dtype: 'int8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
    { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
    { dtype: 'int32', shape: [1, 1, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
    { dtype: 'float32', shape: [3], data: Float32Array.from([0.5, -Infinity, NaN]) },
    { dtype: 'float64', shape: [2], data: Float64Array.from([Math.PI, -0]) },
  ];
  for (const c of cases) {
    it(`round-trips ${c.dtype}`, () => {
      const r = parseIdx(encodeIdx(c));
      expect(r.dtype).toBe(c.dtype);
      expect(r.shape).toEqual(c.shape);
      expect(Array.from(r.data)).toEqual(Array.from(c.data));
    });
  }

  it('writes the exact bytes a hand-built file has', () => {
    const bytes = encodeIdx({ dtype: 'int16', shape: [2], data: Int16Array.from([0x0102, -2]) });
    expect(Array.from(bytes)).toEqual(Array.from(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe])));
  });

  it('rejects mismatched shape and data', () => {
    expect(() => encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).toThrow(/holds 4 elements/);
  });
});

describe('gzip and files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tensorgrad-idx-'));
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('decodeIdx gunzips transparently', async () => {
    const raw = idx(0x0b, [2], [0, 1, 0, 2]);
    const a = await decodeIdx(gzipSync(raw));
    const b = await decodeIdx(raw);
    expect(Array.from(a.data)).toEqual([1, 2]);
    expect(Array.from(b.data)).toEqual([1, 2]);
  });

  it('readIdxFile reads plain and gzipped files', async () => {
    const raw = idx(0x08, [2, 2], [1, 2, 3, 4]);
    await writeFile(join(dir, 'a-idx2-ubyte'), raw);
    await writeFile(join(dir, 'a-idx2-ubyte.gz'), gzipSync(raw));
    for (const name of ['a-idx2-ubyte', 'a-idx2-ubyte.gz']) {
      const r = await readIdxFile(join(dir, name));
      expect(r.shape).toEqual([2, 2]);
      expect(Array.from(r.data)).toEqual([1, 2, 3, 4]);
    }
  });

  it('readIdxFile names the file in format errors', async () => {
    const p = join(dir, 'broken-idx1-ubyte');
    await writeFile(p, idx(0x08, [5], [1, 2]));
    await expect(readIdxFile(p)).rejects.toThrow(/truncated data.*broken-idx1-ubyte/);
  });

  it('readIdxFile fails on a missing file', async () => {
    await expect(readIdxFile(join(dir, 'nope'))).rejects.toThrow(/ENOENT/);
  });
});
