/**
 * 2-D pooling. Max pooling finds each window's argmax with one kernel pass (`maxPool2dIndices`,
 * an index, so no gradient) and gathers the values there (`take`): the gradient is a scatter-add
 * to the argmax positions (`put`), and its own gradient a gather again.
 * Average pooling sums `unfold`'s windows and divides; its backward is col2im (`fold`).
 */
import { apply } from '../autograd/function.js';
import * as C from '../autograd/ops/conv.js';
import { tensor } from '../tensor/creation.js';
import { isFloating } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { batched, pair, window2d, windowCount, type Size2 } from './functional-conv.js';

/** Options of `F.maxPool2d` / `nn.MaxPool2d`. */
export interface MaxPool2dOptions {
  /** Window step (default: the kernel size). */
  stride?: Size2 | null;
  /** Implicit -inf padding on each side (at most half the kernel). */
  padding?: Size2;
  dilation?: Size2;
  /** Round the output size up, so windows may start in the right/bottom padding. */
  ceilMode?: boolean;
}

/** Options of `F.avgPool2d` / `nn.AvgPool2d`. */
export interface AvgPool2dOptions {
  stride?: Size2 | null;
  /** Implicit zero padding on each side (at most half the kernel). */
  padding?: Size2;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead. */
  divisorOverride?: number | null;
}

/** Shape checks and geometry shared by the pooling ops. */
function poolGeometry(x: Tensor, kernelSize: Size2, opts: MaxPool2dOptions, dilated: boolean) {
  const k = pair(kernelSize, 'kernel_size');
  const s = pair(opts.stride ?? kernelSize, 'stride');
  const p = pair(opts.padding ?? 0, 'padding');
  const d = dilated ? pair(opts.dilation ?? 1, 'dilation') : ([1, 1] as [number, number]);
  const ceil = opts.ceilMode ?? false;
  if (s[0] === 0 || s[1] === 0) throw new RangeError('stride should not be zero');
  if (k[0] <= 0 || k[1] <= 0 || s[0] < 0 || s[1] < 0) {
    throw new RangeError(`kernel size and stride should be greater than zero, but got kH: ${k[0]} kW: ${k[1]} dH: ${s[0]} dW: ${s[1]}`);
  }
  if (p[0] < 0 || p[1] < 0) throw new RangeError(`pad must be non-negative, but got pad: ${p[0] < 0 ? p[0] : p[1]}`);
  if (d[0] <= 0 || d[1] <= 0) throw new RangeError(`dilation should be greater than zero, but got dilationH: ${d[0]} dilationW: ${d[1]}`);
  for (let i = 0; i < 2; i++) {
    if (p[i]! > Math.floor(k[i]! / 2)) throw new RangeError(`pad should be at most half of kernel size, but got pad=${p[i]} and kernel_size=${k[i]}`);
  }
  const [c, h, w] = [x.shape[1]!, x.shape[2]!, x.shape[3]!];
  if (h === 0 || w === 0 || c === 0) {
    throw new RangeError(`Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[${x.shape.join(', ')}]`);
  }
  const out: [number, number] = [windowCount(h, k[0], p[0], s[0], d[0], ceil), windowCount(w, k[1], p[1], s[1], d[1], ceil)];
  if (out[0] < 1 || out[1] < 1) {
    throw new RangeError(`Given input size: (${c}x${h}x${w}). Calculated output size: (${c}x${out[0]}x${out[1]}). Output size is too small`);
  }
  return { k, s, p, d, out, win: window2d(x, k, s, d, p, out) };
}

const BAD_POOL_INPUT = 'non-empty 3D or 4D (batch mode) tensor expected for input';

/**
 * 2-D max pooling that also returns the argmax of each window (`F.max_pool2d_with_indices`):
 * int32 flat indices `h * W + w` into each input plane, as PyTorch's `return_indices=True`.
 * @example
 * const [values, indices] = F.maxPool2dWithIndices(tg.arange(16).reshape([1, 1, 4, 4]), 2);
 * indices;   // [[[[5, 7], [13, 15]]]]
 */
