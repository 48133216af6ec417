/**
 * Reader (and writer) for the IDX file format, the container the MNIST family of datasets ships in
 * (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE").
 *
 * Layout, all multi-byte integers big-endian:
 *
 * ```text
 * offset 0   2 bytes  0x00 0x00
 * offset 2   1 byte   element type: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double
 * offset 3   1 byte   number of dimensions d
 * offset 4   4*d      dimension sizes (uint32 each)
 * then               prod(dims) elements, row-major, big-endian
 * ```
 *
 * `parseIdx` is pure and browser-safe. Gzip-compressed input (the `.gz` files as distributed) is
 * handled by `decodeIdx` / `readIdxFile`, which load `node:zlib` / `node:fs` lazily with a dynamic
 * `import()`, so importing this module never pulls Node built-ins into a browser bundle.
 */

/** Element types an IDX file can hold, with tensorgrad-style names. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array for each IDX element type. */
export interface IdxArrayTypes {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type IdxTypedArray = IdxArrayTypes[IdxDtype];

/** A decoded IDX file. A discriminated union, so checking `dtype` narrows `data`. */
export type IdxArray = {
  [D in IdxDtype]: {
    dtype: D;
    /** Dimension sizes, outermost first, e.g. `[60000, 28, 28]` for MNIST training images. */
    shape: number[];
    /** `prod(shape)` elements in row-major order, converted to host byte order. */
    data: IdxArrayTypes[D];
  };
}[IdxDtype];

interface DtypeInfo {
  dtype: IdxDtype;
  size: number;
}

const CODE_TO_DTYPE: ReadonlyMap<number, DtypeInfo> = new Map([
  [0x08, { dtype: 'uint8', size: 1 }],
  [0x09, { dtype: 'int8', size: 1 }],
  [0x0b, { dtype: 'int16', size: 2 }],
  [0x0c, { dtype: 'int32', size: 4 }],
  [0x0d, { dtype: 'float32', size: 4 }],
  [0x0e, { dtype: 'float64', size: 8 }],
]);

const DTYPE_TO_CODE: Readonly<Record<IdxDtype, number>> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

const DTYPE_SIZE: Readonly<Record<IdxDtype, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** Error thrown for malformed IDX input. */
export class IdxFormatError extends Error {
  override name = 'IdxFormatError';
}

/** True when `bytes` starts with the gzip magic number 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

/**
 * Decode an uncompressed IDX buffer.
 *
 * For the 1-byte types (`uint8`, `int8`) the returned `data` is a zero-copy view into `bytes`
 * (mutating one mutates the other); the wider types are copied out and byte-swapped to host order.
 *
 * Throws `IdxFormatError` with a description of what is wrong on gzip input (use `decodeIdx` or
 * `readIdxFile`), bad magic, an unknown element type, a truncated header or body, or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (isGzip(bytes)) {
    throw new IdxFormatError(
      'IDX: input is gzip-compressed (starts with 0x1f 0x8b); decompress it first, ' +
        'e.g. with decodeIdx(bytes) or readIdxFile(path)',
    );
  }
  if (bytes.length < 4) {
    throw new IdxFormatError(
      `IDX: truncated header: need at least 4 bytes for the magic number, got ${bytes.length}`,
    );
  }
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  const code = bytes[2] ?? 0;
  const ndim = bytes[3] ?? 0;
  if (b0 !== 0 || b1 !== 0) {
    throw new IdxFormatError(
      `IDX: bad magic number ${hex(b0)} ${hex(b1)} ${hex(code)} ${hex(ndim)}: ` +
        'the first two bytes must be 0x00 0x00 (is this really an IDX file?)',
    );
  }
  const info = CODE_TO_DTYPE.get(code);
  if (info === undefined) {
    throw new IdxFormatError(
      `IDX: unknown element type code ${hex(code)} in magic number; expected one of ` +
        '0x08 (ubyte), 0x09 (byte), 0x0b (short), 0x0c (int), 0x0d (float), 0x0e (double)',
    );
  }
  const headerSize = 4 + 4 * ndim;
  if (bytes.length < headerSize) {
    throw new IdxFormatError(
      `IDX: truncated header: ${ndim} dimensions need ${headerSize} header bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const bodySize = count * info.size;
  const available = bytes.length - headerSize;
  if (available < bodySize) {
    throw new IdxFormatError(
      `IDX: truncated data: shape [${shape.join(', ')}] of ${info.dtype} needs ${bodySize} bytes ` +
        `after the ${headerSize}-byte header, but only ${available} are present`,
    );
  }
  if (available > bodySize) {
    throw new IdxFormatError(
      `IDX: ${available - bodySize} unexpected trailing bytes after the data of shape ` +
        `[${shape.join(', ')}] (${info.dtype})`,
    );
  }
  const start = bytes.byteOffset + headerSize;
  switch (info.dtype) {
    case 'uint8':
      return { dtype: 'uint8', shape, data: new Uint8Array(bytes.buffer, start, count) };
    case 'int8':
      return { dtype: 'int8', shape, data: new Int8Array(bytes.buffer, start, count) };
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(headerSize + 2 * i, false);
      return { dtype: 'int16', shape, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(headerSize + 4 * i, false);
      return { dtype: 'int32', shape, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(headerSize + 4 * i, false);
      return { dtype: 'float32', shape, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(headerSize + 8 * i, false);
      return { dtype: 'float64', shape, data };
    }
  }
}

/**
 * Encode an array as an uncompressed IDX buffer (the inverse of `parseIdx`). Handy for writing
 * test fixtures or caches. `data.length` must equal `prod(shape)`.
 */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const { dtype, shape, data } = arr;
  if (shape.length > 255) throw new RangeError(`IDX: at most 255 dimensions, got ${shape.length}`);
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new RangeError(`IDX: dimension sizes must be integers in [0, 2^32), got ${d}`);
    }
    count *= d;
  }
  if (data.length !== count) {
    throw new RangeError(
      `IDX: shape [${shape.join(', ')}] holds ${count} elements but data has ${data.length}`,
    );
  }
  const size = DTYPE_SIZE[dtype];
  const headerSize = 4 + 4 * shape.length;
  const out = new Uint8Array(headerSize + count * size);
  const view = new DataView(out.buffer);
  out[2] = DTYPE_TO_CODE[dtype];
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  switch (arr.dtype) {
    case 'uint8':
      out.set(arr.data, headerSize);
      break;
    case 'int8':
      out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, count), headerSize);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(headerSize + 2 * i, arr.data[i] ?? 0, false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(headerSize + 4 * i, arr.data[i] ?? 0, false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(headerSize + 4 * i, arr.data[i] ?? 0, false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(headerSize + 8 * i, arr.data[i] ?? 0, false);
      break;
  }
  return out;
}

/** Gunzip `bytes` when they start with the gzip magic number, otherwise return them unchanged. (Node only.) */
export async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const zlib = await import('node:zlib');
  const { promisify } = await import('node:util');
  const out = await promisify(zlib.gunzip)(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Decode IDX bytes that may be gzip-compressed. (Node only when the input is gzipped.) */
export async function decodeIdx(bytes: Uint8Array): Promise<IdxArray> {
  return parseIdx(await gunzipIfNeeded(bytes));
}

/**
 * Read and decode an IDX file, plain or gzip-compressed (detected from the content, not the name).
 * Node only: loads `node:fs` and `node:zlib` on demand. Errors name the file.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const { readFile } = await import('node:fs/promises');
  const buf = await readFile(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  try {
    return await decodeIdx(bytes);
  } catch (err) {
    if (err instanceof IdxFormatError) {
      throw new IdxFormatError(`${err.message} (file: ${path})`, { cause: err });
    }
    throw err;
  }
}
