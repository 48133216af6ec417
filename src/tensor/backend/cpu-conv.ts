/**
 * CPU kernels for 2-D sliding windows: im2col (`unfold2d`), its adjoint col2im (`fold2d`) and the
 * max-pooling argmax. Plain loops over TypedArrays, written as PyTorch's `im2col.h`/`col2im` and
 * `MaxPoolKernel.cpp` are, so float32 sums round the same way. Each kernel hoists the bounds test
 * out of the inner loop: per kernel column, the window columns that land inside the image are a
 * contiguous range computed once.
 */
import { allocArray } from '../dtype.js';
import type { View, Window2d } from './backend.js';
import { newStorage } from './cpu.js';

function makeView(data: Float32Array | Float64Array | Int32Array, shape: readonly number[], strides: readonly number[], dtype: View['dtype']): View {
  return { storage: newStorage(data), shape: [...shape], strides: [...strides], offset: 0, dtype };
}

/**
 * For each kernel column `kj`, the window columns `[lo, hi)` whose input column
 * `ow * stride - padding + kj * dilation` lies inside `[0, size)`.
 */
function validRanges(size: number, kernel: number, stride: number, padding: number, dilation: number, out: number): Int32Array {
  const r = new Int32Array(2 * kernel);
  for (let k = 0; k < kernel; k++) {
    const shift = k * dilation - padding;
    const lo = Math.min(out, Math.max(0, Math.ceil(-shift / stride)));
    const hi = Math.min(out, Math.max(lo, Math.floor((size - 1 - shift) / stride) + 1));
    r[2 * k] = lo;
    r[2 * k + 1] = hi;
  }
  return r;
}

/**
 * im2col: `(N, C, H, W)` (any strides) to `(N, C * kh * kw, L)` columns, zero where a window
 * reads padding. Row `(c * kh + ki) * kw + kj`, column `oh * outW + ow`, as `F.unfold`.
 * @example
 * const cols = unfold2d(x, win);   // View [N, C * kh * kw, outH * outW]
 */
export function unfold2d(x: View, win: Window2d): View {
  const [n, c, height, width] = x.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x.strides as [number, number, number, number];
  const [kh, kw] = win.kernel;
  const [strideH, strideW] = win.stride;
  const [dilH, dilW] = win.dilation;
  const [padT, padL] = win.padding;
  const [outH, outW] = win.out;
  const l = outH * outW;
  const rows = c * kh * kw;
  const out = allocArray(x.dtype, n * rows * l) as Float32Array | Float64Array;
  const src = x.storage.data as Float32Array | Float64Array;
  const cols = validRanges(width, kw, strideW, padL, dilW, outW);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = x.offset + b * sn + ch * sc;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const row = (ch * kh + ki) * kw + kj;
          const base = (b * rows + row) * l;
          const lo = cols[2 * kj]!;
          const hi = cols[2 * kj + 1]!;
          const iw0 = lo * strideW - padL + kj * dilW;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH - padT + ki * dilH;
            // NOTE: the output starts zeroed, so padded reads need no write.
            if (ih < 0 || ih >= height) continue;
            const o = base + oh * outW;
            let s = plane + ih * sh + iw0 * sw;
            const step = strideW * sw;
            for (let ow = lo; ow < hi; ow++, s += step) out[o + ow] = src[s]!;
          }
        }
      }
    }
  }
  return makeView(out, [n, rows, l], [rows * l, l, 1], x.dtype);
}

/**
 * col2im, the adjoint of `unfold2d`: sum `(N, C * kh * kw, L)` columns (any strides) back into a
 * contiguous `(N, C, H, W)` image; contributions that fall in the padding are dropped.
 * @example
 * const img = fold2d(cols, win);   // View [N, C, H, W]
 */
