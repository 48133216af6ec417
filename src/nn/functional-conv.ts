/**
 * Padding, convolution and pooling, composed from differentiable core ops: `pad` is `cat` with
 * constant blocks (or an `indexSelect` for reflect/replicate/circular), and `conv2d`/pooling are
 * im2col: the strided windows are taken as `slice` views, stacked, then contracted by `matmul`
 * (conv) or reduced by `max`/`sum` (pooling). Gradients come from the primitives.
 */
import { full, tensor } from '../tensor/creation.js';
import { isFloating } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cat, stack } from '../tensor/functional.js';

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

/**
 * Strided windows of a padded `(N, C, H, W)` input as `(N, C, kh * kw, outH, outW)` (kernel
 * offsets row-major), each window position a `slice` view of `xp`.
 */
function windows(xp: Tensor, k: [number, number], s: [number, number], d: [number, number], out: [number, number]): Tensor {
  const views: Tensor[] = [];
  for (let i = 0; i < k[0]; i++) {
    for (let j = 0; j < k[1]; j++) {
      views.push(xp.slice(2, i * d[0], i * d[0] + (out[0] - 1) * s[0] + 1, s[0]).slice(3, j * d[1], j * d[1] + (out[1] - 1) * s[1] + 1, s[1]));
    }
  }
  return stack(views, 2);
}

/** Options shared by `unfold` and `conv2d`. */
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

/** Add a batch dim to an unbatched `(C, H, W)` input; returns the input and an undo. */
function batched(x: Tensor, what: string): [Tensor, (y: Tensor) => Tensor] {
  if (x.ndim === 4) return [x, (y) => y];
  if (x.ndim === 3) return [x.unsqueeze(0), (y) => y.squeeze(0)];
  throw new RangeError(what);
}

/**
 * Sliding local blocks of a batched image as columns (`F.unfold`, im2col): `(N, C, H, W)` becomes
 * `(N, C * kh * kw, L)` with `L` the number of window positions.
 * @example
 * F.unfold(tg.randn([1, 2, 4, 4]), 2, { stride: 2 }).shape;   // [1, 8, 4]
 */
export function unfold(x: Tensor, kernelSize: Size2, opts: Omit<Conv2dOptions, 'groups' | 'padding'> & { padding?: Size2 } = {}): Tensor {
  if (x.ndim !== 4) throw new RangeError(`Input Error: Only 4D input Tensors are supported (got ${x.ndim}D)`);
  const k = pair(kernelSize, 'kernel_size');
  const s = pair(opts.stride ?? 1, 'stride');
  const d = pair(opts.dilation ?? 1, 'dilation');
  const [pt, pb, pl, pr] = convPadding(opts.padding ?? 0, k, d, s);
  const xp = pad(x, [pl, pr, pt, pb]);
  const out: [number, number] = [
    windowCount(x.shape[2]!, k[0], pt, s[0], d[0], false), windowCount(x.shape[3]!, k[1], pl, s[1], d[1], false),
  ];
  if (out[0] < 1 || out[1] < 1) throw new RangeError(`Given input with spatial size (${x.shape[2]}, ${x.shape[3]}), kernel_size=(${k[0]}, ${k[1]}), the calculated shape of the array of sliding blocks is (${out[0]}, ${out[1]}), which is too small (non-positive)`);
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  return windows(xp, k, s, d, out).reshape([n, c * k[0] * k[1], out[0] * out[1]]);
}

