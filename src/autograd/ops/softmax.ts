/**
 * softmax, logSoftmax and logsumexp as primitives: stable forwards (the max is subtracted) and
 * PyTorch's backward formulas (derivatives.yaml), which are themselves differentiable.
 */
import { backendOf } from '../../tensor/backend/device.js';
import { noGrad } from '../grad-mode.js';
import { Tensor, where } from '../../tensor/tensor.js';
import { defineOp } from '../function.js';

/** The detached row max, zeroed where infinite so `x - m` never makes NaN from inf - inf. */
function shift(x: Tensor, axes: readonly number[]): Tensor {
  // An empty tensor has no max: shift by 0 (logsumexp over an empty dim is -inf, as PyTorch).
  if (x.numel() === 0) return x.sum(axes, true);
  const m = x.amax(axes, true);
  return where(m.isinf(), 0, m);
}

export const softmax = defineOp<{ dim: number }>({
  name: 'softmax',
  saves: 'output',
  forward: ([x], { dim }) =>
    backendOf(x!).softmax?.(x!, dim, false) ??
    noGrad(() => {
      const e = x!.sub(shift(x!, [dim])).exp();
      return e.div(e.sum(dim, true));
    }),
  // grad_input = (g - sum(g * y)) * y
  backward: ({ output: y, attrs: { dim } }, g) => [g.sub(g.mul(y).sum(dim, true)).mul(y)],
});

export const logSoftmax = defineOp<{ dim: number }>({
  name: 'logSoftmax',
  saves: 'output',
  forward: ([x], { dim }) =>
    backendOf(x!).softmax?.(x!, dim, true) ??
    noGrad(() => {
      const s = x!.sub(shift(x!, [dim]));
      return s.sub(s.exp().sum(dim, true).log());
    }),
  // grad_input = g - exp(y) * sum(g)
  backward: ({ output: y, attrs: { dim } }, g) => [g.sub(y.exp().mul(g.sum(dim, true)))],
});

export const logsumexp = defineOp<{ axes: readonly number[]; keptShape: readonly number[]; keepdim: boolean }>({
  name: 'logsumexp',
  saves: 'all',
  forward: ([x], { axes, keepdim }) =>
    noGrad(() => {
      const fused = backendOf(x!).logsumexp?.(x!, axes);
      const m = fused ? null : shift(x!, axes);
      const out = fused ? Tensor.fromView(fused) : x!.sub(m!).exp().sum(axes, true).log().add(m!);
      return keepdim ? out : out.squeeze(axes);
    }),
  // grad_input = g * exp(x - result)
  backward: ({ inputs: [x], output, attrs: { keptShape } }, g) => [g.reshape(keptShape).mul(x!.sub(output.reshape(keptShape)).exp())],
});
