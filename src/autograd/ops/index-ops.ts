/** Index primitives: gather and scatter (assign or add), each other's backward. */
import { backendOf } from '../../tensor/backend/device.js';
import { defineOp } from '../function.js';

export const gather = defineOp<{ dim: number; inShape: readonly number[] }>({
  name: 'gather',
  saves: 'inputs',
  savedInputs: () => [false, true], // x only lends its shape to the backward
  forward: ([x, index], { dim }) => backendOf(x!).gather(x!, dim, index!),
  backward: ({ inputs: [x, index], attrs: { dim } }, g) => [x!.zerosLike().scatterAdd(dim, index!, g), null],
});

/** self with src scattered in along dim (`accumulate`: scatter_add). */
export const scatter = defineOp<{ dim: number; accumulate: boolean }>({
  name: 'scatter',
  saves: 'inputs',
  savedInputs: () => [false, true, false], // only the index is read
  forward: ([self, index, src], { dim, accumulate }) => backendOf(self!).scatter(self!, dim, index!, src!, accumulate),
  backward: ({ inputs: [, index], attrs: { dim, accumulate }, needsInputGrad: n }, g) => [
    // NOTE: plain scatter overwrites, so positions it wrote get no gradient in self.
    n[0] ? (accumulate ? g : g.scatter(dim, index!, 0)) : null,
    null,
    n[2] ? g.gather(dim, index!) : null,
  ],
});
