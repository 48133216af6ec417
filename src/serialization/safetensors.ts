/**
 * The safetensors container (https://github.com/huggingface/safetensors, "Format"), in memory:
 *
 * ```text
 * 8 bytes    N, unsigned little-endian 64-bit: the header's length in bytes
 * N bytes    UTF-8 JSON: {"__metadata__": {string: string}, name: {"dtype": "F32", "shape": [2, 3],
 *            "data_offsets": [begin, end]}, …}, padded with spaces to a multiple of 8 bytes
 * rest       the tensors' bytes, little-endian, row-major; offsets are relative to this section
 * ```
 *
 * Writing follows the reference implementation byte for byte: tensors ordered by dtype (widest
 * first, so every tensor stays aligned) then by name, compact JSON with `__metadata__` first and
 * its keys sorted, space padding. Reading validates as the reference does: the header length,
 * UTF-8 and JSON, every entry's dtype/shape/offsets, offsets that tile the data section exactly
 * (no overlap, no gap, nothing after the last tensor) and byte sizes matching dtype × shape.
 *
 * tensorgrad writes F32, F64, I32 and BOOL (its dtypes). It also reads I64, I16, I8, U16 and U8
 * (into int32, checking the range) and F16 and BF16 (into float32, exactly), so files saved from
 * PyTorch state dicts load.
 */
import { backendFor } from '../tensor/backend/device.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Errors for malformed safetensors input.
 * @example
 * try { tg.deserialize(bytes); } catch (e) { if (e instanceof SafetensorsError) console.error(e.message); }
 */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** One header entry, e.g. `{ dtype: 'F32', shape: [2, 3], dataOffsets: [0, 24] }`. */
export interface TensorInfo {
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}

/** A parsed header: tensor entries (in file order) and the `__metadata__` strings. */
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Where the data section starts (8 + header length). */
  dataStart: number;
}

const WRITE_DTYPE: Readonly<Record<DType, string>> = { float64: 'F64', float32: 'F32', int32: 'I32', bool: 'BOOL' };

/** Element sizes of the dtypes tensorgrad reads, and the dtype each becomes. */
const READ_DTYPE: ReadonlyMap<string, { size: number; dtype: DType }> = new Map([
  ['F64', { size: 8, dtype: 'float64' }],
  ['F32', { size: 4, dtype: 'float32' }],
  ['F16', { size: 2, dtype: 'float32' }],
  ['BF16', { size: 2, dtype: 'float32' }],
  ['I64', { size: 8, dtype: 'int32' }],
  ['I32', { size: 4, dtype: 'int32' }],
  ['I16', { size: 2, dtype: 'int32' }],
  ['U16', { size: 2, dtype: 'int32' }],
  ['I8', { size: 1, dtype: 'int32' }],
  ['U8', { size: 1, dtype: 'int32' }],
  ['BOOL', { size: 1, dtype: 'bool' }],
]);

/** The reference's dtype order (its `Dtype` enum); tensors are written widest dtype first. */
const DTYPE_RANK: Readonly<Record<string, number>> = { BOOL: 0, I32: 9, F32: 11, F64: 12 };

const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  // Rust compares Strings by UTF-8 bytes; JavaScript's < compares UTF-16 units (they differ above U+FFFF).
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The little-endian bytes of a contiguous array. */
function leBytes(arr: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN || arr.BYTES_PER_ELEMENT === 1) return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  const out = new Uint8Array(arr.byteLength);
  const view = new DataView(out.buffer);
  arr.forEach((v, i) => {
    if (arr instanceof Float64Array) view.setFloat64(8 * i, v, true);
    else if (arr instanceof Float32Array) view.setFloat32(4 * i, v, true);
    else view.setInt32(4 * i, v, true);
  });
  return out;
}

