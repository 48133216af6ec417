/**
 * Padding and convolution. `pad` is `cat` with constant blocks (or an `indexSelect` for
 * reflect/replicate/circular). `unfold`/`fold` are the im2col/col2im primitives (fast CPU
 * kernels, each the other's backward), and `conv2d` is im2col plus a batched matmul with the
 * weight. Gradients come from the primitives.
 */
import { apply } from '../autograd/function.js';
import * as C from '../autograd/ops/conv.js';
import type { Window2d } from '../tensor/backend/backend.js';
import { full, tensor } from '../tensor/creation.js';
import { isFloating } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cat } from '../tensor/functional.js';

/** A size given once for both spatial dims, or as `[height, width]`. */
export type Size2 = number | readonly [number, number];

/** `F.pad` modes. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Expand a `Size2` to `[h, w]`, validating PyTorch-style. */
export function pair(v: Size2, name: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x))) throw new TypeError(`${name} must be an integer or a pair of integers, got ${String(v)}`);
  return p;
}

function padDimConstant(x: Tensor, dim: number, left: number, right: number, value: number): Tensor {
  const size = x.shape[dim]!;
  if (size + left + right < 0) {
    throw new RangeError(`The input size ${size}, plus negative padding ${left} and ${right} resulted in a negative output size, which is invalid. Check dimension ${dim} of your input.`);
  }
  let y = x;
  if (left < 0 || right < 0) y = y.narrow(dim, Math.max(-left, 0), size + Math.min(left, 0) + Math.min(right, 0));
  const parts: Tensor[] = [];
  const block = (n: number) => full(y.shape.map((s, i) => (i === dim ? n : s)), value, { dtype: y.dtype, device: y.device });
  if (left > 0) parts.push(block(left));
  parts.push(y);
  if (right > 0) parts.push(block(right));
  return parts.length === 1 ? y : cat(parts, dim);
}

function padDimIndexed(x: Tensor, dim: number, left: number, right: number, mode: PadMode): Tensor {
  const n = x.shape[dim]!;
  if (mode === 'reflect' && (left >= n || right >= n)) {
    throw new RangeError(`Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (${left}, ${right}) at dimension ${dim} of input ${fmtShape(x.shape)}`);
  }
  if (mode === 'circular' && (left > n || right > n)) throw new RangeError('Padding value causes wrapping around more than once.');
  const idx: number[] = [];
  for (let i = -left; i < n + right; i++) {
    if (mode === 'replicate') idx.push(Math.min(Math.max(i, 0), n - 1));
    else if (mode === 'circular') idx.push(((i % n) + n) % n);
    else idx.push(i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  }
  return x.indexSelect(dim, tensor(idx, { dtype: 'int32', device: x.device }));
}

/**
 * Pad the last dims of `x` (`F.pad`): `pad` lists `[left, right]` pairs starting from the last
 * dim. Negative amounts crop. 'constant' pads with `value` (default 0) and works on any dims;
 * 'reflect', 'replicate' and 'circular' pad the last 1-3 dims of an input with 1 more (unbatched)
 * or 2 more (batched) dims.
 * @example
 * F.pad(tg.ones([1, 2]), [1, 1]);                          // [[0, 1, 1, 0]]
 * F.pad(tg.arange(3).reshape([1, 1, 3]), [2, 0], { mode: 'reflect' });   // [[[2, 1, 0, 1, 2]]]
 */
export function pad(x: Tensor, padding: readonly number[], opts: { mode?: PadMode; value?: number } = {}): Tensor {
  const mode = opts.mode ?? 'constant';
  if (padding.length % 2 !== 0) throw new RangeError('Padding length must be divisible by 2');
  if (padding.length / 2 > x.ndim) throw new RangeError('Padding length too large');
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) throw new RangeError(`Unrecognised padding mode ${mode}`);
  const k = padding.length / 2;
  if (mode !== 'constant') {
    if (opts.value !== undefined && opts.value !== 0) throw new RangeError(`Padding mode "${mode}" doesn't take in value argument.`);
    if (k < 1 || k > 3 || x.ndim < k + 1 || x.ndim > k + 2) throw new RangeError('Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now');
  }
  let y = x;
  for (let i = 0; i < k; i++) {
    const dim = x.ndim - 1 - i;
    const left = padding[2 * i]!;
    const right = padding[2 * i + 1]!;
    if (left === 0 && right === 0) continue;
    if (mode === 'constant') {
      y = padDimConstant(y, dim, left, right, opts.value ?? 0);
    } else {
      // NOTE: negative amounts crop first, then the rest pads.
      y = padDimConstant(y, dim, Math.min(left, 0), Math.min(right, 0), 0);
      y = padDimIndexed(y, dim, Math.max(left, 0), Math.max(right, 0), mode);
    }
  }
  return y;
}