export function maxPool2dWithIndices(input: Tensor, kernelSize: Size2, opts: MaxPool2dOptions = {}): [Tensor, Tensor] {
  const [x, unbatch] = batched(input, 4, BAD_POOL_INPUT);
  if (!isFloating(x.dtype)) throw new TypeError(`"max_pool2d" not implemented for '${x.dtype}'`);
  const { win, out } = poolGeometry(x, kernelSize, opts, true);
  const [n, c, h, w] = [x.shape[0]!, x.shape[1]!, x.shape[2]!, x.shape[3]!];
  const indices = apply(C.maxPool2dIndices, [x], { win, flat: false });
  const values = x.reshape([n, c, h * w]).gather(2, indices.reshape([n, c, out[0] * out[1]])).reshape([n, c, out[0], out[1]]);
  return [unbatch(values), unbatch(indices)];
}

/**
 * 2-D max pooling (`F.max_pool2d`) over `(N, C, H, W)` or `(C, H, W)` input. The gradient goes to
 * the first maximum of each window, as PyTorch's CPU kernel.
 * @example
 * F.maxPool2d(tg.arange(16).reshape([1, 1, 4, 4]), 2);   // [[[[5, 7], [13, 15]]]]
 */
export function maxPool2d(input: Tensor, kernelSize: Size2, opts: MaxPool2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 4, BAD_POOL_INPUT);
  if (!isFloating(x.dtype)) throw new TypeError(`"max_pool2d" not implemented for '${x.dtype}'`);
  const { win } = poolGeometry(x, kernelSize, opts, true);
  // NOTE: indices into the flattened input make the gather (and its scatter-add backward) 1-D.
  const indices = apply(C.maxPool2dIndices, [x], { win, flat: true });
  const values = apply(C.take, [x.reshape([-1]), indices.reshape([-1])], { size: x.numel() });
  return unbatch(values.reshape(indices.shape));
}

/**
 * 2-D average pooling (`F.avg_pool2d`) over `(N, C, H, W)` or `(C, H, W)` input.
 * @example
 * F.avgPool2d(tg.arange(16).reshape([1, 1, 4, 4]), 2);   // [[[[2.5, 4.5], [10.5, 12.5]]]]
 */
export function avgPool2d(input: Tensor, kernelSize: Size2, opts: AvgPool2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 4, BAD_POOL_INPUT);
  if (!isFloating(x.dtype)) throw new TypeError(`"avg_pool2d" not implemented for '${x.dtype}'`);
  const g = poolGeometry(x, kernelSize, opts, false);
  const [n, c, h, w] = [x.shape[0]!, x.shape[1]!, x.shape[2]!, x.shape[3]!];
  const countIncludePad = opts.countIncludePad ?? true;
  const override = opts.divisorOverride ?? null;
  if (override !== null && !(override !== 0)) throw new RangeError('divisor must be not zero');
  // The divisor per output position, as PyTorch's avg_pool2d kernel computes it.
  const div = new Float64Array(g.out[0] * g.out[1]);
  for (let oh = 0; oh < g.out[0]; oh++) {
    for (let ow = 0; ow < g.out[1]; ow++) {
      let h0 = oh * g.s[0] - g.p[0];
      let w0 = ow * g.s[1] - g.p[1];
      let h1 = Math.min(h0 + g.k[0], h + g.p[0]);
      let w1 = Math.min(w0 + g.k[1], w + g.p[1]);
      const poolSize = (h1 - h0) * (w1 - w0);
      h0 = Math.max(h0, 0);
      w0 = Math.max(w0, 0);
      h1 = Math.min(h1, h);
      w1 = Math.min(w1, w);
      div[oh * g.out[1] + ow] = override ?? (countIncludePad ? poolSize : (h1 - h0) * (w1 - w0));
    }
  }
  // Windows read zeros outside the image (padding, and ceilMode's overhang), which add nothing.
  const cols = apply(C.unfold, [x], { win: g.win });
  const sums = cols.reshape([n, c, g.k[0] * g.k[1], g.out[0], g.out[1]]).sum(2);
  const divisor = tensor(div, { shape: g.out, dtype: sums.dtype, device: sums.device });
  return unbatch(sums.div(divisor));
}