/**
 * Encode named tensors as safetensors bytes. Names must be unique and not `__metadata__`.
 * @example
 * const bytes = encodeSafetensors(new Map([['w', tg.ones(2, 3)]]), { format: 'pt' });
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const entries = [...tensors].map(([name, t]) => {
    if (name === '__metadata__') throw new RangeError("'__metadata__' is reserved for the safetensors header and cannot name a tensor");
    return { name, t, code: WRITE_DTYPE[t.dtype], data: leBytes(t.dataSync()) };
  });
  entries.sort((a, b) => DTYPE_RANK[b.code]! - DTYPE_RANK[a.code]! || compareUtf8(a.name, b.name));
  const header: Record<string, unknown> = {};
  const metaKeys = Object.keys(metadata).sort(compareUtf8);
  if (metaKeys.length > 0) {
    const meta: Record<string, string> = {};
    for (const k of metaKeys) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata values must be strings; '${k}' is ${typeof v}`);
      meta[k] = v;
    }
    header['__metadata__'] = meta;
  }
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.code, shape: [...e.t.shape], data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  const json = utf8.encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const e of entries) {
    out.set(e.data, pos);
    pos += e.data.byteLength;
  }
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parse and validate the header of safetensors bytes (without reading the tensors).
 * Throws a SafetensorsError that says what is wrong with a malformed file.
 * @example
 * const { tensors, metadata } = parseSafetensorsHeader(bytes);
 * tensors.get('w'); // { dtype: 'F32', shape: [2, 3], dataOffsets: [0, 24] }
 */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) throw new SafetensorsError(`safetensors: the file is ${bytes.length} bytes long, too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new SafetensorsError(`safetensors: header length ${n64} is larger than the 100 MB limit (corrupt header length?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    throw new SafetensorsError(`safetensors: header length ${n} runs past the end of the file (${bytes.length} bytes: truncated, or not a safetensors file)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('safetensors: the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError(`safetensors: the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`safetensors: the header is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(parsed)) throw new SafetensorsError('safetensors: the header must be a JSON object');

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isRecord(entry)) throw new SafetensorsError('safetensors: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new SafetensorsError(`safetensors: __metadata__ values must be strings, but '${k}' is ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(entry)) throw new SafetensorsError(`safetensors: the entry for tensor '${name}' must be an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw new SafetensorsError(`safetensors: tensor '${name}' has no dtype string`);
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(shape)} (expected a list of non-negative integers)`);
    }
    const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
    if (!isNonNegInt(begin) || !isNonNegInt(end) || begin > end) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)} (expected [begin, end] with 0 <= begin <= end)`);
    }
    tensors.set(name, { dtype, shape: shape as number[], dataOffsets: [begin, end] });
  }

  // The offsets must tile the data section exactly, as the reference's validate() demands.
  const dataLength = bytes.length - 8 - n;
  const byOffset = [...tensors].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let end = 0;
  let prev = '';
  for (const [name, info] of byOffset) {
    const [b, e] = info.dataOffsets;
    if (e > dataLength) {
      throw new SafetensorsError(`safetensors: data_offsets [${b}, ${e}] of tensor '${name}' are out of range: the data section has ${dataLength} bytes (truncated file?)`);
    }
    if (b < end) throw new SafetensorsError(`safetensors: tensor '${name}' (bytes ${b}..${e}) overlaps tensor '${prev}' (which ends at ${end})`);
    if (b > end) throw new SafetensorsError(`safetensors: ${b - end} unused bytes before tensor '${name}' at offset ${end}: data_offsets must be contiguous`);
    const known = READ_DTYPE.get(info.dtype);
    if (known !== undefined) {
      const numel = info.shape.reduce((a, s) => a * s, 1);
      if (numel * known.size !== e - b) {
        throw new SafetensorsError(
          `safetensors: tensor '${name}' has dtype ${info.dtype} and shape [${info.shape.join(', ')}] (${numel * known.size} bytes), but its data_offsets span ${e - b} bytes`,
        );
      }
    }
    end = e;
    prev = name;
  }
  if (end !== dataLength) throw new SafetensorsError(`safetensors: ${dataLength - end} bytes after the last tensor: the data section is longer than the header describes`);
  return { tensors, metadata, dataStart: 8 + n };
}

/** Half-precision bits to a number (exact). */
function f16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeTensor(name: string, info: TensorInfo, raw: Uint8Array): Tensor {
  const known = READ_DTYPE.get(info.dtype);
  if (known === undefined) {
    throw new SafetensorsError(`safetensors: tensor '${name}' has dtype ${info.dtype}, which tensorgrad cannot read (it reads ${[...READ_DTYPE.keys()].join(', ')})`);
  }
  const count = raw.length / known.size;
  // slice() copies into a fresh, aligned buffer the tensor then owns.
  const own = raw.slice();
  const view = new DataView(own.buffer);
  let data: TypedArray;
  switch (info.dtype) {
    case 'F64':
      data = LITTLE_ENDIAN ? new Float64Array(own.buffer) : Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
      break;
    case 'F32':
      data = LITTLE_ENDIAN ? new Float32Array(own.buffer) : Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
      break;
    case 'I32':
      data = LITTLE_ENDIAN ? new Int32Array(own.buffer) : Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
      break;
    case 'BOOL':
      data = own.map((v) => (v !== 0 ? 1 : 0));
      break;
    case 'F16':
      data = Float32Array.from({ length: count }, (_, i) => f16(view.getUint16(2 * i, true)));
      break;
    case 'BF16':
      data = Float32Array.from({ length: count }, (_, i) => new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0]!);
      break;
    default: {
      const read = (i: number): number | bigint =>
        info.dtype === 'I64' ? view.getBigInt64(8 * i, true)
        : info.dtype === 'I16' ? view.getInt16(2 * i, true)
        : info.dtype === 'U16' ? view.getUint16(2 * i, true)
        : info.dtype === 'I8' ? view.getInt8(i)
        : view.getUint8(i);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = read(i);
        if (v < -2147483648 || v > 2147483647) {
          throw new SafetensorsError(`safetensors: tensor '${name}' (${info.dtype}) holds ${v}, which does not fit in int32`);
        }
        out[i] = Number(v);
      }
      data = out;
    }
  }
  return Tensor.fromView(backendFor('cpu').fromArray(data, info.shape));
}

/**
 * Decode safetensors bytes into named tensors (in file order) and the header's metadata.
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * tensors.get('w')?.shape; // [2, 3]
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const header = parseSafetensorsHeader(bytes);
  const tensors = new Map<string, Tensor>();
  for (const [name, info] of header.tensors) {
    const [b, e] = info.dataOffsets;
    tensors.set(name, decodeTensor(name, info, bytes.subarray(header.dataStart + b, header.dataStart + e)));
  }
  return { tensors, metadata: header.metadata };
}
