/**
 * Loss modules. Each only holds its options (class weights are registered as buffers, as in
 * PyTorch, so they follow `to()`); `forward(input, target)` calls the functional loss.
 */
import type { Tensor } from '../tensor/tensor.js';
import {
  bceLoss, binaryCrossEntropyWithLogits, checkReduction, huberLoss, klDiv, l1Loss, mseLoss, smoothL1Loss,
  type Reduction,
} from './functional-loss.js';
import { crossEntropy, nllLoss } from './functional-loss-class.js';
import { Module } from './module.js';

/** Base of the loss modules: `call(input, target)` returns the loss. */
export abstract class Loss extends Module<[Tensor, Tensor], Tensor> {
  readonly reduction: Reduction;
  constructor(reduction: Reduction = 'mean') {
    super();
    checkReduction(reduction);
    this.reduction = reduction;
  }
  override extraRepr(): string {
    return `reduction='${this.reduction}'`;
  }
}

/** A loss with an optional per-class `weight` buffer. */
abstract class WeightedLoss extends Loss {
  declare weight: Tensor | null;
  constructor(weight: Tensor | null, reduction: Reduction = 'mean') {
    super(reduction);
    this.registerBuffer('weight', weight);
  }
}

/** Mean squared error (`nn.MSELoss`). @example new nn.MSELoss().call(pred, target); */
export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts.reduction);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error (`nn.L1Loss`). @example new nn.L1Loss({ reduction: 'sum' }).call(pred, target); */
export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts.reduction);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/**
 * Negative log-likelihood on log-probabilities with int32 class targets (`nn.NLLLoss`).
 * @example
 * new nn.NLLLoss({ ignoreIndex: 0 }).call(logp, targets);
 */
export class NLLLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  constructor(opts: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}) {
    super(opts.weight ?? null, opts.reduction);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/**
 * Cross-entropy on logits (`nn.CrossEntropyLoss`): int32 class indices or class probabilities,
 * with class weights, `ignoreIndex` and label smoothing.
 * @example
 * const criterion = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * criterion.call(logits, tg.tensor([2, 0], { dtype: 'int32' })).backward();
 */
export class CrossEntropyLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction; labelSmoothing?: number } = {}) {
    super(opts.weight ?? null, opts.reduction);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing,
    });
  }
}

/**
 * KL divergence with log-probability input (`nn.KLDivLoss`); use `reduction: 'batchmean'` for the
 * mathematical KL.
 * @example
 * new nn.KLDivLoss({ reduction: 'batchmean' }).call(logq, p);
 */
export class KLDivLoss extends Module<[Tensor, Tensor], Tensor> {
  readonly reduction: Reduction | 'batchmean';
  readonly logTarget: boolean;
  constructor(opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    checkReduction(this.reduction, ['mean', 'sum', 'none', 'batchmean']);
    this.logTarget = opts.logTarget ?? false;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

/** Smooth L1 (`nn.SmoothL1Loss`). @example new nn.SmoothL1Loss({ beta: 0.5 }).call(pred, target); */
export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(opts: { reduction?: Reduction; beta?: number } = {}) {
    super(opts.reduction);
    this.beta = opts.beta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Huber loss (`nn.HuberLoss`). @example new nn.HuberLoss({ delta: 2 }).call(pred, target); */
export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(opts: { reduction?: Reduction; delta?: number } = {}) {
    super(opts.reduction);
    this.delta = opts.delta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Binary cross-entropy on probabilities (`nn.BCELoss`). @example new nn.BCELoss().call(probs, labels); */
export class BCELoss extends WeightedLoss {
  constructor(opts: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts.weight ?? null, opts.reduction);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return bceLoss(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Sigmoid + binary cross-entropy, numerically stable (`nn.BCEWithLogitsLoss`).
 * @example
 * new nn.BCEWithLogitsLoss({ posWeight: tg.tensor([3]) }).call(logits, labels);
 */
export class BCEWithLogitsLoss extends WeightedLoss {
  declare posWeight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts.weight ?? null, opts.reduction);
    this.registerBuffer('posWeight', opts.posWeight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}