/** Output length of a sliding window (PyTorch's pooling_output_shape). */
export function windowCount(size: number, kernel: number, padding: number, stride: number, dilation: number, ceilMode: boolean): number {
  const span = size + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(span / stride) + 1;
  // NOTE: with ceilMode the last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * stride >= size + padding) out--;
  return out;
}

/** The im2col geometry of a batched `(N, C, H, W)` input. */
export function window2d(x: Tensor, kernel: [number, number], stride: [number, number], dilation: [number, number], padding: [number, number], out: [number, number]): Window2d {
  return { channels: x.shape[1]!, height: x.shape[2]!, width: x.shape[3]!, kernel, stride, dilation, padding, out };
}

/** Options of `F.conv2d` (and, with `paddingMode`, `nn.Conv2d`). */
export interface Conv2dOptions {
  stride?: Size2;
  /** Zero padding on each side, or 'valid' (none) / 'same' (output size = input size, stride 1). */
  padding?: Size2 | 'valid' | 'same';
  dilation?: Size2;
  /** Split channels into `groups` independent convolutions (default 1). */
  groups?: number;
}

/** `[top, bottom, left, right]` zero padding for a padding option and kernel size. */
export function convPadding(padding: Size2 | 'valid' | 'same', kernel: [number, number], dilation: [number, number], stride: [number, number]): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new RangeError("padding='same' is not supported for strided convolutions");
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    // NOTE: an odd total puts the extra row/column at the bottom/right, as PyTorch.
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'string') throw new RangeError(`Invalid padding string: '${String(padding)}'`);
  const [ph, pw] = pair(padding, 'padding');
  return [ph, ph, pw, pw];
}

/** Add a batch dim to an unbatched input of rank `rank - 1`; returns the input and an undo. */
export function batched(x: Tensor, rank: number, what: string): [Tensor, (y: Tensor) => Tensor] {
  if (x.ndim === rank) return [x, (y) => y];
  if (x.ndim === rank - 1) return [x.unsqueeze(0), (y) => y.squeeze(0)];
  throw new RangeError(what);
}

/** Options of `F.unfold` and `F.fold` (PyTorch's im2col/col2im arguments). */
export interface FoldOptions {
  dilation?: Size2;
  /** Zero padding on each side. */
  padding?: Size2;
  stride?: Size2;
}

/** Validate im2col/col2im arguments with PyTorch's messages. */
function foldArgs(kernelSize: Size2, opts: FoldOptions): { k: [number, number]; d: [number, number]; p: [number, number]; s: [number, number] } {
  const k = pair(kernelSize, 'kernel_size');
  const d = pair(opts.dilation ?? 1, 'dilation');
  const p = pair(opts.padding ?? 0, 'padding');
  const s = pair(opts.stride ?? 1, 'stride');
  if (k[0] <= 0 || k[1] <= 0) throw new RangeError(`kernel size should be greater than zero, but got kernel_height: ${k[0]} kernel_width: ${k[1]}`);
  if (d[0] <= 0 || d[1] <= 0) throw new RangeError(`dilation should be greater than zero, but got dilation_height: ${d[0]} dilation_width: ${d[1]}`);
  if (p[0] < 0 || p[1] < 0) throw new RangeError(`padding should be non-negative, but got pad_height: ${p[0]} pad_width: ${p[1]}`);
  if (s[0] <= 0 || s[1] <= 0) throw new RangeError(`stride should be greater than zero, but got stride_height: ${s[0]} stride_width: ${s[1]}`);
  return { k, d, p, s };
}

