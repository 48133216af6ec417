/**
 * Sliding-window primitives. `im2col` (`F.unfold`) and `col2im` (`F.fold`) are linear and each
 * other's adjoint, so each is the other's backward and gradients of any order come from the pair
 * (convolution is im2col + matmul). `maxPool2dIndices` is the pooling argmax: an index, so it has
 * no gradient; the pooled values are a `take` at those indices, whose adjoint is `put`.
 *
 * The forwards run the backend's optional kernels (`unfold2d`, `fold2d`, `maxPool2dIndices`) and
 * otherwise compose `indexSelect`/`scatterAdd`/`argmax` over a table of window offsets, which
 * every backend has (the gpu device uses these).
 */
import type { Window2d } from '../../tensor/backend/backend.js';
import { allocArray } from '../../tensor/dtype.js';
import { backendOf } from '../../tensor/backend/device.js';
import { arange, full, tensor, zeros } from '../../tensor/creation.js';
import { cat } from '../../tensor/functional.js';
import type { Tensor } from '../../tensor/tensor.js';
import { defineOp, type OpDef } from '../function.js';
import { noGrad } from '../grad-mode.js';

/** The window geometry every sliding-window op records. */
export interface WindowAttrs {
  readonly win: Window2d;
}

/**
 * im2col: `(N, C, H, W)` to `(N, C·kh·kw, L)` columns, zero where a window reads padding.
 * @example
 * apply(unfold, [x], { win });   // what F.unfold and F.conv2d call
 */
export const unfold: OpDef<WindowAttrs> = defineOp<WindowAttrs>({
  name: 'im2col',
  saves: 'none',
  forward: ([x], { win }) => backendOf(x!).unfold2d?.(x!, win) ?? noGrad(() => unfoldComposite(x!, win, 0)),
  // NOTE: the adjoint of gathering windows is summing them back: col2im.
  backward: ({ attrs: { win } }, g) => [g.applyOp(fold, [g], { win })],
});

/**
 * col2im: `(N, C·kh·kw, L)` columns summed back into `(N, C, H, W)` (unfold's adjoint).
 * @example
 * apply(fold, [cols], { win });   // what F.fold calls
 */
export const fold: OpDef<WindowAttrs> = defineOp<WindowAttrs>({
  name: 'col2im',
  saves: 'none',
  forward: ([cols], { win }) => backendOf(cols!).fold2d?.(cols!, win) ?? noGrad(() => foldComposite(cols!, win)),
  backward: ({ attrs: { win } }, g) => [g.applyOp(unfold, [g], { win })],
});

/**
 * int32 `(N, C, outH, outW)` index of each window's max: in its plane, or with `flat` in the
 * whole row-major input (no backward: an index).
 * @example
 * apply(maxPool2dIndices, [x], { win, flat: true });   // then apply(take, [x.reshape([-1]), idx], …)
 */
export const maxPool2dIndices = defineOp<WindowAttrs & { readonly flat: boolean }>({
  name: 'maxPool2dIndices',
  forward: ([x], { win, flat }) => backendOf(x!).maxPool2dIndices?.(x!, win, flat) ?? noGrad(() => maxIndicesComposite(x!, win, flat)),
});

/**
 * `x.flatten()[index]` for indices already known to be in range (the pooling argmax): gather
 * without the user-facing range check. Backward scatters into zeros of `x`'s size.
 * @example
 * apply(take, [x.reshape([-1]), idx.reshape([-1])], { size: x.numel() });
 */
export const take: OpDef<{ readonly size: number }> = defineOp<{ readonly size: number }>({
  name: 'take',
  saves: 'inputs',
  savedInputs: () => [false, true],
  forward: ([x, index]) => backendOf(x!).gather(x!, 0, index!),
  backward: ({ inputs: [, index], attrs: { size } }, g) => [g.applyOp(put, [g, index!], { size }), null],
});

/**
 * Scatter-add `src` into zeros of length `size` at in-range `index` (`take`'s adjoint).
 * @example
 * apply(put, [g, idx], { size: x.numel() });   // take's backward
 */
