/** The element types tensorgrad supports, named as PyTorch names them (without the `torch.` prefix). */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** The storage arrays behind each dtype (bool is stored as bytes, 0 or 1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** PyTorch's default floating dtype (`torch.get_default_dtype()`). */
export const DEFAULT_FLOAT: DType = 'float32';

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** Allocate a zero-filled array of `n` elements for `dtype`. */
export function allocArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

/** The dtype a TypedArray maps to (Uint8Array is taken as bool). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** `torch.promote_types` restricted to tensorgrad's dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype of `tensor op scalar` (PyTorch's result_type with a wrapped number): a scalar only
 * raises the category (bool < integer < floating), never the width within one.
 */
export function promoteWithScalar(d: DType, s: number | boolean): DType {
  if (typeof s === 'boolean') return d;
  if (Number.isInteger(s)) return d === 'bool' ? 'int32' : d;
  return isFloating(d) ? d : DEFAULT_FLOAT;
}

/** Convert a JS number into the value a `dtype` array would hold (PyTorch truncates toward zero). */
export function castScalar(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(v);
    case 'float64': return v;
    case 'int32': return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case 'bool': return v !== 0 ? 1 : 0;
  }
}

/** PyTorch's printed type name for error messages, e.g. `torch.FloatTensor`. */
export function torchTypeName(d: DType): string {
  return { float32: 'torch.FloatTensor', float64: 'torch.DoubleTensor', int32: 'torch.IntTensor', bool: 'torch.BoolTensor' }[d];
}