const pairStr = (v: readonly [number, number]): string => `(${v[0]}, ${v[1]})`;

/**
 * Sliding local blocks of an image as columns (`F.unfold`, im2col): `(N, C, H, W)` becomes
 * `(N, C * kh * kw, L)`, `L` the number of window positions (unbatched `(C, H, W)` gives
 * `(C * kh * kw, L)`). Rows run over `(c, ki, kj)`, columns over window positions, row-major.
 * @example
 * F.unfold(tg.randn([1, 2, 4, 4]), 2, { stride: 2 }).shape;   // [1, 8, 4]
 */
export function unfold(input: Tensor, kernelSize: Size2, opts: FoldOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 4, `Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: ${fmtShape(input.shape)}`);
  if (x.shape.slice(1).some((v) => v === 0)) {
    throw new RangeError(`Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: ${fmtShape(input.shape)}`);
  }
  if (!isFloating(x.dtype)) throw new TypeError(`"im2col_out_cpu" not implemented for '${x.dtype}'`);
  const { k, d, p, s } = foldArgs(kernelSize, opts);
  const out: [number, number] = [windowCount(x.shape[2]!, k[0], p[0], s[0], d[0], false), windowCount(x.shape[3]!, k[1], p[1], s[1], d[1], false)];
  if (out[0] < 1 || out[1] < 1) {
    throw new RangeError(`Given input with spatial size (${x.shape[2]}, ${x.shape[3]}), kernel_size=${pairStr(k)}, dilation=${pairStr(d)}, padding=${pairStr(p)}, calculated shape of the array of sliding blocks as ${pairStr(out)}, but its components must be at least one.`);
  }
  return unbatch(apply(C.unfold, [x], { win: window2d(x, k, s, d, p, out) }));
}

/**
 * Sum sliding local blocks back into an image (`F.fold`, col2im, the adjoint of `unfold`):
 * `(N, C * kh * kw, L)` becomes `(N, C, outputSize[0], outputSize[1])`, overlaps summed
 * (unbatched `(C * kh * kw, L)` gives `(C, H, W)`).
 * @example
 * const x = tg.randn([1, 2, 4, 4]);
 * F.fold(F.unfold(x, 2, { stride: 2 }), [4, 4], 2, { stride: 2 });   // equals x
 */
