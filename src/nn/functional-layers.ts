/** `F.linear`, `F.dropout`, `F.embedding`, `F.oneHot`: the functional forms of the basic layers. */
import { apply } from '../autograd/function.js';
import { addmm, addmmActivation } from '../autograd/ops/linalg.js';
import type { FusedActivation } from '../tensor/backend/backend.js';
import { arange, rand } from '../tensor/creation.js';
import { DEFAULT_FLOAT, isFloating } from '../tensor/dtype.js';
import type { Generator } from '../tensor/random.js';
import { fmtShape } from '../tensor/shape.js';
import { checkTensorArg } from '../tensor/checks.js';
import { where, type Tensor } from '../tensor/tensor.js';

/**
 * `x @ weight^T + bias` (`F.linear`): `x` is `(*, in)`, `weight` `(out, in)`, `bias` `(out)`.
 * @example
 * F.linear(tg.ones([2, 3]), tg.ones([4, 3]), tg.zeros([4]));   // shape [2, 4], all 3
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkTensorArg('linear', 'input', 1, x);
  checkTensorArg('linear', 'weight', 2, weight);
  if (bias != null) checkTensorArg('linear', 'bias', 3, bias);
  // On the gpu device a 2-D input takes one fused kernel (addmm) instead of matmul + add.
  if (bias && x.device === 'gpu' && fusable(x, weight, bias)) return apply(addmm, [x, weight.t(), bias], undefined);
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/**
 * `act(F.linear(x, weight, bias))` for relu, tanh or sigmoid: on the gpu device, a 2-D input with
 * a bias is one kernel (`addmmActivation`: matmul, bias and activation fused; the backward reads
 * only the activation's result); elsewhere exactly `linear` then the activation. `nn.Sequential`
 * calls it for a `Linear` followed by `ReLU`, `Tanh` or `Sigmoid`.
 * @example
 * linearActivation(x, fc.weight, fc.bias, 'relu'); // = F.relu(F.linear(x, fc.weight, fc.bias))
 */
export function linearActivation(x: Tensor, weight: Tensor, bias: Tensor | null, activation: FusedActivation): Tensor {
  if (bias && x.device === 'gpu') {
    checkTensorArg('linear', 'input', 1, x);
    checkTensorArg('linear', 'weight', 2, weight);
    checkTensorArg('linear', 'bias', 3, bias);
    if (fusable(x, weight, bias)) return apply(addmmActivation, [x, weight.t(), bias], activation);
  }
  return linear(x, weight, bias)[activation]();
}

/** Operands the fused addmm takes as they are: 2-D input, matching sizes, one dtype and device. */
function fusable(x: Tensor, weight: Tensor, bias: Tensor): boolean {
  return x.dim() === 2 && weight.dim() === 2 && bias.dim() === 1 && x.shape[1] === weight.shape[1] && bias.shape[0] === weight.shape[0]
    && x.dtype === weight.dtype && x.dtype === bias.dtype && weight.device === x.device && bias.device === x.device;
}

/** Options of `F.dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
  /** Apply dropout (default true); when false the input is returned unchanged. */
  training?: boolean;
  /** Random source (default: the global generator seeded by `tg.manualSeed`). */
  generator?: Generator;
}

/** Validate a dropout probability as PyTorch does. */
export function checkDropoutP(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
}

/**
 * Zero each element with probability `p` and scale the rest by `1 / (1 - p)` (`F.dropout`), so
 * the expectation is unchanged; the identity when `training` is false or `p` is 0.
 * @example
 * tg.manualSeed(0);
 * F.dropout(tg.ones([4]), { p: 0.5 });   // entries are 0 or 2
 */
export function dropout(x: Tensor, opts: DropoutOptions = {}): Tensor {
  const { p = 0.5, training = true } = opts;
  checkDropoutP(p);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const dtype = isFloating(x.dtype) ? x.dtype : DEFAULT_FLOAT;
  const keep = rand(x.shape, { dtype, device: x.device, ...(opts.generator && { generator: opts.generator }) }).lt(1 - p);
  return x.mul(keep.to(dtype).div(1 - p));
}

/** Options of `F.embedding`. */
export interface EmbeddingOptions {
  /** The row whose gradient is always zero (e.g. a padding token); negative counts from the end. */
  paddingIdx?: number | null;
}

/** Normalise a padding index against `numEmbeddings` (PyTorch's asserts). */
export function normalizePaddingIdx(paddingIdx: number | null | undefined, numEmbeddings: number): number | null {
  if (paddingIdx === null || paddingIdx === undefined) return null;
  if (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) throw new RangeError('Padding_idx must be within num_embeddings');
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}

/**
 * Look up rows of `weight` (`(num, dim)`) at integer `input` indices (`F.embedding`); the result
 * has shape `[...input.shape, dim]`. The `paddingIdx` row receives no gradient.
 * @example
 * F.embedding(tg.tensor([[0, 2]], { dtype: 'int32' }), tg.randn([3, 4]));   // shape [1, 2, 4]
 */
export function embedding(input: Tensor, weight: Tensor, opts: EmbeddingOptions = {}): Tensor {
  checkTensorArg('embedding', 'input', 1, input);
  checkTensorArg('embedding', 'weight', 2, weight);
  if (input.dtype !== 'int32') {
    throw new TypeError(`Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${input.dtype} instead (while checking arguments for embedding)\n- help: create indices with { dtype: 'int32' }, e.g. tg.tensor([1, 0, 2], { dtype: 'int32' })`);
  }
  if (weight.ndim !== 2) throw new RangeError("'weight' must be 2-D");
  const num = weight.shape[0]!;
  const paddingIdx = normalizePaddingIdx(opts.paddingIdx, num);
  const flat = input.reshape([-1]);
  // indexSelect reads the indices once to range-check them ('index out of range in self').
  let rows = weight.indexSelect(0, flat);
  if (paddingIdx !== null) {
    // NOTE: the padding row's value is still returned; only its gradient is cut (as PyTorch).
    rows = where(flat.eq(paddingIdx).unsqueeze(1), rows.detach(), rows);
  }
  return rows.reshape([...input.shape, weight.shape[1]!]);
}

/**
 * One-hot encode integer class indices (`F.one_hot`): shape `[...x.shape, numClasses]`, int32.
 * With `numClasses` -1 (the default) it is `max(x) + 1`.
 * @example
 * F.oneHot(tg.tensor([0, 2], { dtype: 'int32' }), 3);   // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  if (x.dtype !== 'int32') throw new TypeError(`one_hot is only applicable to index tensor (int32), got ${x.dtype}\n- help: create it with { dtype: 'int32' }`);
  const values = x.dataSync();
  let max = -1;
  for (const v of values) {
    if (v < 0) throw new RangeError('Class values must be non-negative.');
    if (v > max) max = v;
  }
  let n = numClasses;
  if (n === -1) {
    if (values.length === 0) throw new RangeError('Can not infer total number of classes from empty tensor.');
    n = max + 1;
  } else if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`num_classes should be positive or -1, got ${n} (shape ${fmtShape(x.shape)})`);
  } else if (max >= n) {
    throw new RangeError('Class values must be smaller than num_classes.');
  }
  return x.unsqueeze(-1).eq(arange(n, { dtype: 'int32', device: x.device })).to('int32');
}
