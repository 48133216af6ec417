/**
 * Regression and binary losses (`F.mse_loss`, `F.l1_loss`, `F.smooth_l1_loss`, `F.huber_loss`,
 * `F.kl_div`, `F.binary_cross_entropy[_with_logits]`), composed from core ops with PyTorch's
 * formulas; class-index losses live in functional-loss-class.ts.
 */
import { defineOp, apply } from '../autograd/function.js';
import { noGrad } from '../autograd/grad-mode.js';
import { fmtShape, sameShape } from '../tensor/shape.js';
import { checkTensorArg } from '../tensor/checks.js';
import { where, type Tensor } from '../tensor/tensor.js';

/** How a loss reduces its per-element values. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of the losses that only take a reduction. */
export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Check a reduction name with PyTorch's message. */
export function checkReduction(reduction: string, allowed: readonly string[] = ['mean', 'sum', 'none']): void {
  if (!allowed.includes(reduction)) throw new RangeError(`${reduction} is not a valid value for reduction`);
}

/** A loss's `input` and `target` must be tensors (a plain array names the argument). */
export function checkLossArgs(op: string, input: unknown, target: unknown): void {
  checkTensorArg(op, 'input', 1, input);
  checkTensorArg(op, 'target', 2, target);
}

/** Apply a reduction to elementwise losses. */
export function reduce(loss: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkReduction(reduction);
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}

/**
 * Mean squared error `(input - target)^2` (`F.mse_loss`); shapes broadcast.
 * @example
 * F.mseLoss(tg.tensor([1, 2]), tg.tensor([1, 4]));   // 2
 */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  checkLossArgs('mse_loss', input, target);
  return reduce(input.sub(target).square(), opts.reduction);
}

/**
 * Mean absolute error `|input - target|` (`F.l1_loss`).
 * @example
 * F.l1Loss(tg.tensor([1, 2]), tg.tensor([1, 4]));   // 1
 */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  checkLossArgs('l1_loss', input, target);
  return reduce(input.sub(target).abs(), opts.reduction);
}

/**
 * Smooth L1 (`F.smooth_l1_loss`): `0.5 d^2 / beta` where `|d| < beta`, else `|d| - 0.5 beta`;
 * `beta` 0 is the L1 loss.
 * @example
 * F.smoothL1Loss(tg.tensor([0, 3]), tg.tensor([0.5, 0]));   // (0.125 + 2.5) / 2
 */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: ReductionOptions & { beta?: number } = {}): Tensor {
  checkLossArgs('smooth_l1_loss', input, target);
  const beta = opts.beta ?? 1;
  if (beta < 0) throw new RangeError('smooth_l1_loss does not support negative values for beta.');
  if (beta === 0) return l1Loss(input, target, opts);
  const z = input.sub(target).abs();
  return reduce(where(z.lt(beta), z.square().mul(0.5).div(beta), z.sub(0.5 * beta)), opts.reduction);
}

/**
 * Huber loss (`F.huber_loss`): `0.5 d^2` where `|d| < delta`, else `delta (|d| - 0.5 delta)`.
 * @example
 * F.huberLoss(tg.tensor([0, 3]), tg.tensor([0.5, 0]), { delta: 1 });   // (0.125 + 2.5) / 2
 */
export function huberLoss(input: Tensor, target: Tensor, opts: ReductionOptions & { delta?: number } = {}): Tensor {
  checkLossArgs('huber_loss', input, target);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new RangeError('huber_loss does not support non-positive values for delta.');
  const z = input.sub(target).abs();
  return reduce(where(z.lt(delta), z.square().mul(0.5), z.sub(0.5 * delta).mul(delta)), opts.reduction);
}

