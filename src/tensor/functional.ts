/**
 * Free-function forms (`tg.add(a, b)`, `tg.exp(x)`, `tg.cat([...])`) of the Tensor methods, plus
 * the ops that take several tensors.
 */
import { apply } from '../autograd/function.js';
import * as M from '../autograd/ops/movement.js';
import { promoteTypes } from './dtype.js';
import { fmtShape, normalizeDim, sameShape } from './shape.js';
import { argTypeName, checkOperand } from './checks.js';
import { matmul as matmulImpl, Tensor, where as whereImpl, type Scalar, type TensorLike, type ValuesIndices, type VarOptions } from './tensor.js';

type Dims = number | readonly number[] | null;

function scalarFirst(a: TensorLike, b: TensorLike, op: string): [Tensor, TensorLike] {
  checkOperand(op, 'other', 2, b);
  if (a instanceof Tensor) return [a, b];
  throw new TypeError(`${op}(): expected the first argument to be a Tensor`);
}

/** `a + alpha * b`; either operand may be a number. */
export function add(a: TensorLike, b: TensorLike, opts: { alpha?: number } = {}): Tensor {
  checkOperand('add', 'input', 1, a);
  if (!(a instanceof Tensor) && b instanceof Tensor) return (opts.alpha !== undefined ? b.mul(opts.alpha) : b).add(a);
  const [x, y] = scalarFirst(a, b, 'add');
  return x.add(y, opts);
}
export function sub(a: TensorLike, b: TensorLike, opts: { alpha?: number } = {}): Tensor {
  checkOperand('sub', 'input', 1, a);
  if (!(a instanceof Tensor) && b instanceof Tensor) return (opts.alpha !== undefined ? b.mul(opts.alpha) : b).rsub(a);
  const [x, y] = scalarFirst(a, b, 'sub');
  return x.sub(y, opts);
}
export function mul(a: TensorLike, b: TensorLike): Tensor {
  checkOperand('mul', 'input', 1, a);
  if (!(a instanceof Tensor) && b instanceof Tensor) return b.mul(a);
  const [x, y] = scalarFirst(a, b, 'mul');
  return x.mul(y);
}
export function div(a: TensorLike, b: TensorLike, opts: { roundingMode?: 'trunc' | 'floor' | null } = {}): Tensor {
  checkOperand('div', 'input', 1, a);
  if (!(a instanceof Tensor) && b instanceof Tensor) return b.rdiv(a, opts);
  const [x, y] = scalarFirst(a, b, 'div');
  return x.div(y, opts);
}
export function pow(a: TensorLike, b: TensorLike): Tensor {
  checkOperand('pow', 'input', 1, a);
  if (!(a instanceof Tensor) && b instanceof Tensor) return b.rpow(a);
  const [x, y] = scalarFirst(a, b, 'pow');
  return x.pow(y);
}
export const rsub = (a: Tensor, b: TensorLike): Tensor => a.rsub(b);
export const maximum = (a: Tensor, b: TensorLike): Tensor => a.maximum(b);
export const minimum = (a: Tensor, b: TensorLike): Tensor => a.minimum(b);
export const atan2 = (a: Tensor, b: TensorLike): Tensor => a.atan2(b);
export const eq = (a: Tensor, b: TensorLike): Tensor => a.eq(b);
export const ne = (a: Tensor, b: TensorLike): Tensor => a.ne(b);
export const lt = (a: Tensor, b: TensorLike): Tensor => a.lt(b);
export const le = (a: Tensor, b: TensorLike): Tensor => a.le(b);
export const gt = (a: Tensor, b: TensorLike): Tensor => a.gt(b);
export const ge = (a: Tensor, b: TensorLike): Tensor => a.ge(b);
export const logicalAnd = (a: Tensor, b: TensorLike): Tensor => a.logicalAnd(b);
export const logicalOr = (a: Tensor, b: TensorLike): Tensor => a.logicalOr(b);
export const logicalXor = (a: Tensor, b: TensorLike): Tensor => a.logicalXor(b);
export const logicalNot = (a: Tensor): Tensor => a.logicalNot();
export const isnan = (a: Tensor): Tensor => a.isnan();
export const isfinite = (a: Tensor): Tensor => a.isfinite();
export const isinf = (a: Tensor): Tensor => a.isinf();
export const equal = (a: Tensor, b: Tensor): boolean => a.equal(b);
export const allclose = (a: Tensor, b: Tensor, opts?: { rtol?: number; atol?: number; equalNan?: boolean }): boolean => a.allclose(b, opts);
export const isclose = (a: Tensor, b: Tensor, opts?: { rtol?: number; atol?: number; equalNan?: boolean }): Tensor => a.isclose(b, opts);

