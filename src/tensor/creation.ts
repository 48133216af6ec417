/** Tensor creation: from data, filled, ranges, identity, and seeded random tensors. */
import type { Device } from './backend/backend.js';
import { backendFor } from './backend/device.js';
import { allocArray, DEFAULT_FLOAT, dtypeOfArray, isFloating, type DType, type TypedArray } from './dtype.js';
import { normalValues, randintValues, randpermValues, uniformValues, type Generator } from './random.js';
import { checkSizes, fmtShape, numel } from './shape.js';
import { checkDType, checkInt } from './checks.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface TensorDataOptions extends TensorOptions {
  /** The shape of flat `data` (a TypedArray or number[]); required for flat data of rank != 1. */
  shape?: readonly number[];
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** Anything `tensor()` accepts (the small integer arrays become int32). */
export type TensorData = NestedArray | readonly NestedArray[] | TypedArray | Uint8ClampedArray | Int8Array | Int16Array | Uint16Array | readonly number[];

function finish(data: TypedArray, shape: readonly number[], opts: TensorOptions): Tensor {
  if (opts.device !== undefined && opts.device !== 'cpu' && opts.device !== 'gpu') throw new TypeError(`invalid device '${String(opts.device)}' (expected 'cpu' or 'gpu')`);
  const t = Tensor.fromView(backendFor(opts.device ?? 'cpu').fromArray(data, shape));
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function convert(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  if (dtype === 'int32') for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]!);
  else if (dtype === 'bool') for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

function checkShape(shape: readonly number[], op: string, opts: TensorOptions = {}): void {
  checkSizes(op, shape);
  if (opts.dtype !== undefined) checkDType(opts.dtype);
}

/** Integer typed arrays whose values int32 holds: their data becomes int32. */
function isSmallIntArray(a: ArrayBufferView): a is Uint8Array | Uint8ClampedArray | Int8Array | Int16Array | Uint16Array {
  return a instanceof Uint8Array || a instanceof Uint8ClampedArray || a instanceof Int8Array || a instanceof Int16Array || a instanceof Uint16Array;
}

/**
 * Create a tensor from nested arrays, a flat TypedArray/number[] with `shape`, or a number.
 * NOTE: JavaScript has no int literals, so plain numbers become float32 (as TensorFlow.js);
 * pass `{ dtype: 'int32' }` or an Int32Array for integers (indices, class labels). Booleans
 * become bool. Uint8Array (image bytes) and the other small integer arrays become int32 with
 * their values kept; bool tensors hold 0 or 1 whatever the source.
 * @example
 * const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const idx = tg.tensor([0, 2, 1], { dtype: 'int32' });
 */
export function tensor(data: TensorData | number | boolean, opts: TensorDataOptions = {}): Tensor {
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  if (data instanceof Tensor) {
    throw new TypeError('tensor(): data is already a Tensor\n- help: copy it with t.clone() (t.detach().clone() for a copy outside the graph), convert it with t.to(dtype)');
  }
  if (opts.shape !== undefined) checkSizes('tensor', opts.shape);
  if (ArrayBuffer.isView(data)) {
    const arr = data as ArrayBufferView;
    const src: TypedArray = arr instanceof Float32Array || arr instanceof Float64Array || arr instanceof Int32Array
      ? arr
      : isSmallIntArray(arr) ? Int32Array.from(arr) : Float64Array.from(arr as unknown as ArrayLike<number>);
    const dtype = opts.dtype ?? dtypeOfArray(src);
    const shape = opts.shape ?? [src.length];
    if (numel(shape) !== src.length) throw new RangeError(`shape '${fmtShape(shape)}' is invalid for input of size ${src.length}`);
    // Always copy: the tensor owns its storage. NOTE: bool always converts, so it holds 0 or 1.
    return finish(dtypeOfArray(src) === dtype && dtype !== 'bool' ? (src === arr ? src.slice() : src) : convert(src, dtype), shape, opts);
  }
  const shape: number[] = [];
  let v: unknown = data;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  const flat: number[] = [];
  let sawBool = false;
  let sawNumber = false;
  const walk = (x: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) throw new RangeError(`expected a number at dim ${dim}, got a sequence`);
      if (typeof x === 'boolean') sawBool = true;
      else if (typeof x === 'number') sawNumber = true;
      else if (x instanceof Tensor) throw new TypeError('tensor(): an element is a Tensor\n- help: combine tensors with tg.stack([...]) or tg.cat([...])');
      else throw new TypeError(`tensor(): could not convert ${typeof x} to a number`);
      flat.push(Number(x));
      return;
    }
    if (!Array.isArray(x)) throw new RangeError(`expected sequence of length ${shape[dim]} at dim ${dim} (got a number)`);
    if (x.length !== shape[dim]) throw new RangeError(`expected sequence of length ${shape[dim]} at dim ${dim} (got ${x.length})`);
    for (const e of x) walk(e, dim + 1);
  };
  walk(data, 0);
  const dtype = opts.dtype ?? (sawBool && !sawNumber ? 'bool' : DEFAULT_FLOAT);
  let outShape: readonly number[] = shape;
  if (opts.shape) {
    if (numel(opts.shape) !== flat.length) throw new RangeError(`shape '${fmtShape(opts.shape)}' is invalid for input of size ${flat.length}`);
    outShape = opts.shape;
  }
  return finish(convert(flat, dtype), outShape, opts);
}

