/** Activation layers: thin modules over the functions in functional-activation.ts. */
import type { Tensor } from '../tensor/tensor.js';
import {
  elu, gelu, hardtanh, implicitSoftmaxDim, leakyRelu, logSigmoid, logSoftmax, relu, relu6, sigmoid, silu, softmax, softplus, tanh,
  type SoftplusOptions,
} from './functional-activation.js';
import { Module } from './module.js';

/** `max(x, 0)` (`nn.ReLU`). @example new nn.ReLU().call(tg.tensor([-1, 2]));   // [0, 2] */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** `min(max(x, 0), 6)` (`nn.ReLU6`). @example new nn.ReLU6().call(tg.tensor([-1, 8]));   // [0, 6] */
export class ReLU6 extends Module {
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** Leaky ReLU (`nn.LeakyReLU`). @example new nn.LeakyReLU(0.1).call(tg.tensor([-1]));   // [-0.1] */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** Exponential linear unit (`nn.ELU`). @example new nn.ELU().call(tg.tensor([-1]));   // [-0.6321] */
export class ELU extends Module {
  readonly alpha: number;
  constructor(alpha = 1) {
    super();
    this.alpha = alpha;
  }
  override forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Gaussian error linear unit (`nn.GELU`), exact ('none', via erf) or 'tanh'-approximated.
 * @example
 * new nn.GELU({ approximate: 'tanh' }).call(tg.tensor([1]));   // [0.8412]
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = opts.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') throw new RangeError('approximate argument must be either none or tanh.');
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** `x * sigmoid(x)` (`nn.SiLU`). @example new nn.SiLU().call(tg.tensor([1]));   // [0.7311] */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Smooth ReLU (`nn.Softplus`). @example new nn.Softplus({ beta: 2 }).call(tg.tensor([0]));   // [0.3466] */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(opts: SoftplusOptions = {}) {
    super();
    this.beta = opts.beta ?? 1;
    this.threshold = opts.threshold ?? 20;
  }
  override forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** Logistic sigmoid (`nn.Sigmoid`). @example new nn.Sigmoid().call(tg.tensor([0]));   // [0.5] */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** `log(sigmoid(x))` (`nn.LogSigmoid`). @example new nn.LogSigmoid().call(tg.tensor([0]));   // [-0.6931] */
export class LogSigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}

/** Hyperbolic tangent (`nn.Tanh`). @example new nn.Tanh().call(tg.tensor([0]));   // [0] */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** `clamp(x, minVal, maxVal)` (`nn.Hardtanh`). @example new nn.Hardtanh(-2, 2).call(tg.tensor([3]));   // [2] */
export class Hardtanh extends Module {
  readonly minVal: number;
  readonly maxVal: number;
  constructor(minVal = -1, maxVal = 1) {
    super();
    if (!(maxVal > minVal)) throw new RangeError('max_val must be greater than min_val');
    this.minVal = minVal;
    this.maxVal = maxVal;
  }
  override forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }
  override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/**
 * Softmax along `dim` (`nn.Softmax`). Without a dim it uses PyTorch's legacy choice (dim 0 for
 * 0-, 1- and 3-D input, else 1).
 * @example
 * new nn.Softmax(-1).call(tg.tensor([[1, 1]]));   // [[0.5, 0.5]]
 */
export class Softmax extends Module {
  readonly dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim ?? implicitSoftmaxDim(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** `log(softmax(x))` along `dim` (`nn.LogSoftmax`). @example new nn.LogSoftmax(1).call(logits); */
export class LogSoftmax extends Module {
  readonly dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  override forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim ?? implicitSoftmaxDim(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
