/** Batched matrix multiply on equal batch shapes; the Tensor layer handles 1-D and broadcasting. */
import { backendOf } from '../../tensor/backend/device.js';
import type { FusedActivation } from '../../tensor/backend/backend.js';
import { defineOp, type OpDef } from '../function.js';
import { noGrad } from '../grad-mode.js';
import { activationGrad } from './elementwise.js';

export const matmul = defineOp({
  name: 'mm',
  saves: 'inputs',
  savedInputs: (rg) => [rg[1]!, rg[0]!], // each operand is read only for the other's gradient
  forward: ([a, b]) => backendOf(a!).matmul(a!, b!),
  // NOTE: as PyTorch's mm_mat1/mat2_backward, a column-major operand (e.g. `w.t()` in a linear
  // layer) gets its gradient computed transposed, so the gradient reaching the leaf is
  // contiguous and needs no copy. Same products, same summation order: same numbers.
  backward: ({ inputs: [a, b], needsInputGrad: n }, g) => [
    n[0] ? (columnMajor(a!) ? b!.matmul(g.transpose(-1, -2)).transpose(-1, -2) : g.matmul(b!.transpose(-1, -2))) : null,
    n[1] ? (columnMajor(b!) ? g.transpose(-1, -2).matmul(a!).transpose(-1, -2) : a!.transpose(-1, -2).matmul(g)) : null,
  ],
});

/**
 * `a @ b + bias` for 2-D `a` [m, k], `b` [k, n] and a 1-D `bias` [n] (PyTorch's addmm, as its
 * `linear` uses): one kernel where the backend fuses it (the gpu device), else matmul then add.
 * Gradients are matmul's (same formulas, same layouts) and the bias's column sums.
 */
export const addmm = defineOp({
  name: 'addmm',
  saves: 'inputs',
  savedInputs: (rg) => [rg[1]!, rg[0]!, false],
  forward: ([a, b, bias]) => {
    const [m, n] = [a!.shape[0]!, b!.shape[1]!];
    return backendOf(a!).matmulBias?.(a!, b!, bias!.expand([m, n])) ?? noGrad(() => a!.matmul(b!).add(bias!));
  },
  backward: (ctx, g) => {
    const [ga, gb] = matmul.backward!({ ...ctx, inputs: ctx.inputs.slice(0, 2), attrs: undefined }, g);
    return [ga ?? null, gb ?? null, ctx.needsInputGrad[2] ? g.sum(0) : null];
  },
});

/**
 * `act(a @ b + bias)` for the activations whose gradient needs only the result (relu, tanh,
 * sigmoid): one kernel on a backend that fuses them (the gpu device), which `nn.Sequential` uses
 * for a Linear followed by that activation. The backward is the activation's (from the saved
 * result), then addmm's. Without a fused kernel it runs addmm then the activation.
 */
export const addmmActivation: OpDef<FusedActivation> = defineOp<FusedActivation>({
  name: 'addmmActivation',
  saves: 'all',
  savedInputs: (rg) => [rg[1]!, rg[0]!, false],
  forward: ([a, b, bias], act) => {
    const [m, n] = [a!.shape[0]!, b!.shape[1]!];
    return backendOf(a!).matmulBias?.(a!, b!, bias!.expand([m, n]), act) ?? noGrad(() => a!.matmul(b!).add(bias!)[act]());
  },
  backward: (ctx, g) => addmm.backward!({ ...ctx, attrs: undefined }, activationGrad(ctx.attrs, g, ctx.output)),
});

/** True when the matrix dims are stored column-major (a transposed row-major matrix). */
function columnMajor(x: { shape: readonly number[]; strides: readonly number[] }): boolean {
  const r = x.shape.length;
  return x.shape[r - 2]! > 1 && x.shape[r - 1]! > 1 && x.strides[r - 2] === 1 && x.strides[r - 1] === x.shape[r - 2];
}