function filled(shape: readonly number[], value: number, opts: TensorOptions, op: string): Tensor {
  checkShape(shape, op, opts);
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  const arr = allocArray(dtype, numel(shape));
  if (value !== 0) arr.fill(dtype === 'bool' ? (value ? 1 : 0) : value);
  return finish(arr, shape, opts);
}

function sizes(args: readonly unknown[]): { shape: number[]; opts: TensorOptions & RandomOptions } {
  let opts: TensorOptions & RandomOptions = {};
  let rest = args;
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) {
    opts = last as TensorOptions;
    rest = args.slice(0, -1);
  }
  const shape = rest.length === 1 && Array.isArray(rest[0]) ? [...(rest[0] as number[])] : (rest as number[]);
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  return { shape, opts };
}

type SizeArgs = (number | readonly number[] | RandomOptions)[];

/** `zeros(2, 3)`, `zeros([2, 3], { dtype: 'float64' })`. */
export function zeros(...args: SizeArgs): Tensor {
  const { shape, opts } = sizes(args);
  return filled(shape, 0, opts, 'zeros');
}
export function ones(...args: SizeArgs): Tensor {
  const { shape, opts } = sizes(args);
  return filled(shape, 1, opts, 'ones');
}
/** Uninitialised in PyTorch; zero-filled here (JavaScript arrays start zeroed). */
export function empty(...args: SizeArgs): Tensor {
  const { shape, opts } = sizes(args);
  return filled(shape, 0, opts, 'empty');
}
/** A tensor of `shape` filled with `value`; the dtype follows the value (bool, or default float). */
export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  if (!Array.isArray(shape)) throw new TypeError(`full(): argument 'size' (position 1) must be tuple of ints, not ${typeof shape}`);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`full(): argument 'fill_value' (position 2) must be Number, not ${Array.isArray(value) ? 'list' : typeof value}`);
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : DEFAULT_FLOAT);
  return filled(shape, Number(value), { ...opts, dtype }, 'full');
}

/**
 * `arange(end)`, `arange(start, end, step?)`. Integer arguments give int32, otherwise the default
 * float dtype (PyTorch gives int64 for integers).
 */
export function arange(...args: (number | TensorOptions)[]): Tensor {
  const last = args[args.length - 1];
  const opts: TensorOptions = typeof last === 'object' ? last : {};
  const nums = args.filter((a): a is number => typeof a === 'number');
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  const [start, end, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0) throw new RangeError('step must be nonzero');
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new RangeError(`unsupported range: ${start} -> ${end}`);
  if ((end - start) / step < 0) throw new RangeError('upper bound and larger bound inconsistent with step sign');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? (nums.every(Number.isInteger) ? 'int32' : DEFAULT_FLOAT);
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(arr, [n], opts);
}

/** `steps` evenly spaced values from start to end inclusive (PyTorch's symmetric formula). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError('number of steps must be non-negative');
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  const arr = allocArray(dtype, steps);
  // NOTE: PyTorch computes in the output's precision (float32 rounds every step, so
  // linspace(0.1, 0.7, 4)[1] is 0.29999998), fills the first half from the start and the second
  // from the end, and gives [start] for one step.
  const r = dtype === 'float32' ? Math.fround : (v: number) => v;
  const [s, e] = [r(start), r(end)];
  const step = steps > 1 ? r(r(e - s) / (steps - 1)) : 0;
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) arr[i] = steps === 1 ? s : i < half ? r(s + r(step * i)) : r(e - r(step * (steps - i - 1)));
  return finish(arr, [steps], opts);
}

/**
 * Identity matrix (n x m).
 * @example
 * tg.eye(2, 3);   // [[1, 0, 0], [0, 1, 0]]
 */