/** `torch.where(condition, a, b)`; `a`/`b` may be numbers. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return whereImpl(condition, a, b);
}
export const maskedFill = (x: Tensor, mask: Tensor, value: TensorLike): Tensor => x.maskedFill(mask, value);

export const neg = (x: Tensor): Tensor => x.neg();
export const abs = (x: Tensor): Tensor => x.abs();
export const sign = (x: Tensor): Tensor => x.sign();
export const exp = (x: Tensor): Tensor => x.exp();
export const expm1 = (x: Tensor): Tensor => x.expm1();
export const log = (x: Tensor): Tensor => x.log();
export const log1p = (x: Tensor): Tensor => x.log1p();
export const sqrt = (x: Tensor): Tensor => x.sqrt();
export const rsqrt = (x: Tensor): Tensor => x.rsqrt();
export const square = (x: Tensor): Tensor => x.square();
export const sin = (x: Tensor): Tensor => x.sin();
export const cos = (x: Tensor): Tensor => x.cos();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const relu = (x: Tensor): Tensor => x.relu();
export const reciprocal = (x: Tensor): Tensor => x.reciprocal();
export const floor = (x: Tensor): Tensor => x.floor();
export const ceil = (x: Tensor): Tensor => x.ceil();
export const round = (x: Tensor): Tensor => x.round();
export const clamp = (x: Tensor, min?: number | null, max?: number | null): Tensor => x.clamp(min, max);
export const clip = clamp;

export const sum = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.sum(dim, keepdim);
export const mean = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.mean(dim, keepdim);
export const prod = (x: Tensor, dim?: number | null, keepdim = false): Tensor => x.prod(dim, keepdim);
export const amax = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.amax(dim, keepdim);
export const amin = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.amin(dim, keepdim);
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, other: Tensor): Tensor;
export function max(x: Tensor, arg?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  if (arg === undefined) return x.max();
  return arg instanceof Tensor ? x.max(arg) : x.max(arg, keepdim);
}
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, other: Tensor): Tensor;
export function min(x: Tensor, arg?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  if (arg === undefined) return x.min();
  return arg instanceof Tensor ? x.min(arg) : x.min(arg, keepdim);
}
export const argmax = (x: Tensor, dim?: number | null, keepdim = false): Tensor => x.argmax(dim, keepdim);
export const argmin = (x: Tensor, dim?: number | null, keepdim = false): Tensor => x.argmin(dim, keepdim);
export const variance = (x: Tensor, dim?: Dims | boolean, opts?: VarOptions | boolean, keepdim?: boolean): Tensor => x.var(dim, opts, keepdim);
export { variance as var };
export const std = (x: Tensor, dim?: Dims | boolean, opts?: VarOptions | boolean, keepdim?: boolean): Tensor => x.std(dim, opts, keepdim);
export const logsumexp = (x: Tensor, dim: number | readonly number[], keepdim = false): Tensor => x.logsumexp(dim, keepdim);
export const norm = (x: Tensor, p: number | 'fro' = 2, dim?: Dims, keepdim = false): Tensor => x.norm(p, dim, keepdim);
export const all = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.all(dim, keepdim);
export const any = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.any(dim, keepdim);
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

export const matmul = (a: Tensor, b: Tensor): Tensor => matmulImpl(a, b);
export const mm = (a: Tensor, b: Tensor): Tensor => a.mm(b);
export const bmm = (a: Tensor, b: Tensor): Tensor => a.bmm(b);
export const mv = (a: Tensor, v: Tensor): Tensor => a.mv(v);
export const dot = (a: Tensor, b: Tensor): Tensor => a.dot(b);
export const outer = (a: Tensor, b: Tensor): Tensor => a.outer(b);

export const reshape = (x: Tensor, shape: readonly number[]): Tensor => x.reshape(shape);
export const permute = (x: Tensor, dims: readonly number[]): Tensor => x.permute(dims);
export const transpose = (x: Tensor, d0: number, d1: number): Tensor => x.transpose(d0, d1);
export const t = (x: Tensor): Tensor => x.t();
export const squeeze = (x: Tensor, dim?: number | readonly number[]): Tensor => x.squeeze(dim);
export const unsqueeze = (x: Tensor, dim: number): Tensor => x.unsqueeze(dim);
export const flatten = (x: Tensor, startDim = 0, endDim = -1): Tensor => x.flatten(startDim, endDim);
export const narrow = (x: Tensor, dim: number, start: number, length: number): Tensor => x.narrow(dim, start, length);
export const select = (x: Tensor, dim: number, index: number): Tensor => x.select(dim, index);
export const split = (x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] => x.split(sizes, dim);
export const chunk = (x: Tensor, chunks: number, dim = 0): Tensor[] => x.chunk(chunks, dim);
export const unbind = (x: Tensor, dim = 0): Tensor[] => x.unbind(dim);
export const gather = (x: Tensor, dim: number, index: Tensor): Tensor => x.gather(dim, index);
export const scatter = (x: Tensor, dim: number, index: Tensor, src: TensorLike): Tensor => x.scatter(dim, index, src);
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => x.scatterAdd(dim, index, src);
export const indexSelect = (x: Tensor, dim: number, index: Tensor): Tensor => x.indexSelect(dim, index);
export const tril = (x: Tensor, diagonal = 0): Tensor => x.tril(diagonal);
export const triu = (x: Tensor, diagonal = 0): Tensor => x.triu(diagonal);
export const clone = (x: Tensor): Tensor => x.clone();
export const detach = (x: Tensor): Tensor => x.detach();

/** PyTorch's TensorList argument checks: an array whose elements are all tensors. */
function checkTensorList(op: string, tensors: unknown): void {
  if (!Array.isArray(tensors)) throw new TypeError(`${op}(): argument 'tensors' (position 1) must be tuple of Tensors, not ${argTypeName(tensors)}`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`expected Tensor as element ${i} in argument 0, but got ${argTypeName(t)}`);
  });
}

