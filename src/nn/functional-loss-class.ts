/**
 * Classification losses: `F.nll_loss` and `F.cross_entropy` (class indices or class
 * probabilities, class weights, `ignoreIndex`, label smoothing), with PyTorch's shapes: `(N, C)`,
 * `(N, C, d1, ...)` and unbatched `(C)` input.
 */
import { isFloating, type DType } from '../tensor/dtype.js';
import { fmtShape, sameShape } from '../tensor/shape.js';
import { checkTensorArg, findOutOfRange } from '../tensor/checks.js';
import { where, type Tensor } from '../tensor/tensor.js';
import { checkReduction, type Reduction } from './functional-loss.js';

/** Options of `F.nllLoss`. */
export interface NllLossOptions {
  /** Per-class rescaling weight, shape `(C)`. */
  weight?: Tensor | null;
  /** Target value that contributes neither loss nor gradient (default -100). */
  ignoreIndex?: number;
  /** 'mean' (weighted: divides by the summed weights of non-ignored targets), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Options of `F.crossEntropy`. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mix the target with the uniform distribution: `(1 - s) * target + s / C` (default 0). */
  labelSmoothing?: number;
}

const INT_TARGET_HELP = "\n- help: class-index targets must be int32: create them with { dtype: 'int32' }, e.g. tg.tensor([2, 0, 1], { dtype: 'int32' })";

/** PyTorch's nll_loss_nd shape checks; returns the class dim and class count. */
function checkNll(input: Tensor, target: Tensor, weight: Tensor | null): { classDim: number; c: number } {
  if (input.ndim < 1) throw new RangeError(`Expected 1 or more dimensions (got ${input.ndim})`);
  if (target.dtype !== 'int32') throw new TypeError(`expected scalar type Int but found ${target.dtype}${INT_TARGET_HELP}`);
  if (input.ndim !== 1 && input.shape[0] !== target.shape[0]) {
    throw new RangeError(`Expected input batch_size (${input.shape[0]}) to match target batch_size (${target.shape[0] ?? 1}).`);
  }
  const classDim = input.ndim === 1 ? 0 : 1;
  const c = input.shape[classDim]!;
  if (input.ndim === 1 && target.ndim !== 0) {
    throw new RangeError(`size mismatch (got input: ${fmtShape(input.shape)}, target: ${fmtShape(target.shape)})`);
  }
  if (input.ndim === 2 && target.ndim !== 1) throw new RangeError('0D or 1D target tensor expected, multi-target not supported');
  if (input.ndim > 2 && !sameShape(target.shape.slice(1), input.shape.slice(2))) {
    throw new RangeError(`Expected target size ${fmtShape([input.shape[0]!, ...input.shape.slice(2)])}, got ${fmtShape(target.shape)}`);
  }
  if (weight && (weight.ndim !== 1 || weight.numel() !== c)) {
    throw new RangeError(`weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${fmtShape(weight.shape)}`);
  }
  return { classDim, c };
}

interface TargetWeights {
  /** Targets that count (not `ignoreIndex`). */
  readonly valid: Tensor;
  /** The targets with ignored ones replaced by 0: safe to gather with. */
  readonly safe: Tensor;
  /** Per-target weights, 0 where ignored. */
  readonly w: Tensor;
}

/**
 * Per-target weights and the clamped targets. The one host read of the targets per loss call is
 * the range check here (none on devices that read back only asynchronously).
 */
function targetWeights(dtype: DType, target: Tensor, weight: Tensor | null, ignoreIndex: number, c: number): TargetWeights {
  const bad = findOutOfRange(target, c, ignoreIndex);
  if (bad !== null) throw new RangeError(`Target ${bad} is out of bounds.`);
  const valid = target.ne(ignoreIndex);
  const safe = where(valid, target, 0);
  const w = weight ? weight.to(dtype).gatherUnchecked(0, safe.reshape([-1])).reshape(target.shape) : valid.to(dtype);
  return { valid, safe, w: where(valid, w, 0) };
}

