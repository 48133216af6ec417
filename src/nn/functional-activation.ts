/**
 * Activation functions (`torch.nn.functional.relu`, `gelu`, ...), composed from core ops so their
 * gradients (and second derivatives) come from the primitives. Branches are clamped before
 * `exp` so the unselected side of a `where` can never turn a gradient into NaN.
 */
import type { DType } from '../tensor/dtype.js';
import { where, type Tensor } from '../tensor/tensor.js';
import { erf } from './functional-erf.js';

/**
 * `max(x, 0)` (`F.relu`); the gradient at 0 is 0, as PyTorch.
 * @example
 * F.relu(tg.tensor([-1, 0, 2]));   // [0, 0, 2]
 */
export function relu(x: Tensor): Tensor {
  return x.relu();
}

/**
 * `min(max(x, 0), 6)` (`F.relu6`).
 * @example
 * F.relu6(tg.tensor([-1, 3, 9]));   // [0, 3, 6]
 */
export function relu6(x: Tensor): Tensor {
  return hardtanh(x, 0, 6);
}

/**
 * `x` for `x > 0`, `negativeSlope * x` otherwise (`F.leaky_relu`); the gradient at 0 is the slope.
 * @example
 * F.leakyRelu(tg.tensor([-2, 3]), 0.1);   // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return where(x.gt(0), x, x.mul(negativeSlope));
}

/**
 * `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise (`F.elu`).
 * @example
 * F.elu(tg.tensor([-1, 2]));   // [-0.6321, 2]
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  // NOTE: clamp before expm1 so large positive x (not selected) cannot give inf * 0 = NaN grads.
  return where(x.gt(0), x, x.clampMax(0).expm1().mul(alpha));
}

/** Options of `F.gelu` / `nn.GELU`. */
export interface GeluOptions {
  /** 'none' (exact, with erf; the default) or 'tanh' (the tanh approximation). */
  approximate?: 'none' | 'tanh';
}

const GELU_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5; // sqrt(2 / pi)
const GELU_KAPPA = 0.044715;

/**
 * Gaussian Error Linear Unit (`F.gelu`): `x * Phi(x)` exactly via erf, or the tanh approximation.
 * @example
 * F.gelu(tg.tensor([-1, 0, 1]));                            // [-0.1587, 0, 0.8413]
 * F.gelu(tg.tensor([1]), { approximate: 'tanh' });          // [0.8412]
 */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approximate = opts.approximate ?? 'none';
  if (approximate === 'tanh') {
    const inner = x.add(x.mul(x).mul(x).mul(GELU_KAPPA)).mul(GELU_BETA);
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  if (approximate !== 'none') throw new RangeError(`approximate argument must be either none or tanh.`);
  return x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1));
}

/**
 * `x * sigmoid(x)` (`F.silu`, also called swish).
 * @example
 * F.silu(tg.tensor([0, 1]));   // [0, 0.7311]
 */
export function silu(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/** Options of `F.softplus` / `nn.Softplus`. */
export interface SoftplusOptions {
  /** Sharpness (default 1). */
  beta?: number;
  /** Above `beta * x > threshold` the function is linear (default 20). */
  threshold?: number;
}

/**
 * `log(1 + exp(beta * x)) / beta`, linear where `beta * x > threshold` (`F.softplus`).
 * @example
 * F.softplus(tg.tensor([0, 30]));   // [0.6931, 30]
 */
export function softplus(x: Tensor, opts: SoftplusOptions = {}): Tensor {
  const { beta = 1, threshold = 20 } = opts;
  const bx = x.mul(beta);
  const smooth = bx.clampMax(threshold).exp().log1p().div(beta);
  return where(bx.gt(threshold), x, smooth);
}

/**
 * `log(sigmoid(x))`, stable for large |x| (`F.logsigmoid`).
 * @example
 * F.logSigmoid(tg.tensor([0, -100]));   // [-0.6931, -100]
 */
export function logSigmoid(x: Tensor): Tensor {
  // log(sigmoid(x)) = -softplus(-x): exact where -x > 20 (the result is x) and smooth at 0.
  return softplus(x.neg()).neg();
}

/**
 * `1 / (1 + exp(-x))` (`F.sigmoid`).
 * @example
 * F.sigmoid(tg.tensor([0]));   // [0.5]
 */
export function sigmoid(x: Tensor): Tensor {
  return x.sigmoid();
}

/**
 * Hyperbolic tangent (`F.tanh`).
 * @example
 * F.tanh(tg.tensor([0]));   // [0]
 */
export function tanh(x: Tensor): Tensor {
  return x.tanh();
}

/**
 * `clamp(x, minVal, maxVal)` (`F.hardtanh`). As PyTorch's hardtanh_backward, the gradient is zero
 * at the bounds themselves (where `clamp` would pass it).
 * @example
 * F.hardtanh(tg.tensor([-3, 0.5, 3]));   // [-1, 0.5, 1]
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (!(maxVal > minVal)) throw new RangeError('max_val must be greater than min_val');
  const inside = x.gt(minVal).logicalAnd(x.lt(maxVal));
  return where(inside, x, x.clamp(minVal, maxVal).detach());
}

/** PyTorch's legacy dim choice when softmax is called without one (0 for 0-, 1- and 3-D input). */
export function implicitSoftmaxDim(ndim: number): number {
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/**
 * Softmax along `dim` (`F.softmax`), computed stably; `dtype` casts the input first.
 * @example
 * F.softmax(tg.tensor([[1, 2, 3]]), -1);   // [[0.0900, 0.2447, 0.6652]]
 */
export function softmax(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  const input = opts.dtype ? x.to(opts.dtype) : x;
  return input.softmax(dim);
}

/**
 * `log(softmax(x))` along `dim` (`F.log_softmax`), computed as `x - logsumexp(x)`.
 * @example
 * F.logSoftmax(tg.tensor([[1, 2, 3]]), 1);   // [[-2.4076, -1.4076, -0.4076]]
 */
export function logSoftmax(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  const input = opts.dtype ? x.to(opts.dtype) : x;
  return input.logSoftmax(dim);
}