/** Concatenate along `dim` (all tensors of equal rank and matching other sizes; dtypes promote). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('cat', tensors);
  if (tensors.length === 0) throw new RangeError('torch.cat(): expected a non-empty list of Tensors');
  // NOTE: PyTorch skips legacy empty 1-D tensors of shape [0] in cat.
  const xs = tensors.filter((x) => !(x.ndim === 1 && x.shape[0] === 0));
  if (xs.length === 0) return tensors[0]!;
  const ref = xs[0]!;
  if (ref.ndim === 0) throw new RangeError('zero-dimensional tensor (at position 0) cannot be concatenated');
  const d = normalizeDim(dim, ref.ndim);
  const dtype = xs.reduce((acc, x) => promoteTypes(acc, x.dtype), ref.dtype);
  xs.forEach((x, i) => {
    if (x.ndim !== ref.ndim) {
      throw new RangeError(`Tensors must have same number of dimensions: got ${ref.ndim} and ${x.ndim}`);
    }
    if (x.device !== ref.device) throw new Error(`Expected all tensors to be on the same device, but found at least two devices, ${ref.device} and ${x.device}!`);
    for (let k = 0; k < ref.ndim; k++) {
      if (k !== d && x.shape[k] !== ref.shape[k]) {
        throw new RangeError(`Sizes of tensors must match except in dimension ${d}. Expected size ${ref.shape[k]} but got size ${x.shape[k]} for tensor number ${i} in the list.`);
      }
    }
  });
  // NOTE: always a new tensor, as torch.cat: writing to the result must not reach the input.
  if (xs.length === 1) return xs[0]!.dtype === dtype ? xs[0]!.clone() : xs[0]!.to(dtype);
  return apply(M.cat, xs.map((x) => x.to(dtype)), { dim: d, sizes: xs.map((x) => x.shape[d]!) });
}
export const concat = cat;

/** Stack equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('stack', tensors);
  if (tensors.length === 0) throw new RangeError('stack expects a non-empty TensorList');
  const ref = tensors[0]!;
  tensors.forEach((x, i) => {
    if (!sameShape(x.shape, ref.shape)) {
      throw new RangeError(`stack expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(x.shape)} at entry ${i}`);
    }
  });
  const d = normalizeDim(dim, ref.ndim + 1);
  return cat(tensors.map((x) => x.unsqueeze(d)), d);
}

export type { Scalar };
