/** Reduction primitives. Results keep reduced dims as size 1; the Tensor layer squeezes them. */
import type { DType } from '../../tensor/dtype.js';
import type { ReduceOp } from '../../tensor/backend/backend.js';
import { backendOf } from '../../tensor/backend/device.js';
import { where, type Tensor } from '../../tensor/tensor.js';
import { defineOp } from '../function.js';

export interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly dtype: DType;
  readonly inShape: readonly number[];
}

const run = (op: ReduceOp) => ([x]: readonly Tensor[], { axes, dtype }: ReduceAttrs) => backendOf(x!).reduce(op, x!, axes, dtype);

/** sum over `axes` (kept as size 1): the gradient broadcasts back. */
export const sum = defineOp<ReduceAttrs>({
  name: 'sum',
  saves: 'none',
  forward: run('sum'),
  backward: ({ attrs: { inShape } }, g) => [g.expand(inShape)],
});

/**
 * prod over `axes`. Without zeros the gradient is g·out/x; with zeros it is the product of the
 * other elements (PyTorch's prod_backward), computed exactly and differentiably by replacing
 * each position with 1 in turn.
 */
export const prod = defineOp<ReduceAttrs>({
  name: 'prod',
  forward: run('prod'),
  backward: ({ inputs: [x], output, attrs: { axes, inShape } }, g) => {
    if (!x!.eq(0).any().item()) return [g.mul(output).div(x!)];
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
const extremumGrad = ({ inputs: [x], output, attrs: { axes } }: { inputs: readonly Tensor[]; output: Tensor; attrs: ReduceAttrs }, g: Tensor) => {
  const mask = x!.eq(output).to(g.dtype);
  return [mask.mul(g.div(mask.sum(axes, true)))];
};

export const amax = defineOp<ReduceAttrs>({ name: 'amax', forward: run('max'), backward: extremumGrad });
export const amin = defineOp<ReduceAttrs>({ name: 'amin', forward: run('min'), backward: extremumGrad });