export function eye(n: number, m: number | TensorOptions = n, opts: TensorOptions = {}): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const o = typeof m === 'number' ? opts : m;
  checkInt('eye', 'n', 1, n);
  checkInt('eye', 'm', 2, cols);
  if (n < 0) throw new RangeError(`n must be greater or equal to 0, got ${n}`);
  if (cols < 0) throw new RangeError(`m must be greater or equal to 0, got ${cols}`);
  if (o.dtype !== undefined) checkDType(o.dtype);
  const arr = allocArray(o.dtype ?? DEFAULT_FLOAT, n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) arr[i * cols + i] = 1;
  return finish(arr, [n, cols], o);
}

function randomFloat(shape: readonly number[], opts: RandomOptions, op: string, values: (n: number, double: boolean) => Float64Array): Tensor {
  checkShape(shape, op, opts);
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  if (!isFloating(dtype)) throw new TypeError(`"${op}" not implemented for '${dtype}'; use a floating dtype`);
  return finish(convert(values(numel(shape), dtype === 'float64'), dtype), shape, opts);
}

/** Uniform samples in [0, 1) (`torch.rand`), from the default or a given generator. */
export function rand(...args: SizeArgs): Tensor {
  const { shape, opts } = sizes(args);
  return randomFloat(shape, opts, 'rand', (n, d) => uniformValues(n, 0, 1, d, opts.generator));
}
/** Standard normal samples (`torch.randn`). */
export function randn(...args: SizeArgs): Tensor {
  const { shape, opts } = sizes(args);
  return randomFloat(shape, opts, 'randn', (n, d) => normalValues(n, 0, 1, d, opts.generator));
}
/**
 * Integers in [low, high) (`torch.randint(low, high, size)`, or `randint(high, size)` with low
 * 0); int32 by default. Same numbers as PyTorch for the same seed.
 * @example
 * tg.manualSeed(0);
 * tg.randint(5, [3]);   // [4, 4, 3], as torch.randint(5, (3,))
 */
export function randint(high: number, shape: readonly number[], opts?: RandomOptions): Tensor;
export function randint(low: number, high: number, shape: readonly number[], opts?: RandomOptions): Tensor;
export function randint(a: number, b: number | readonly number[], c?: readonly number[] | RandomOptions, d: RandomOptions = {}): Tensor {
  if (Array.isArray(b)) return randintImpl(0, a, b as readonly number[], (c ?? {}) as RandomOptions);
  if (!Array.isArray(c)) throw new TypeError(`randint(): argument 'size' must be tuple of ints, not ${c === undefined ? 'undefined' : typeof c}`);
  return randintImpl(a, b as number, c as readonly number[], d);
}
function randintImpl(low: number, high: number, shape: readonly number[], opts: RandomOptions): Tensor {
  checkInt('randint', 'low', 1, low);
  checkInt('randint', 'high', 2, high);
  if (!(high > low)) throw new RangeError(`random_ expects 'from' to be less than 'to', but got from=${low} >= to=${high}`);
  checkShape(shape, 'randint', opts);
  const dtype = opts.dtype ?? 'int32';
  return finish(convert(randintValues(numel(shape), low, high, opts.generator), dtype), shape, opts);
}
/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  checkInt('randperm', 'n', 1, n);
  if (n < 0) throw new RangeError(`n must be non-negative, got${n}`);
  if (opts.dtype !== undefined) checkDType(opts.dtype);
  const p = randpermValues(n, opts.generator);
  return finish(opts.dtype && opts.dtype !== 'int32' ? convert(p, opts.dtype) : p, [n], opts);
}

function likeOpts(t: Tensor, opts: RandomOptions): RandomOptions {
  return { dtype: t.dtype, device: t.device, ...opts };
}
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(t.shape, likeOpts(t, opts));
}
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(t.shape, likeOpts(t, opts));
}
export function emptyLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return empty(t.shape, likeOpts(t, opts));
}
export function fullLike(t: Tensor, value: number | boolean, opts: TensorOptions = {}): Tensor {
  return full(t.shape, value, likeOpts(t, opts));
}
export function randLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return rand(t.shape, likeOpts(t, opts));
}
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(t.shape, likeOpts(t, opts));
}
export function randintLike(t: Tensor, low: number, high: number, opts: RandomOptions = {}): Tensor {
  return randint(low, high, t.shape, likeOpts(t, opts));
}
