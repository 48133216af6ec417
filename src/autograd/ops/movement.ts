/**
 * Movement primitives are layout edits: they return views of their input's storage, and their
 * backward undoes the edit. `expand`'s backward is a sum, so broadcasting needs no other
 * un-broadcast logic anywhere.
 */
import { contiguousStrides, expandLayout, numel, viewStrides, type Layout } from '../../tensor/shape.js';
import type { Device, View } from '../../tensor/backend/backend.js';
import { backendFor, backendOf } from '../../tensor/backend/device.js';
import type { Tensor } from '../../tensor/tensor.js';
import { defineOp } from '../function.js';

function withLayout(x: View, l: Layout): View {
  return { storage: x.storage, dtype: x.dtype, shape: l.shape, strides: l.strides, offset: l.offset };
}

/** reshape: a view when strides allow, else a contiguous copy first (as torch.reshape). */
export const reshape = defineOp<{ shape: readonly number[]; inShape: readonly number[] }>({
  name: 'reshape',
  saves: 'none',
  forward: ([x], { shape }) => {
    const strides = viewStrides(x!, shape);
    if (strides) return withLayout(x!, { shape, strides, offset: x!.offset });
    const c = backendOf(x!).contiguous(x!);
    return withLayout(c, { shape, strides: contiguousStrides(shape), offset: 0 });
  },
  backward: ({ attrs: { inShape } }, g) => [g.reshape(inShape)],
});

export const permute = defineOp<{ dims: readonly number[] }>({
  name: 'permute',
  saves: 'none',
  forward: ([x], { dims }) =>
    withLayout(x!, { shape: dims.map((d) => x!.shape[d]!), strides: dims.map((d) => x!.strides[d]!), offset: x!.offset }),
  backward: ({ attrs: { dims } }, g) => [g.permute(dims.map((_, i) => dims.indexOf(i)))],
});

// NOTE: expand is a sum in reverse; every broadcast goes through here.
export const expand = defineOp<{ shape: readonly number[]; inShape: readonly number[] }>({
  name: 'expand',
  saves: 'none',
  forward: ([x], { shape }) => withLayout(x!, expandLayout(x!, shape)),
  backward: ({ attrs: { inShape } }, g) => [g.sumTo(inShape)],
});

export interface SliceAttrs {
  readonly dim: number;
  readonly start: number;
  readonly length: number;
  readonly step: number;
  readonly inShape: readonly number[];
}

/** x[..., start : start + length*step : step, ...] along `dim`, as a view. */
export const slice = defineOp<SliceAttrs>({
  name: 'slice',
  saves: 'none',
  forward: ([x], { dim, start, length, step }) => {
    const shape = [...x!.shape];
    const strides = [...x!.strides];
    shape[dim] = length;
    const offset = x!.offset + (length > 0 ? start * strides[dim]! : 0);
    strides[dim] = strides[dim]! * step;
    return withLayout(x!, { shape, strides, offset });
  },
  backward: ({ attrs }, g) => [sliceBackward(g, attrs)],
});

/** Zeros of the input's shape with `g` written into the sliced positions; its backward slices. */
export const sliceScatter = defineOp<SliceAttrs>({
  name: 'sliceBackward',
  saves: 'none',
  forward: ([g], { dim, start, length, step, inShape }) => {
    const be = backendOf(g!);
    const out = be.cast(be.fromArray(new Float64Array(numel(inShape)), inShape), g!.dtype);
    const strides = [...out.strides];
    const target = withLayout(out, {
      shape: inShape.map((d, i) => (i === dim ? length : d)),
      strides: strides.map((s, i) => (i === dim ? s * step : s)),
      offset: length > 0 ? start * strides[dim]! : 0,
    });
    be.copyInto(target, g!);
    return out;
  },
  backward: ({ attrs: { dim, start, length, step } }, gg) => [gg.slice(dim, start, start + length * step, step)],
});

function sliceBackward(g: Tensor, attrs: SliceAttrs): Tensor {
  return g.applyOp(sliceScatter, [g], attrs);
}

/** A contiguous copy (clone/contiguous); the gradient passes through. */
export const copy = defineOp({
  name: 'clone',
  saves: 'none',
  forward: ([x]) => backendOf(x!).contiguous(x!),
  backward: (_ctx, g) => [g],
});

/** A copy on another device; the gradient is copied back to the source device. */
export const toDevice = defineOp<{ from: Device; to: Device }>({
  name: 'toDevice',
  nodeName: 'ToCopyBackward',
  saves: 'none',
  forward: ([x], { to }) => backendFor(to).fromArray(backendOf(x!).read(x!), x!.shape),
  backward: ({ attrs: { from } }, g) => [g.to(from)],
});

/** Concatenation; the gradient is sliced back per input. */
export const cat = defineOp<{ dim: number; sizes: readonly number[] }>({
  name: 'cat',
  saves: 'none',
  forward: (xs, { dim }) => backendOf(xs[0]!).cat(xs, dim),
  backward: ({ attrs: { dim, sizes }, needsInputGrad }, g) => {
    let start = 0;
    return sizes.map((n, i) => {
      const gi = needsInputGrad[i] ? g.narrow(dim, start, n) : null;
      start += n;
      return gi;
    });
  },
});
