/** Normalisation layers: `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`. */
import { noGrad } from '../autograd/grad-mode.js';
import { ones, zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { batchNorm, layerNorm } from './functional-norm.js';
import { ones_, zeros_ } from './init.js';
import { factory, type FactoryOptions } from './layers.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Options of the batch-norm layers. */
export interface BatchNormLayerOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Running-stat update factor (default 0.1); null for a cumulative average over all batches. */
  momentum?: number | null;
  /** Learn per-channel `weight` and `bias` (default true). */
  affine?: boolean;
  /** Keep `runningMean`/`runningVar` for eval mode (default true). */
  trackRunningStats?: boolean;
}

/**
 * Shared batch-norm mechanics (PyTorch's `_BatchNorm`): batch statistics in training mode
 * (updating the running ones, `numBatchesTracked` counting steps), running statistics in eval.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const f = factory(opts);
    if (this.affine) {
      this.weight = new Parameter(ones([numFeatures], f));
      this.bias = new Parameter(zeros([numFeatures], f));
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures], f));
      this.registerBuffer('runningVar', ones([numFeatures], f));
      this.registerBuffer('numBatchesTracked', zeros([], { dtype: 'int32', ...(f.device && { device: f.device }) }));
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** Reset the running statistics (mean 0, variance 1, no batches seen). */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  /** Reset running statistics and the affine parameters (ones and zeros). */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** Throw PyTorch's error for an input of the wrong rank. */
  protected abstract checkInputDim(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    let factor: number | Tensor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      const count = this.numBatchesTracked;
      noGrad(() => count.add_(1));
      // NOTE: momentum null means a cumulative moving average: factor 1 / batches seen (a device
      // tensor off the CPU, so the count is not read back every step).
      if (this.momentum === null) factor = count.device === 'cpu' ? 1 / count.item() : count.to(this.runningMean?.dtype ?? 'float32').reciprocal();
    }
    const useBatchStats = this.training || (this.runningMean === null && this.runningVar === null);
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.runningMean : null, track ? this.runningVar : null, {
      weight: this.weight, bias: this.bias, training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalisation over `(N, C)` or `(N, C, L)` input (`nn.BatchNorm1d`).
 * @example
 * const bn = new nn.BatchNorm1d(4);
 * bn.call(tg.randn([16, 4]));   // updates bn.runningMean / bn.runningVar
 */
export class BatchNorm1d extends BatchNormBase {
  protected override checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new RangeError(`expected 2D or 3D input (got ${x.ndim}D input)`);
  }
}

/**
 * Batch normalisation over `(N, C, H, W)` input (`nn.BatchNorm2d`).
 * @example
 * const bn = new nn.BatchNorm2d(16);
 * bn.eval();   // normalise with the running statistics
 */
export class BatchNorm2d extends BatchNormBase {
  protected override checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new RangeError(`expected 4D input (got ${x.ndim}D input)`);
  }
}

/** Options of `nn.LayerNorm`. */
export interface LayerNormLayerOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn an elementwise `weight` and `bias` (default true). */
  elementwiseAffine?: boolean;
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims (`nn.LayerNorm`).
 * @example
 * const ln = new nn.LayerNorm(8);
 * ln.call(tg.randn([2, 5, 8])).shape;   // [2, 5, 8]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  declare weight: Tensor | null;
  declare bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    if (this.elementwiseAffine) {
      this.weight = new Parameter(ones(this.normalizedShape, factory(opts)));
      this.bias = new Parameter(zeros(this.normalizedShape, factory(opts)));
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
  }

  /** Reset the affine parameters to ones and zeros. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
