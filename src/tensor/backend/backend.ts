/**
 * The narrow interface between tensors and kernels. Backends see storage plus layout, never
 * tensors, graphs or gradients; they assume valid input (the Tensor layer validates).
 */
import type { DType, TypedArray } from '../dtype.js';
import type { Layout } from '../shape.js';

export type Device = 'cpu' | 'gpu';

/**
 * A flat block of elements. `version` counts in-place writes (PyTorch's version counter).
 * `data` is the host array: CPU storage always has one; gpu storage has one only while it lives
 * on the host (small tensors, float64) and throws otherwise, so read through the backend.
 */
export interface Storage {
  readonly data: TypedArray;
  readonly device: Device;
  version: number;
  /** Device storage: a tensor took a reference (reference count, scope tracking). */
  retain?(owner: object): void;
  /** Device storage: that tensor let go (`dispose()`); the last reference frees device memory. */
  release?(owner: object): void;
}

/** What a kernel reads: storage, layout and dtype. A Tensor is a View. */
export interface View extends Layout {
  readonly storage: Storage;
  readonly dtype: DType;
}

export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'rsqrt' | 'square'
  | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'reciprocal' | 'floor' | 'ceil' | 'round'
  | 'logicalNot' | 'isnan' | 'isfinite';

/** The activations a backend may fuse into `matmulBias` (their gradients need only the result). */
export type FusedActivation = 'relu' | 'tanh' | 'sigmoid';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'atan2'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'all' | 'any';
export type ArgReduceOp = 'argmax' | 'argmin';

/**
 * Sliding 2-D windows over the planes of an `(N, C, H, W)` image (im2col geometry): window
 * `(oh, ow)` reads rows `oh * stride[0] - padding[0] + ki * dilation[0]` (`ki < kernel[0]`), and
 * likewise for columns; positions outside the image read as padding. `out` is the window grid.
 */
export interface Window2d {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Top and left padding; the bottom and right follow from `out`. */
  readonly padding: readonly [number, number];
  readonly out: readonly [number, number];
}

export interface Backend {
  readonly device: Device;
  /** Wrap an array as fresh contiguous storage of `shape`. */
  fromArray(data: TypedArray, shape: readonly number[]): View;
  /** A contiguous copy of the view's elements. */
  read(x: View): TypedArray;
  /** Devices whose readback is asynchronous (WebGPU) implement this; `read` may then throw. */
  readAsync?(x: View): Promise<TypedArray>;
  /** False when `read` cannot run synchronously for this view (device tensors on WebGPU). */
  canReadSync?(x: View): boolean;
  contiguous(x: View): View;
  cast(x: View, dtype: DType): View;
  unary(op: UnaryOp, x: View, outDtype: DType): View;
  /** Equal shapes (broadcast views carry stride 0). */
  binary(op: BinaryOp, a: View, b: View, outDtype: DType): View;
  where(cond: View, a: View, b: View): View;
  /** Reduce over `axes` (sorted, unique); the result keeps reduced dims as size 1. */
  reduce(op: ReduceOp, x: View, axes: readonly number[], outDtype: DType): View;
  /** Index (int32) of the max/min along `axis` (first occurrence; NaN wins), kept as size 1. */
  argReduce(op: ArgReduceOp, x: View, axis: number): View;
  /** `[..., m, k] @ [..., k, n]` with equal batch shapes. */
  matmul(a: View, b: View): View;
  /**
   * Optional fused `a @ b + bias` (PyTorch's addmm; `bias` already expanded to the result's shape
   * through strides): the product rounded first, then the bias added, as the two ops do. Null
   * where the backend has no kernel for these operands (the op then runs matmul and add).
   * With `activation`, the activation is applied to each sum in the same kernel (`F.linear`
   * followed by relu, tanh or sigmoid in an `nn.Sequential`), with the unfused unary's formula.
   */
  matmulBias?(a: View, b: View, bias: View, activation?: FusedActivation): View | null;
  /**
   * Optional fused softmax (or logSoftmax when `log`) along `axis`: a fast path the softmax ops
   * try first. Returns null where the backend has no kernel for this input (the op then runs
   * its composite forward).
   */
  softmax?(x: View, axis: number, log: boolean): View | null;
  /**
   * Optional fused logsumexp over `axes` (reduced dims kept as size 1), with the composite
   * forward's shift by the row max; null where the backend has no kernel for this input.
   */
  logsumexp?(x: View, axes: readonly number[]): View | null;
  /**
   * Optional `x <= threshold ? 0 : grad` (PyTorch's threshold_backward: relu's gradient from its
   * result) for equal shapes and dtypes; null where the backend has no kernel for this layout
   * (the op then composes `where`).
   */
  thresholdBackward?(grad: View, x: View, threshold: number): View | null;
  /**
   * Optional erf of a float tensor in the backend's own arithmetic (the gpu device: a float32
   * kernel); null where it has none (the op then computes on the host in double precision).
   */
  erf?(x: View): View | null;
  /**
   * Optional im2col: `(N, C, H, W)` (any strides) to contiguous `(N, C * kh * kw, L)` windows,
   * zero where they read padding. Without it (and the two below) the ops compose gather/scatter.
   */
  unfold2d?(x: View, win: Window2d): View;
  /** Optional col2im (im2col's adjoint): `(N, C * kh * kw, L)`, any strides, summed into `(N, C, H, W)`. */
  fold2d?(cols: View, win: Window2d): View;
  /**
   * Optional max-pooling argmax: int32 `(N, C, oh, ow)` indices `h * W + w` of each window's max
   * in its plane (first max; a NaN wins, the last NaN, as PyTorch's CPU kernel); padding never
   * wins. With `flat` they index the whole row-major input: `((n * C + c) * H + h) * W + w`.
   */
  maxPool2dIndices?(x: View, win: Window2d, flat: boolean): View;
  /** `out[.., idx[i], ..] = x[.., index[i], ..]` along `dim` (torch.gather). */
  gather(x: View, dim: number, index: View): View;
  /** A copy of `self` with `src` scattered along `dim` (assigned, or added when `accumulate`). */
  scatter(self: View, dim: number, index: View, src: View, accumulate: boolean): View;
  /** Concatenate along `dim`. */
  cat(xs: readonly View[], dim: number): View;
  /** Write `src` (same shape, broadcast allowed through strides) into the strided `dst` in place. */
  copyInto(dst: View, src: View): void;
}
