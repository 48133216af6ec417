/**
 * Argument checks shared by the Tensor layer and the functional APIs, worded as PyTorch words
 * them: operand and argument types, integer sizes, dtypes, in-place casting and overlap rules,
 * and a cheap index range check.
 */
import { backendOf } from './backend/device.js';
import { isDType, isFloating, type DType } from './dtype.js';
import { Tensor, type TensorLike } from './tensor.js';

/** PyTorch's short scalar-type names, as its dtype errors print them. @example SCALAR_NAME.int32;   // 'Int' */
export const SCALAR_NAME: Record<DType, string> = { float32: 'Float', float64: 'Double', int32: 'Int', bool: 'Bool' };

/** PyTorch's `canCast`: no floating to integral or bool, no integral to bool. @example canCast('float32', 'int32');   // false */
export function canCast(from: DType, to: DType): boolean {
  if (isFloating(from) && !isFloating(to)) return false;
  return !(from !== 'bool' && to === 'bool');
}

/**
 * In-place writes refuse layouts where several elements share memory (an expanded dim).
 * @example
 * checkNoInternalOverlap(tg.zeros(1).expand([3]));   // throws: clone() first
 */
export function checkNoInternalOverlap(t: Tensor): void {
  for (let i = 0; i < t.ndim; i++) {
    if (t.strides[i] === 0 && t.shape[i]! > 1) {
      throw new Error('unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.');
    }
  }
}

const ARRAY_HELP = '\n- help: make a tensor of the array first: tg.tensor(array)';

/**
 * An integer argument.
 * @example
 * checkInt('narrow', 'start', 2, 0.5);   // TypeError: narrow(): argument 'start' (position 2) must be int, not float
 */
export function checkInt(op: string, arg: string, position: number, v: unknown): asserts v is number {
  if (typeof v === 'number' && Number.isInteger(v)) return;
  throw new TypeError(`${op}(): argument '${arg}' (position ${position}) must be int, not ${typeof v === 'number' ? 'float' : argTypeName(v)}`);
}

/**
 * The first value of the int32 `index` outside `[0, size)` (other than `ignore`), or null. One
 * pass over the storage, without a copy where it lives on the host; broadcast dims are read
 * once. NOTE: devices that read back only asynchronously (WebGPU) are not checked (null).
 * @example
 * findOutOfRange(tg.tensor([0, 3], { dtype: 'int32' }), 3);   // 3
 */
export function findOutOfRange(index: Tensor, size: number, ignore?: number): number | null {
  if (backendOf(index).canReadSync?.(index) === false) return null;
  const onHost = index.device === 'cpu';
  const data = onHost ? index.storage.data : index.dataSync();
  // The distinct elements: drop broadcast (stride 0) and size-1 dims.
  const dims: [number, number][] = [];
  if (onHost) {
    for (let i = 0; i < index.ndim; i++) {
      const n = index.shape[i]!;
      if (n === 0) return null;
      if (n > 1 && index.strides[i] !== 0) dims.push([n, index.strides[i]!]);
    }
  } else dims.push([data.length, 1]);
  const bad = (v: number) => v !== ignore && (v < 0 || v >= size);
  const scan = (k: number, off: number): number | null => {
    if (k === dims.length) return bad(data[off]!) ? data[off]! : null;
    const [n, s] = dims[k]!;
    if (k === dims.length - 1) {
      for (let i = 0, o = off; i < n; i++, o += s) if (bad(data[o]!)) return data[o]!;
      return null;
    }
    for (let i = 0; i < n; i++) {
      const r = scan(k + 1, off + i * s);
      if (r !== null) return r;
    }
    return null;
  };
  return scan(0, onHost ? index.offset : 0);
}

/** A value's type as PyTorch's argument errors name it (JavaScript arrays are lists). @example argTypeName([1]);   // 'list' */
export function argTypeName(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor && v.constructor !== Object ? v.constructor.name : 'object';
  return typeof v;
}

/**
 * Check an operand that may be a Tensor, a number or a boolean, with PyTorch's wording.
 * @example
 * checkOperand('add', 'other', 1, [1, 2]);   // TypeError: add(): argument 'other' (position 1) must be Tensor, not list
 */
export function checkOperand(op: string, arg: string, position: number, v: unknown): asserts v is TensorLike {
  if (v instanceof Tensor || typeof v === 'number' || typeof v === 'boolean') return;
  const help = Array.isArray(v) ? ARRAY_HELP : '';
  throw new TypeError(`${op}(): argument '${arg}' (position ${position}) must be Tensor, not ${argTypeName(v)}${help}`);
}

/**
 * Check an argument that must be a Tensor.
 * @example
 * checkTensorArg('linear', 'input', 1, [[1, 2, 3]]);   // TypeError: linear(): argument 'input' (position 1) must be Tensor, not list
 */
export function checkTensorArg(op: string, arg: string, position: number, v: unknown): asserts v is Tensor {
  if (v instanceof Tensor) return;
  const help = Array.isArray(v) ? ARRAY_HELP : '';
  throw new TypeError(`${op}(): argument '${arg}' (position ${position}) must be Tensor, not ${argTypeName(v)}${help}`);
}

const INT_DTYPES = new Set(['int64', 'long', 'int16', 'short', 'int8', 'uint8', 'uint16', 'uint32', 'uint64']);

/**
 * Validate a dtype argument: tensorgrad has float32, float64, int32 and bool.
 * @example
 * checkDType('int64');   // TypeError: dtype 'int64' is not supported; tensorgrad stores integers as int32
 */
export function checkDType(d: unknown): asserts d is DType {
  if (isDType(d)) return;
  const name = String(d).replace(/^torch\./, '');
  if (INT_DTYPES.has(name)) throw new TypeError(`dtype '${name}' is not supported; tensorgrad stores integers as int32`);
  if (['float16', 'half', 'bfloat16'].includes(name)) throw new TypeError(`dtype '${name}' is not supported; tensorgrad stores floats as float32 or float64`);
  throw new TypeError(`invalid dtype '${name}' (expected one of float32, float64, int32, bool)`);
}
