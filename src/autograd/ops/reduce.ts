/** Reduction primitives. Results keep reduced dims as size 1; the Tensor layer squeezes them. */
import { allocArray, type DType } from '../../tensor/dtype.js';
import type { ReduceOp } from '../../tensor/backend/backend.js';
import type { View } from '../../tensor/backend/backend.js';
import { backendOf } from '../../tensor/backend/device.js';
import { contiguousStrides } from '../../tensor/shape.js';
import { where, type Tensor } from '../../tensor/tensor.js';
import { defineOp } from '../function.js';

export interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly dtype: DType;
  readonly inShape: readonly number[];
  readonly keepdim: boolean;
}

/** The result shape with reduced dims kept as size 1. */
const keptShape = ({ inShape, axes }: ReduceAttrs): number[] => inShape.map((d, i) => (axes.includes(i) ? 1 : d));

const run = (op: ReduceOp) => ([x]: readonly Tensor[], attrs: ReduceAttrs): View => {
  const v = backendOf(x!).reduce(op, x!, attrs.axes, attrs.dtype);
  if (attrs.keepdim) return v;
  const shape = attrs.inShape.filter((_, i) => !attrs.axes.includes(i));
  return { ...v, shape, strides: contiguousStrides(shape) };
};

/** sum over `axes` (kept as size 1): the gradient broadcasts back. */
export const sum = defineOp<ReduceAttrs>({
  name: 'sum',
  saves: 'none',
  forward: run('sum'),
  backward: ({ attrs }, g) => [g.reshape(keptShape(attrs)).expand(attrs.inShape)],
});

/** mean over `axes`: a primitive (not sum / n) so it saves nothing, as PyTorch's MeanBackward. */
export const mean = defineOp<ReduceAttrs>({
  name: 'mean',
  saves: 'none',
  forward: (inputs, attrs) => {
    const s = run('sum')(inputs, attrs);
    const n = attrs.axes.reduce((acc, d) => acc * attrs.inShape[d]!, 1);
    const be = backendOf(inputs[0]!);
    const count = allocArray(attrs.dtype, 1);
    count[0] = n;
    const c = be.fromArray(count, []);
    return be.binary('div', s, { ...c, shape: s.shape, strides: s.shape.map(() => 0) }, attrs.dtype);
  },
  backward: ({ attrs }, g) => {
    const n = attrs.axes.reduce((acc, d) => acc * attrs.inShape[d]!, 1);
    return [g.reshape(keptShape(attrs)).expand(attrs.inShape).div(n)];
  },
});

/**
 * prod over `axes`. Without zeros the gradient is g·out/x; with zeros (or where the values
 * cannot be checked synchronously) it is the product of the other elements (PyTorch's
 * prod_backward), computed exactly and differentiably by replacing each position with 1 in turn.
 */
export const prod = defineOp<ReduceAttrs>({
  name: 'prod',
  forward: run('prod'),
  backward: ({ inputs: [x], output: out, attrs }, grad) => {
    const { axes, inShape } = attrs;
    const g = grad.reshape(keptShape(attrs));
    // NOTE: where values cannot be read back synchronously (WebGPU), take the zero-safe path.
    const canCheck = backendOf(x!).canReadSync?.(x!) ?? true;
    if (canCheck && !x!.eq(0).any().item()) return [g.mul(out.reshape(keptShape(attrs))).div(x!)];
    const keep = inShape.map((_, d) => d).filter((d) => !axes.includes(d));
    const perm = [...keep, ...axes];
    const n = axes.reduce((s, d) => s * inShape[d]!, 1);
    const lead = keep.map((d) => inShape[d]!);
    const xp = x!.permute(perm).reshape([...lead, 1, n]);
    const eye = x!.eyeLike(n).bool();
    const others = where(eye, 1, xp).prod(-1); // [...lead, n]: product without position i
    const gp = g.permute(perm).reshape([...lead, 1]);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [others.mul(gp).reshape(perm.map((d) => inShape[d]!)).permute(inv)];
  },
});

/** Ties share the gradient evenly (PyTorch's amax/amin backward). */
const extremumGrad = ({ inputs: [x], output, attrs }: { inputs: readonly Tensor[]; output: Tensor; attrs: ReduceAttrs }, grad: Tensor) => {
  const g = grad.reshape(keptShape(attrs));
  const out = output.reshape(keptShape(attrs));
  // NOTE: a NaN extremum takes the whole gradient, as PyTorch's evenly_distribute_backward.
  const mask = x!.eq(out).logicalOr(x!.isnan().logicalAnd(out.isnan())).to(g.dtype);
  return [mask.mul(g.div(mask.sum(attrs.axes, true)))];
};

export const amax = defineOp<ReduceAttrs>({ name: 'amax', forward: run('max'), backward: extremumGrad });
export const amin = defineOp<ReduceAttrs>({ name: 'amin', forward: run('min'), backward: extremumGrad });
