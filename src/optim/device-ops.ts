/**
 * Tensor-op building blocks for the optimizers whose host update runs over flat arrays (Lion,
 * LAMB, LARS, Adafactor, Muon) or reads numbers back (Shampoo, K-FAC): on a parameter off the
 * CPU they update with tensor ops instead, so every step runs where the parameter lives and
 * nothing is read back (WebGPU has no synchronous readback; WebGL and headless-gl would copy each
 * parameter to the host and back every step).
 *
 * Numbers a host update branches on (a norm being 0, a trust ratio, a clipping factor) stay 0-d
 * tensors here, and each branch becomes a `where`. Each parameter's update runs in its own
 * `scope()`, so the intermediates are freed when it returns and the device buffer count stays flat.
 * @example
 * if (onDeviceParam(p)) {
 *   deviceUpdate(() => p.copy_(p.sub(grad.mul(lr))));
 *   return state;
 * }
 */
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/scope.js';
import { where, type Tensor } from '../tensor/tensor.js';

/**
 * Whether `p` takes the tensor-op update: it is off the CPU. (CPU parameters keep the flat-array
 * update, the one the fixtures check against PyTorch.)
 * @example
 * onDeviceParam(tg.zeros([2], { device: 'gpu' })); // true
 */
export function onDeviceParam(p: Tensor): boolean {
  return p.device !== 'cpu';
}

/**
 * Run one parameter's tensor-op update without recording a graph, freeing its intermediates when
 * it returns (state it creates must be `keep()`-ed, as `stateZeros` does).
 * @example
 * deviceUpdate(() => void p.sub_(grad.mul(0.1)));
 */
export function deviceUpdate(fn: () => void): void {
  scope(() => noGrad(fn));
}

/**
 * `a > 0 && b > 0 ? value : fallback` on 0-d tensors, evaluated on their device (the guard of a
 * trust ratio, which the host update takes when a norm is 0).
 * @example
 * const ratio = whereBothPositive(wNorm, uNorm, wNorm.div(uNorm), 1); // LAMB's φ(‖w‖)/‖u‖, 1 at a zero norm
 */
export function whereBothPositive(a: Tensor, b: Tensor, value: Tensor, fallback: number): Tensor {
  return where(a.gt(0).logicalAnd(b.gt(0)), value, fallback);
}

/**
 * `torch.lerp(start, end, w)` for a number weight, with PyTorch's two formulas (exact at both
 * ends), as the host update's `lerp`.
 * @example
 * lerpTensor(tg.zeros([2]), tg.ones([2]), 0.25); // [0.25, 0.25]
 */
export function lerpTensor(start: Tensor, end: Tensor, w: number): Tensor {
  return w < 0.5 ? start.add(end.sub(start).mul(w)) : end.sub(end.sub(start).mul(1 - w));
}

/**
 * The trace of a square matrix as a 0-d tensor on its device: the sum of the diagonal, read as
 * a strided slice of the flattened matrix (no copy, no readback).
 * @example
 * traceTensor(tg.tensor([[1, 2], [3, 4]])); // 5
 */
export function traceTensor(m: Tensor): Tensor {
  const n = m.shape[0]!;
  return m.contiguous().reshape([-1]).slice(0, 0, null, n + 1).sum();
}