export const put: OpDef<{ readonly size: number }> = defineOp<{ readonly size: number }>({
  name: 'put',
  saves: 'inputs',
  savedInputs: () => [false, true],
  forward: ([src, index], { size }) => {
    const be = backendOf(src!);
    return be.scatter(be.fromArray(allocArray(src!.dtype, size), [size]), 0, index!, src!, true);
  },
  backward: ({ inputs: [, index], attrs: { size } }, g) => [g.applyOp(take, [g, index!], { size }), null],
});

/**
 * For every kernel offset `(ki, kj)` (rows) and window `(oh, ow)` (columns), the flat in-plane
 * index the window reads there, or `outside(oh, ow)` where it reads padding.
 */
function windowTable(win: Window2d, outside: (oh: number, ow: number) => number): Int32Array {
  const { height, width, kernel: [kh, kw], stride: [sh, sw], dilation: [dh, dw], padding: [pt, pl], out: [oh, ow] } = win;
  const table = new Int32Array(kh * kw * oh * ow);
  let i = 0;
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      for (let y = 0; y < oh; y++) {
        const ih = y * sh - pt + ki * dh;
        for (let x = 0; x < ow; x++) {
          const iw = x * sw - pl + kj * dw;
          table[i++] = ih >= 0 && ih < height && iw >= 0 && iw < width ? ih * width + iw : outside(y, x);
        }
      }
    }
  }
  return table;
}

/** im2col as one `indexSelect` on the flattened planes, with a `fill` column for the padding. */
function unfoldComposite(x: Tensor, win: Window2d, fill: number): Tensor {
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const hw = win.height * win.width;
  const planes = cat([x.reshape([n, c, hw]), full([n, c, 1], fill, { dtype: x.dtype, device: x.device })], 2);
  const idx = tensor(windowTable(win, () => hw), { dtype: 'int32', device: x.device });
  return planes.indexSelect(2, idx).reshape([n, c * win.kernel[0] * win.kernel[1], win.out[0] * win.out[1]]);
}

/** col2im as one `scatterAdd` into the flattened planes plus a column that absorbs the padding. */
function foldComposite(cols: Tensor, win: Window2d): Tensor {
  const n = cols.shape[0]!;
  const { channels: c, height, width } = win;
  const hw = height * width;
  const m = cols.shape[1]! / c * cols.shape[2]!;
  const idx = tensor(windowTable(win, () => hw), { dtype: 'int32', device: cols.device }).reshape([1, 1, m]).expand([n, c, m]).contiguous();
  const planes = zeros([n, c, hw + 1], { dtype: cols.dtype, device: cols.device }).scatterAdd(2, idx, cols.reshape([n, c, m]));
  return planes.narrow(2, 0, hw).reshape([n, c, height, width]);
}

/**
 * The pooling argmax from `argmax` over -inf-padded windows. A padded offset maps to the window's
 * first in-image position, so an all -inf window lands where PyTorch's kernel starts.
 * NOTE: `argmax` keeps the first NaN where PyTorch's CPU kernel keeps the last; only which of
 * several NaNs gets the gradient differs.
 */
function maxIndicesComposite(x: Tensor, win: Window2d, flat: boolean): Tensor {
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const { width, stride: [sh, sw], dilation: [dh, dw], padding: [pt, pl], out: [oh, ow] } = win;
  const kk = win.kernel[0] * win.kernel[1];
  const l = oh * ow;
  const firstInside = (y: number, xx: number): number => {
    let ih = y * sh - pt;
    let iw = xx * sw - pl;
    while (ih < 0) ih += dh;
    while (iw < 0) iw += dw;
    return ih * width + iw;
  };
  const table = tensor(windowTable(win, firstInside), { dtype: 'int32', device: x.device }).reshape([1, 1, kk, l]);
  const k = unfoldComposite(x, win, -Infinity).reshape([n, c, kk, l]).argmax(2, true);
  const inPlane = table.expand([n, c, kk, l]).gather(2, k).reshape([n, c, oh, ow]);
  if (!flat) return inPlane;
  const planeStart = arange(0, n * c * win.height * width, win.height * width, { dtype: 'int32', device: x.device });
  return inPlane.add(planeStart.reshape([n, c, 1, 1]));
}
