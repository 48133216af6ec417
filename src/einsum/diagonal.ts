/**
 * Generalised diagonals as views, for repeated einsum labels (`ii->i`, `iij->ij`).
 *
 * `diagonal` (attrs `{ groups, inShape }`) merges each group of equal-sized dims of `x` into one dim whose
 * stride is the sum of theirs: output dim `k` walks `x[.., t, .., t, ..]` along the dims listed
 * in `groups[k]`. Its backward writes the gradient onto the same diagonal of a zero tensor
 * (`diagonalEmbed`), whose own backward is the diagonal again, so both are differentiable to
 * any order (PyTorch's `diagonal` / `diagonal_backward` pair). `alias` is the trivial view.
 */
import { apply, defineOp, type OpDef } from '../autograd/function.js';
import type { View } from '../tensor/backend/backend.js';
import { backendOf } from '../tensor/backend/device.js';
import { allocArray } from '../tensor/dtype.js';
import { numel } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Attributes of `diagonal` / `diagonalEmbed`. */
export interface DiagonalAttrs {
  /** Output dim `k` merges the input dims `groups[k]` (each dim in exactly one group). */
  readonly groups: readonly (readonly number[])[];
  readonly inShape: readonly number[];
}

/** The diagonal layout of `x`: same storage and offset, summed strides per group. */
function diagonalLayout(x: View, groups: readonly (readonly number[])[]): View {
  return {
    storage: x.storage,
    dtype: x.dtype,
    shape: groups.map((g) => x.shape[g[0]!]!),
    strides: groups.map((g) => g.reduce((s, d) => s + x.strides[d]!, 0)),
    offset: x.offset,
  };
}

/** The diagonal view over `groups` of equal-sized dims; backward: `diagonalEmbed`. */
export const diagonal: OpDef<DiagonalAttrs> = defineOp<DiagonalAttrs>({
  name: 'diagonal',
  saves: 'none',
  forward: ([x], { groups }) => diagonalLayout(x!, groups),
  backward: ({ attrs }, g) => [apply(diagonalEmbed, [g], attrs)],
});

/** Zeros of `inShape` with `g` written on the diagonal; the backward of `diagonal`. */
export const diagonalEmbed: OpDef<DiagonalAttrs> = defineOp<DiagonalAttrs>({
  name: 'diagonalBackward',
  saves: 'none',
  forward: ([g], { groups, inShape }) => {
    const be = backendOf(g!);
    const out = be.fromArray(allocArray(g!.dtype, numel(inShape)), inShape);
    be.copyInto(diagonalLayout(out, groups), g!);
    return out;
  },
  backward: ({ attrs }, gg) => [apply(diagonal, [gg], attrs)],
});

/**
 * Take the diagonal over every repeated label of `labels` (one label per dim of `x`), keeping
 * each label at its first position: `x` labelled `[i, j, i]` becomes `[i, j]`.
 */
export function diagonalOfRepeated(x: Tensor, labels: readonly number[]): { tensor: Tensor; labels: number[] } {
  const unique: number[] = [];
  const groups: number[][] = [];
  labels.forEach((l, d) => {
    const k = unique.indexOf(l);
    if (k < 0) {
      unique.push(l);
      groups.push([d]);
    } else groups[k]!.push(d);
  });
  if (unique.length === labels.length) return { tensor: x, labels: unique };
  return { tensor: apply(diagonal, [x], { groups, inShape: [...x.shape] }), labels: unique };
}

/**
 * A fresh view with the input's layout; its gradient passes straight through. Einsum returns
 * it when the equation leaves its operand untouched (`ij->ij`), so the result is a new tensor,
 * as PyTorch's einsum returns a view rather than its input.
 */
export const alias = defineOp({
  name: 'alias',
  saves: 'none',
  forward: ([x]) => ({ storage: x!.storage, dtype: x!.dtype, shape: x!.shape, strides: x!.strides, offset: x!.offset }),
  backward: (_ctx, g) => [g],
});