/** The nll loss from checked targets. */
function nllFrom(input: Tensor, classDim: number, { valid, safe, w }: TargetWeights, reduction: Reduction): Tensor {
  const picked = input.gatherUnchecked(classDim, safe.unsqueeze(classDim)).squeeze(classDim);
  const loss = where(valid, picked.mul(w).neg(), 0);
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return loss.sum();
  // NOTE: the weighted mean divides by the summed weights of the counted targets (NaN if none).
  return loss.sum().div(w.sum());
}

/**
 * Negative log-likelihood of log-probabilities `input` at class-index `target` (`F.nll_loss`):
 * `-weight[t] * input[n, t]`, skipping `ignoreIndex`.
 * @example
 * const logp = tg.tensor([[0.2, 0.8], [0.6, 0.4]]).log();
 * F.nllLoss(logp, tg.tensor([1, 0], { dtype: 'int32' }));   // -(log 0.8 + log 0.6) / 2
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  checkTensorArg('nll_loss', 'input', 1, input);
  checkTensorArg('nll_loss', 'target', 2, target);
  const { weight = null, ignoreIndex = -100, reduction = 'mean' } = opts;
  checkReduction(reduction);
  const { classDim, c } = checkNll(input, target, weight);
  return nllFrom(input, classDim, targetWeights(input.dtype, target, weight, ignoreIndex, c), reduction);
}

/**
 * Cross-entropy between logits `input` and `target` (`F.cross_entropy`): class indices (int32,
 * shape of input without the class dim) or class probabilities (float, same shape as input).
 * Computed as `logSoftmax` + `nllLoss`, plus PyTorch's label-smoothing term.
 * @example
 * const logits = tg.tensor([[2, 0.5, -1], [0, 1, 0]]);
 * F.crossEntropy(logits, tg.tensor([0, 1], { dtype: 'int32' }), { labelSmoothing: 0.1 });
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkTensorArg('cross_entropy_loss', 'input', 1, input);
  checkTensorArg('cross_entropy_loss', 'target', 2, target);
  const { weight = null, ignoreIndex = -100, reduction = 'mean', labelSmoothing = 0 } = opts;
  checkReduction(reduction);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new RangeError(`label_smoothing must be between 0.0 and 1.0. Got: ${labelSmoothing}`);
  if (input.ndim < 1) throw new RangeError(`Expected 1 or more dimensions (got ${input.ndim})`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const c = input.shape[classDim]!;
  const logp = input.logSoftmax(classDim);
  const wShape = input.shape.map((s, i) => (i === classDim ? s : 1));
  if (weight && (weight.ndim !== 1 || weight.numel() !== c)) {
    throw new RangeError(`weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${fmtShape(weight.shape)}`);
  }
  const wb = weight ? weight.to(logp.dtype).reshape(wShape) : null;

  if (sameShape(input.shape, target.shape)) {
    // Class probabilities.
    if (!isFloating(target.dtype)) throw new TypeError(`Expected floating point type for target with class probabilities, got ${target.dtype}`);
    if (ignoreIndex !== -100) throw new RangeError('ignore_index is not supported for floating point target');
    const t = labelSmoothing > 0 ? target.mul(1 - labelSmoothing).add(labelSmoothing / c) : target;
    const prod = wb ? logp.mul(t).mul(wb) : logp.mul(t);
    if (reduction === 'none') return prod.sum(classDim).neg();
    if (reduction === 'sum') return prod.sum().neg();
    return prod.sum().neg().div(input.numel() / c);
  }

  checkNll(logp, target, weight);
  const tw = targetWeights(logp.dtype, target, weight, ignoreIndex, c);
  const nll = nllFrom(logp, classDim, tw, reduction);
  if (labelSmoothing === 0) return nll;
  // PyTorch's smoothing term: the (weighted) sum of -log p over classes, zero at ignored
  // targets, reduced like the nll term (mean: over the same summed weights / counts).
  const smooth = where(tw.valid, (wb ? logp.mul(wb) : logp).sum(classDim).neg(), 0);
  let reduced: Tensor;
  if (reduction === 'none') reduced = smooth;
  else if (reduction === 'sum') reduced = smooth.sum();
  else reduced = smooth.sum().div(tw.w.sum());
  return nll.mul(1 - labelSmoothing).add(reduced.mul(labelSmoothing / c));
}
