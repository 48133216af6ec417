/** `F.batchNorm` and `F.layerNorm`: normalisation composed from reductions and broadcasting. */
import { noGrad } from '../autograd/grad-mode.js';
import { fmtShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of `F.batchNorm`. */
export interface BatchNormOptions {
  /** Per-channel scale (gamma). */
  weight?: Tensor | null;
  /** Per-channel shift (beta). */
  bias?: Tensor | null;
  /** Use batch statistics and update the running ones (default false: use the running ones). */
  training?: boolean;
  /**
   * Running-stat update factor: `running = (1 - momentum) * running + momentum * batch` (default
   * 0.1). A 0-d tensor works too (`nn.BatchNorm*` with momentum null passes 1 / batches seen as a
   * device tensor off the CPU, so the count is never read back).
   */
  momentum?: number | Tensor;
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation over the channel dim 1 of `(N, C, ...)` input (`F.batch_norm`). In training
 * (or without running stats) it normalises with the batch mean and biased variance and, when
 * running stats are given, updates them in place with the unbiased variance, as PyTorch.
 * @example
 * const rm = tg.zeros([3]), rv = tg.ones([3]);
 * F.batchNorm(tg.randn([8, 3]), rm, rv, { training: true });   // rm, rv updated
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = opts;
  if (input.ndim < 2) throw new RangeError(`batch_norm: expected input with at least 2 dims, got ${fmtShape(input.shape)}`);
  const c = input.shape[1]!;
  for (const [name, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t && t.numel() !== c) throw new RangeError(`${name} should contain ${c} elements not ${t.numel()}`);
  }
  const axes = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const statShape = input.shape.map((s, i) => (i === 1 ? s : 1));
  let mean: Tensor;
  let variance: Tensor;
  if (training || !runningMean || !runningVar) {
    const n = input.numel() / c;
    if (training && n === 1) throw new RangeError(`Expected more than 1 value per channel when training, got input size ${fmtShape(input.shape)}`);
    mean = input.mean(axes, true);
    const sqSum = input.sub(mean).square().sum(axes, true);
    variance = sqSum.div(n);
    if (training && (runningMean || runningVar)) {
      noGrad(() => {
        const keep = typeof momentum === 'number' ? 1 - momentum : momentum.rsub(1);
        if (runningMean) runningMean.mul_(keep).add_(mean.reshape([c]).mul(momentum));
        if (runningVar) runningVar.mul_(keep).add_(sqSum.reshape([c]).div(n - 1).mul(momentum));
      });
    }
  } else {
    mean = runningMean.reshape(statShape);
    variance = runningVar.reshape(statShape);
  }
  let y = input.sub(mean).div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight.reshape(statShape));
  if (bias) y = y.add(bias.reshape(statShape));
  return y;
}

/** Options of `F.layerNorm`. */
export interface LayerNormOptions {
  /** Elementwise scale of shape `normalizedShape`. */
  weight?: Tensor | null;
  /** Elementwise shift of shape `normalizedShape`. */
  bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims (`F.layer_norm`), with the biased
 * variance. A number `normalizedShape` is the last dim's size (`[n]`).
 * @example
 * F.layerNorm(tg.randn([2, 5]), [5]);   // each row has mean 0, variance ~1
 */
export function layerNorm(input: Tensor, normalizedShapeArg: number | readonly number[], opts: LayerNormOptions = {}): Tensor {
  const normalizedShape = typeof normalizedShapeArg === 'number' ? [normalizedShapeArg] : normalizedShapeArg;
  const { weight = null, bias = null, eps = 1e-5 } = opts;
  const k = normalizedShape.length;
  const tail = input.shape.slice(input.ndim - k);
  if (k === 0 || input.ndim < k || tail.some((s, i) => s !== normalizedShape[i])) {
    throw new RangeError(`Given normalized_shape=${fmtShape(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size${fmtShape(input.shape)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && fmtShape(t.shape) !== fmtShape(normalizedShape)) {
      throw new RangeError(`Expected ${name} to be of same shape as normalized_shape, but got ${name} of shape ${fmtShape(t.shape)} and normalized_shape = ${fmtShape(normalizedShape)}`);
    }
  }
  const axes = normalizedShape.map((_, i) => input.ndim - k + i);
  const mean = input.mean(axes, true);
  const centered = input.sub(mean);
  const variance = centered.square().mean(axes, true);
  let y = centered.div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}