export function fold2d(colsView: View, win: Window2d): View {
  const n = colsView.shape[0]!;
  const [s0, s1, s2] = colsView.strides as [number, number, number];
  const { channels: c, height, width } = win;
  const [kh, kw] = win.kernel;
  const [strideH, strideW] = win.stride;
  const [dilH, dilW] = win.dilation;
  const [padT, padL] = win.padding;
  const [outH, outW] = win.out;
  const out = allocArray(colsView.dtype, n * c * height * width) as Float32Array | Float64Array;
  const src = colsView.storage.data as Float32Array | Float64Array;
  const cols = validRanges(width, kw, strideW, padL, dilW, outW);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = (b * c + ch) * height * width;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const base = colsView.offset + b * s0 + ((ch * kh + ki) * kw + kj) * s1;
          const lo = cols[2 * kj]!;
          const hi = cols[2 * kj + 1]!;
          const iw0 = lo * strideW - padL + kj * dilW;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH - padT + ki * dilH;
            if (ih < 0 || ih >= height) continue;
            let d = plane + ih * width + iw0;
            let s = base + (oh * outW + lo) * s2;
            for (let ow = lo; ow < hi; ow++, d += strideW, s += s2) out[d] = out[d]! + src[s]!;
          }
        }
      }
    }
  }
  return makeView(out, [n, c, height, width], [c * height * width, height * width, width, 1], colsView.dtype);
}

/**
 * The argmax of each max-pooling window as a flat `h * W + w` index into its plane, int32
 * `(N, C, outH, outW)`. As PyTorch's `cpu_max_pool`: the window is clipped to the image, the
 * first maximum wins, and a NaN always takes over (so the last NaN wins). With `flat`, the
 * index is into the whole row-major input instead (the plane's start added).
 * @example
 * const idx = maxPool2dIndices(x, win, false);   // View [N, C, outH, outW], int32
 */
export function maxPool2dIndices(x: View, win: Window2d, flat: boolean): View {
  const [n, c, height, width] = x.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x.strides as [number, number, number, number];
  const [kh, kw] = win.kernel;
  const [strideH, strideW] = win.stride;
  const [dilH, dilW] = win.dilation;
  const [padT, padL] = win.padding;
  const [outH, outW] = win.out;
  const out = new Int32Array(n * c * outH * outW);
  const src = x.storage.data as Float32Array | Float64Array;
  // Each window column's first in-image column and end, shared by every row and plane.
  const colStart = new Int32Array(outW);
  const colEnd = new Int32Array(outW);
  for (let ow = 0; ow < outW; ow++) {
    let iw0 = ow * strideW - padL;
    colEnd[ow] = Math.min(iw0 + (kw - 1) * dilW + 1, width);
    while (iw0 < 0) iw0 += dilW;
    colStart[ow] = iw0;
  }
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = x.offset + b * sn + ch * sc;
      const base = flat ? (b * c + ch) * height * width : 0;
      for (let oh = 0; oh < outH; oh++) {
        let ih0 = oh * strideH - padT;
        const ih1 = Math.min(ih0 + (kh - 1) * dilH + 1, height);
        while (ih0 < 0) ih0 += dilH;
        for (let ow = 0; ow < outW; ow++) {
          const iw0 = colStart[ow]!;
          const iw1 = colEnd[ow]!;
          let best = ih0 * width + iw0;
          let max = -Infinity;
          for (let ih = ih0; ih < ih1; ih += dilH) {
            const row = plane + ih * sh;
            for (let iw = iw0; iw < iw1; iw += dilW) {
              const v = src[row + iw * sw]!;
              if (v > max || v !== v) {
                max = v;
                best = ih * width + iw;
              }
            }
          }
          out[o++] = base + best;
        }
      }
    }
  }
  return makeView(out, [n, c, outH, outW], [c * outH * outW, outH * outW, outW, 1], 'int32');
}

/**
 * The CPU backend's optional sliding-window methods (merged into the CPU backend in `device.ts`).
 * @example
 * const cpu: Backend = { ...cpuBackend, ...cpuConvKernels };
 */
export const cpuConvKernels = { unfold2d, fold2d, maxPool2dIndices } as const;
