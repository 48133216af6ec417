/** Batched matrix multiply on equal batch shapes; the Tensor layer handles 1-D and broadcasting. */
import { backendOf } from '../../tensor/backend/device.js';
import { defineOp } from '../function.js';

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

/** True when the matrix dims are stored column-major (a transposed row-major matrix). */
function columnMajor(x: { shape: readonly number[]; strides: readonly number[] }): boolean {
  const r = x.shape.length;
  return x.shape[r - 2]! > 1 && x.shape[r - 1]! > 1 && x.strides[r - 2] === 1 && x.strides[r - 1] === x.shape[r - 2];
}
