/** Batched matrix multiply on equal batch shapes; the Tensor layer handles 1-D and broadcasting. */
import { backendOf } from '../../tensor/backend/device.js';
import { defineOp } from '../function.js';

export const matmul = defineOp({
  name: 'mm',
  saves: 'inputs',
  forward: ([a, b]) => backendOf(a!).matmul(a!, b!),
  backward: ({ inputs: [a, b], needsInputGrad: n }, g) => [
    n[0] ? g.matmul(b!.transpose(-1, -2)) : null,
    n[1] ? a!.transpose(-1, -2).matmul(g) : null,
  ],
});