export function fold(input: Tensor, outputSize: Size2, kernelSize: Size2, opts: FoldOptions = {}): Tensor {
  const bad = `Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: ${fmtShape(input.shape)}`;
  const [x, unbatch] = batched(input, 3, bad);
  if (x.shape[1] === 0 || x.shape[2] === 0) throw new RangeError(bad);
  if (!isFloating(x.dtype)) throw new TypeError(`"col2im_out_cpu" not implemented for '${x.dtype}'`);
  const size = pair(outputSize, 'output_size');
  const { k, d, p, s } = foldArgs(kernelSize, opts);
  const kk = k[0] * k[1];
  if (x.shape[1]! % kk !== 0) {
    throw new RangeError(`Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=${x.shape[1]} and kernel_size=${pairStr(k)}.`);
  }
  const out: [number, number] = [
    Math.floor((size[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1, Math.floor((size[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1,
  ];
  if (out[0] < 1 || out[1] < 1 || out[0] * out[1] !== x.shape[2]) {
    throw new RangeError(`Given output_size=${pairStr(size)}, kernel_size=${pairStr(k)}, dilation=${pairStr(d)}, padding=${pairStr(p)}, stride=${pairStr(s)}, expected size of input's dimension 2 to match the calculated number of sliding blocks ${out[0]} * ${out[1]} = ${out[0] * out[1]}, but got input.size(2)=${x.shape[2]}.`);
  }
  const win: Window2d = { channels: x.shape[1]! / kk, height: size[0], width: size[1], kernel: k, stride: s, dilation: d, padding: p, out };
  return unbatch(apply(C.fold, [x], { win }));
}

/**
 * 2-D convolution (`F.conv2d`, cross-correlation as in PyTorch) of `(N, C, H, W)` or unbatched
 * `(C, H, W)` input with `weight` `(O, C / groups, kh, kw)` and optional `bias` `(O)`.
 * @example
 * F.conv2d(tg.randn([1, 3, 8, 8]), tg.randn([4, 3, 3, 3]), null, { padding: 1 }).shape;   // [1, 4, 8, 8]
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 4, `Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ${fmtShape(input.shape)}`);
  if (weight.ndim !== 4) throw new RangeError(`weight should have at least three dimensions`);
  const groups = opts.groups ?? 1;
  const k: [number, number] = [weight.shape[2]!, weight.shape[3]!];
  const s = pair(opts.stride ?? 1, 'stride');
  const d = pair(opts.dilation ?? 1, 'dilation');
  const [outC, cPerGroup] = [weight.shape[0]!, weight.shape[1]!];
  const [n, c, h, w] = [x.shape[0]!, x.shape[1]!, x.shape[2]!, x.shape[3]!];
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError('non-positive groups is not supported');
  if (s[0] <= 0 || s[1] <= 0) throw new RangeError('non-positive stride is not supported');
  if (d[0] <= 0 || d[1] <= 0) throw new RangeError(`dilation should be greater than zero, but got [${d[0]}, ${d[1]}]`);
  if (outC % groups !== 0) {
    throw new RangeError(`Given groups=${groups}, expected weight to be divisible by ${groups} at dimension 0, but got weight of size [${fmtShape(weight.shape)}] instead`);
  }
  if (c !== cPerGroup * groups) {
    throw new RangeError(`Given groups=${groups}, weight of size ${fmtShape(weight.shape)}, expected input${fmtShape(x.shape)} to have ${cPerGroup * groups} channels, but got ${c} channels instead`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outC)) {
    throw new RangeError(`Given weight of size ${fmtShape(weight.shape)}, expected bias to be 1-dimensional with ${outC} elements, but got bias of size ${fmtShape(bias.shape)} instead`);
  }
  const [pt, pb, pl, pr] = convPadding(opts.padding ?? 0, k, d, s);
  if (Math.min(pt, pb, pl, pr) < 0) throw new RangeError('negative padding is not supported');
  const [hp, wp] = [h + pt + pb, w + pl + pr];
  const [ekh, ekw] = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
  if (hp < ekh || wp < ekw) {
    throw new RangeError(`Calculated padded input size per channel: (${hp} x ${wp}). Kernel size: (${ekh} x ${ekw}). Kernel size can't be greater than actual input size`);
  }
  const out: [number, number] = [Math.floor((hp - ekh) / s[0]) + 1, Math.floor((wp - ekw) / s[1]) + 1];
  const rows = cPerGroup * k[0] * k[1];
  const l = out[0] * out[1];
  // A pointwise convolution reads each pixel once: its columns are the input itself.
  const pointwise = k[0] === 1 && k[1] === 1 && s[0] === 1 && s[1] === 1 && pt + pb + pl + pr === 0;
  const cols = pointwise ? x.reshape([n, c, l]) : apply(C.unfold, [x], { win: window2d(x, k, s, d, [pt, pl], out) });
  // NOTE: per image and group, [O/g, C/g·kh·kw] @ [C/g·kh·kw, L] (the weight broadcast over the
  // batch) writes (N, O, L) in place, so no transpose is copied forward or backward. The bias is
  // added to the (N·O, L) rows as a column, a broadcast the fast elementwise kernels cover.
  const y = weight.reshape([groups, outC / groups, rows]).matmul(cols.reshape([n, groups, rows, l])).reshape([n * outC, l]);
  const withBias = bias ? y.add(bias.reshape([1, outC]).expand([n, outC]).reshape([n * outC, 1])) : y;
  return unbatch(withBias.reshape([n, outC, out[0], out[1]]));
}