/** Options of `F.klDiv`. */
export interface KlDivOptions {
  /** 'mean' (over all elements, PyTorch's default), 'batchmean' (sum / batch size: the true KL), 'sum', 'none'. */
  reduction?: Reduction | 'batchmean';
  /** `target` holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence with `input` as log-probabilities (`F.kl_div`):
 * `target * (log(target) - input)` elementwise, with `0 log 0 = 0`.
 * @example
 * const logq = tg.tensor([[0.2, 0.8]]).log();
 * F.klDiv(logq, tg.tensor([[0.5, 0.5]]), { reduction: 'batchmean' });
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  checkLossArgs('kl_div', input, target);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(reduction, ['mean', 'sum', 'none', 'batchmean']);
  // xlogy(t, t) is 0 where t == 0 (PyTorch's xlogy); its gradient there is NaN, as PyTorch's.
  const loss = opts.logTarget
    ? target.exp().mul(target.sub(input))
    : where(target.eq(0), 0, target.mul(target.log())).sub(target.mul(input));
  if (reduction === 'batchmean') return input.ndim === 0 ? loss.sum() : loss.sum().div(input.shape[0]!);
  return reduce(loss, reduction);
}

/** Options of the binary cross-entropy losses. */
export interface BceOptions extends ReductionOptions {
  /** Rescales each element's loss (broadcast to the input). */
  weight?: Tensor | null;
}

// NOTE: PyTorch's EPSILON is the float 1e-12 (9.99999996e-13), observable at x = 0 or 1.
const BCE_EPS = Math.fround(1e-12);

/**
 * `-(t log x + (1 - t) log(1 - x))` with each log clamped to >= -100; the backward is PyTorch's
 * closed form `(x - t) / max(x (1 - x), 1e-12)`, finite even at x = 0 or 1.
 */
const bceOp = defineOp<undefined>({
  name: 'binaryCrossEntropy',
  saves: 'inputs',
  // NOTE: log(1 - x), not log1p(-x): PyTorch 1.13's kernel, matched to the last bit.
  forward: ([x, t]) => noGrad(() => t!.sub(1).mul(x!.rsub(1).log().clampMin(-100)).sub(t!.mul(x!.log().clampMin(-100)))),
  backward: ({ inputs: [x, t], needsInputGrad: n }, g) => [
    n[0] ? g.mul(x!.sub(t!)).div(x!.mul(x!.rsub(1)).clampMin(BCE_EPS)) : null,
    n[1] ? g.mul(x!.rsub(1).log().sub(x!.log())) : null,
  ],
});

/**
 * Binary cross-entropy on probabilities in [0, 1] (`F.binary_cross_entropy`); the logs are
 * clamped to >= -100 as PyTorch, so x = 0 or 1 gives a finite loss.
 * @example
 * F.bceLoss(tg.tensor([0.9, 0.2]), tg.tensor([1, 0]));   // 0.1643
 */
export function bceLoss(input: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  checkLossArgs('binary_cross_entropy', input, target);
  if (!sameShape(input.shape, target.shape)) {
    throw new RangeError(`Using a target size (${fmtShape(target.shape)}) that is different to the input size (${fmtShape(input.shape)}) is deprecated. Please ensure they have the same size.`);
  }
  // NOTE: checked on the CPU only, where reading the values is free (PyTorch's CUDA kernel also
  // checks asynchronously); on a device this would force a synchronous readback every step.
  if (input.device === 'cpu') {
    for (const v of input.dataSync()) if (!(v >= 0 && v <= 1)) throw new RangeError('all elements of input should be between 0 and 1');
  }
  const t = target.to(input.dtype);
  let loss = apply(bceOp, [input, t], undefined);
  if (opts.weight) loss = loss.mul(opts.weight);
  return reduce(loss, opts.reduction);
}

/** Options of `F.binaryCrossEntropyWithLogits`. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term per class (broadcast along the last dim), for imbalanced data. */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid plus binary cross-entropy in one numerically stable expression
 * (`F.binary_cross_entropy_with_logits`): logits of ±1e4 give finite losses and gradients.
 * @example
 * F.binaryCrossEntropyWithLogits(tg.tensor([1e4, -2]), tg.tensor([1, 0]));   // finite
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  checkLossArgs('binary_cross_entropy_with_logits', input, target);
  if (!sameShape(input.shape, target.shape)) {
    throw new RangeError(`Target size (${fmtShape(target.shape)}) must be the same as input size (${fmtShape(input.shape)})`);
  }
  // PyTorch's form: (1 - t) x + L * (log(exp(-m) + exp(-x - m)) + m), m = max(-x, 0),
  // L = 1 + (posWeight - 1) t: every exp argument is <= 0.
  const m = input.neg().clampMin(0);
  const logSum = m.neg().exp().add(input.neg().sub(m).exp()).log();
  const linear = target.rsub(1).mul(input);
  let loss = opts.posWeight
    ? linear.add(opts.posWeight.sub(1).mul(target).add(1).mul(logSum.add(m)))
    : linear.add(m).add(logSum);
  if (opts.weight) loss = loss.mul(opts.weight);
  return reduce(loss, opts.reduction);
}
