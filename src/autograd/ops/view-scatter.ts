/**
 * In-place writes through views, as PyTorch's CopySlices, and views re-derived from their base's
 * current history (PyTorch's view replay through AsStridedBackward). A view is located in its
 * base by the row-major base position of each of its elements, so one pair of formulas serves
 * every view layout (slices, transposes, selects, expands).
 */
import type { View } from '../../tensor/backend/backend.js';
import { backendFor, backendOf } from '../../tensor/backend/device.js';
import { allocArray } from '../../tensor/dtype.js';
import { contiguousStrides, isContiguousLayout, layoutOffsets, numel, type Layout } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { defineOp } from '../function.js';
import { gather, scatter } from './index-ops.js';

/** Where a view's elements sit in its base: both layouts in the shared storage. */
export interface ViewPlace {
  readonly base: Layout;
  readonly layout: Layout;
}

/** Locate `view` (which shares `base`'s storage) in `base`. */
export function viewPlace(base: Tensor, view: Tensor): ViewPlace {
  const layout = (l: Layout): Layout => ({ shape: l.shape, strides: l.strides, offset: l.offset });
  return { base: layout(base), layout: layout(view) };
}

/**
 * int32 `[numel(view)]`: the base's row-major position of each view element. Built when a
 * backward needs it, so a write through a view allocates nothing in the forward pass.
 */
function placeIndex(p: ViewPlace, like: Tensor): Tensor {
  const pos = layoutOffsets(p.layout);
  if (isContiguousLayout(p.base)) {
    for (let i = 0; i < pos.length; i++) pos[i] = pos[i]! - p.base.offset;
  } else {
    // A base with its own strides (a detached transpose, say): map storage offsets back.
    const at = new Map<number, number>();
    layoutOffsets(p.base).forEach((o, i) => at.set(o, i));
    for (let i = 0; i < pos.length; i++) pos[i] = at.get(pos[i]!)!;
  }
  return Tensor.fromView(backendFor(like.device).fromArray(pos, [pos.length]));
}

function flatZeros(n: number, like: Tensor): Tensor {
  return Tensor.fromView(backendFor(like.device).fromArray(allocArray(like.dtype, n), [n]));
}

/** The view's elements of the base-shaped `g` (the view seen through its base). */
function takeView(g: Tensor, p: ViewPlace): Tensor {
  const flat = g.reshape([-1]);
  return flat.applyOp(gather, [flat, placeIndex(p, g)], { dim: 0, inShape: flat.shape }).reshape(p.layout.shape);
}

/** Base-shaped zeros with the view-shaped `g` added at the view's positions (repeats sum). */
function putView(g: Tensor, p: ViewPlace): Tensor {
  const z = flatZeros(numel(p.base.shape), g);
  return z.applyOp(scatter, [z, placeIndex(p, g), g.reshape([-1])], { dim: 0, accumulate: true }).reshape(p.base.shape);
}

/** The base-shaped `g` with the view's positions zeroed (what the base keeps after a write). */
function zeroView(g: Tensor, p: ViewPlace): Tensor {
  const flat = g.reshape([-1]);
  const z = flatZeros(numel(p.layout.shape), g);
  return flat.applyOp(scatter, [flat, placeIndex(p, g), z], { dim: 0, accumulate: false }).reshape(p.base.shape);
}

function flatView(x: View): View {
  const c = backendOf(x).contiguous(x);
  const n = numel(x.shape);
  return { storage: c.storage, dtype: c.dtype, shape: [n], strides: [1], offset: c.offset };
}

/**
 * The base after a write through one of its views (PyTorch's CopySlices): `base` with the view's
 * region replaced by `src`. The base's old values get the gradient outside the region, `src` the
 * gradient inside it.
 */
export const copySlices = defineOp<ViewPlace>({
  name: 'copySlices',
  nodeName: 'CopySlices',
  saves: 'none',
  forward: ([base, src], p) => {
    const be = backendOf(base!);
    const out = be.scatter(flatView(base!), 0, placeIndex(p, base!), flatView(src!), false);
    return { storage: out.storage, dtype: out.dtype, shape: p.base.shape, strides: contiguousStrides(p.base.shape), offset: out.offset };
  },
  backward: ({ attrs: p, needsInputGrad: n }, g) => [n[0] ? zeroView(g, p) : null, n[1] ? takeView(g, p) : null],
});

/** A view of its base at an explicit layout (PyTorch's as_strided); the gradient scatters back. */
export const asStrided = defineOp<ViewPlace>({
  name: 'asStrided',
  saves: 'none',
  forward: ([base], { layout }) => ({ storage: base!.storage, dtype: base!.dtype, ...layout }),
  backward: ({ attrs: p }, g) => [putView(g, p)],
});