/**
 * 2-D convolution (`F.conv2d`, cross-correlation as in PyTorch) of `(N, C, H, W)` or unbatched
 * `(C, H, W)` input with `weight` `(O, C / groups, kh, kw)` and optional `bias` `(O)`.
 * @example
 * F.conv2d(tg.randn([1, 3, 8, 8]), tg.randn([4, 3, 3, 3]), null, { padding: 1 }).shape;   // [1, 4, 8, 8]
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, `Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ${fmtShape(input.shape)}`);
  if (weight.ndim !== 4) throw new RangeError(`weight should have at least three dimensions`);
  const groups = opts.groups ?? 1;
  const k: [number, number] = [weight.shape[2]!, weight.shape[3]!];
  const s = pair(opts.stride ?? 1, 'stride');
  const d = pair(opts.dilation ?? 1, 'dilation');
  const [outC, cPerGroup] = [weight.shape[0]!, weight.shape[1]!];
  const [n, c, h, w] = [x.shape[0]!, x.shape[1]!, x.shape[2]!, x.shape[3]!];
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError('non-positive groups is not supported');
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
  const [hp, wp] = [h + pt + pb, w + pl + pr];
  const [ekh, ekw] = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
  if (hp < ekh || wp < ekw) {
    throw new RangeError(`Calculated padded input size per channel: (${hp} x ${wp}). Kernel size: (${ekh} x ${ekw}). Kernel size can't be greater than actual input size`);
  }
  const out: [number, number] = [Math.floor((hp - ekh) / s[0]) + 1, Math.floor((wp - ekw) / s[1]) + 1];
  const kk = k[0] * k[1];
  const cols = windows(pad(x, [pl, pr, pt, pb]), k, s, d, out).reshape([n, groups, cPerGroup * kk, out[0] * out[1]]);
  const wm = weight.reshape([groups, outC / groups, cPerGroup * kk]);
  let y = wm.matmul(cols).reshape([n, outC, out[0], out[1]]);
  if (bias) y = y.add(bias.reshape([1, outC, 1, 1]));
  return unbatch(y);
}

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

/** Shape checks and geometry shared by the pooling ops. */
function poolGeometry(x: Tensor, kernelSize: Size2, opts: MaxPool2dOptions, dilated: boolean) {
  const k = pair(kernelSize, 'kernel_size');
  const s = pair(opts.stride ?? kernelSize, 'stride');
  const p = pair(opts.padding ?? 0, 'padding');
  const d = dilated ? pair(opts.dilation ?? 1, 'dilation') : ([1, 1] as [number, number]);
  const ceil = opts.ceilMode ?? false;
  for (let i = 0; i < 2; i++) {
    if (p[i]! > Math.floor(k[i]! / 2)) throw new RangeError(`pad should be at most half of kernel size, but got pad=${p[i]} and kernel_size=${k[i]}`);
  }
  const [c, h, w] = [x.shape[1]!, x.shape[2]!, x.shape[3]!];
  const out: [number, number] = [windowCount(h, k[0], p[0], s[0], d[0], ceil), windowCount(w, k[1], p[1], s[1], d[1], ceil)];
  if (out[0] < 1 || out[1] < 1) {
    throw new RangeError(`Given input size: (${c}x${h}x${w}). Calculated output size: (${c}x${out[0]}x${out[1]}). Output size is too small`);
  }
  // Right/bottom padding so the last window fits (ceilMode may need more than `p`).
  const extra = (i: 0 | 1, size: number) => Math.max(p[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size - p[i]);
  return { k, s, p, d, out, bottom: extra(0, h), right: extra(1, w) };
}

/**
 * 2-D max pooling (`F.max_pool2d`) over `(N, C, H, W)` or `(C, H, W)` input. The gradient goes to
 * the first maximum of each window, as PyTorch's CPU kernel.
 * @example
 * F.maxPool2d(tg.arange(16).reshape([1, 1, 4, 4]), 2);   // [[[[5, 7], [13, 15]]]]
 */
export function maxPool2d(input: Tensor, kernelSize: Size2, opts: MaxPool2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 'non-empty 3D or 4D (batch mode) tensor expected for input');
  if (!isFloating(x.dtype)) throw new TypeError(`"max_pool2d" not implemented for '${x.dtype}'`);
  const g = poolGeometry(x, kernelSize, opts, true);
  const xp = pad(x, [g.p[1], g.right, g.p[0], g.bottom], { value: -Infinity });
  const [values] = windows(xp, g.k, g.s, g.d, g.out).max(2);
  return unbatch(values);
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

/**
 * 2-D average pooling (`F.avg_pool2d`) over `(N, C, H, W)` or `(C, H, W)` input.
 * @example
 * F.avgPool2d(tg.arange(16).reshape([1, 1, 4, 4]), 2);   // [[[[2.5, 4.5], [10.5, 12.5]]]]
 */
export function avgPool2d(input: Tensor, kernelSize: Size2, opts: AvgPool2dOptions = {}): Tensor {
  const [x, unbatch] = batched(input, 'non-empty 3D or 4D (batch mode) tensor expected for input');
  const g = poolGeometry(x, kernelSize, opts, false);
  const [h, w] = [x.shape[2]!, x.shape[3]!];
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
  const xp = pad(x, [g.p[1], g.right, g.p[0], g.bottom]);
  const sums = windows(xp, g.k, g.s, [1, 1], g.out).sum(2);
  const divisor = tensor(div, { shape: g.out, dtype: sums.dtype, device: sums.device });
  return unbatch(sums.div(divisor));
}
