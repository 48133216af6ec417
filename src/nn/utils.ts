/**
 * Gradient clipping and parameter/vector conversion (torch.nn.utils: clip_grad_norm_,
 * clip_grad_value_, parameters_to_vector, vector_to_parameters).
 */
import { noGrad } from '../autograd/grad-mode.js';
import { cat } from '../tensor/functional.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { pyNumber } from '../optim/check.js';
import { readFloats, writeFloats, type FloatArray } from '../optim/flat.js';

/** One tensor or several (PyTorch's `_tensor_or_tensors`). */
export type TensorOrTensors = Tensor | Iterable<Tensor>;

export interface ClipGradNormOptions {
  /** The p of the p-norm: 2 (default), 1, Infinity, or any p (`norm_type`). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

function asList(params: TensorOrTensors): Tensor[] {
  return params instanceof Tensor ? [params] : [...params];
}

/** The p-norm of `values` as torch.norm computes it (0: count of non-zeros, ±inf: max/min |x|). */
function pNorm(values: ArrayLike<number>, p: number): number {
  if (p === Infinity || p === -Infinity) {
    let m = p === Infinity ? -Infinity : Infinity;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (Number.isNaN(a)) return NaN;
      m = p === Infinity ? Math.max(m, a) : Math.min(m, a);
    }
    return values.length === 0 ? (p === Infinity ? 0 : Infinity) : m;
  }
  let s = 0;
  if (p === 0) {
    for (let i = 0; i < values.length; i++) s += values[i] !== 0 ? 1 : 0;
    return s;
  }
  if (p === 1) {
    for (let i = 0; i < values.length; i++) s += Math.abs(values[i]!);
    return s;
  }
  if (p === 2) {
    for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
    return Math.sqrt(s);
  }
  for (let i = 0; i < values.length; i++) s += Math.abs(values[i]!) ** p;
  return s ** (1 / p);
}

/** Python's `str(float(x))`: `2.0`, `inf`, `0.5`. */
function pyFloat(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? x.toFixed(1) : pyNumber(x);
}

/**
 * Scale the gradients of `params` in place so their global p-norm (over all gradients together)
 * is at most `maxNorm` (`clip_grad_norm_`). The scale is `maxNorm / (total + 1e-6)`, clamped to
 * 1, so gradients already within the bound are left alone. Returns the total norm before
 * clipping, as a 0-d tensor.
 * @example
 * loss.backward();
 * const total = nn.utils.clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm(params: TensorOrTensors, maxNorm: number, opts: ClipGradNormOptions = {}): Tensor {
  const normType = opts.normType ?? 2;
  const grads = asList(params).flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return tensor(0);
  if (grads.some((g) => g.device !== 'cpu')) return clipOnDevice(grads, maxNorm, normType, opts.errorIfNonfinite ?? false);
  const dtype = grads[0]!.dtype;
  const norms = grads.map((g) => pNorm(readFloats(g), normType));
  // NOTE: as PyTorch, the total is the norm of the per-tensor norms (their max for inf).
  const total = pNorm(norms, normType);
  const totalNorm = tensor([total], { dtype, shape: [] });
  const totalValue = totalNorm.item(); // rounded to the gradients' dtype, as PyTorch's tensor
  if (opts.errorIfNonfinite && !Number.isFinite(totalValue)) {
    throw new Error(`The total norm of order ${pyFloat(normType)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite: false\``);
  }
  const coef = maxNorm / (totalValue + 1e-6);
  const clamped = coef > 1 ? 1 : coef; // torch.clamp(max=1): NaN stays NaN
  for (const g of grads) {
    writeFloats([g], (a: FloatArray) => {
      for (let i = 0; i < a.length; i++) a[i] = a[i]! * clamped;
    });
  }
  return totalNorm;
}

/**
 * `clipGradNorm` for gradients off the CPU, as PyTorch's foreach path: the norms, the total and
 * the clip coefficient are 0-d device tensors and every gradient is scaled in place, so nothing
 * is read back (unless `errorIfNonfinite`, which must look at the total, as in PyTorch).
 */
function clipOnDevice(grads: readonly Tensor[], maxNorm: number, normType: number, errorIfNonfinite: boolean): Tensor {
  const total = scope(() =>
    noGrad(() => {
      const norms = grads.map((g) => g.norm(normType).reshape([1]));
      return cat(norms).norm(normType);
    }),
  );
  if (errorIfNonfinite && !Number.isFinite(total.item())) {
    throw new Error(`The total norm of order ${pyFloat(normType)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite: false\``);
  }
  scope(() =>
    noGrad(() => {
      const coef = total.add(1e-6).rdiv(maxNorm).clamp(null, 1);
      for (const g of grads) g.mul_(coef);
    }),
  );
  return total;
}

/**
 * Clamp every gradient of `params` to `[-clipValue, clipValue]` in place (`clip_grad_value_`).
 * @example
 * loss.backward();
 * nn.utils.clipGradValue(model.parameters(), 0.5);
 */
export function clipGradValue(params: TensorOrTensors, clipValue: number): void {
  for (const p of asList(params)) {
    if (!p.grad) continue;
    if (p.grad.device !== 'cpu') {
      noGrad(() => p.grad!.clamp_(-clipValue, clipValue));
      continue;
    }
    writeFloats([p.grad], (a: FloatArray) => {
      for (let i = 0; i < a.length; i++) {
        const v = a[i]!;
        // clamp_(min, max) = min(max(v, −c), c), with NaN kept
        a[i] = Number.isNaN(v) ? v : Math.min(Math.max(v, -clipValue), clipValue);
      }
    });
  }
}

/**
 * Alias of `clipGradNorm`, under PyTorch's in-place name (`clip_grad_norm_`).
 * @example
 * nn.utils.clipGradNorm_(model.parameters(), 1.0);
 */
export const clipGradNorm_ = clipGradNorm;

/**
 * Alias of `clipGradValue`, under PyTorch's in-place name (`clip_grad_value_`).
 * @example
 * nn.utils.clipGradValue_(model.parameters(), 0.5);
 */
export const clipGradValue_ = clipGradValue;

function checkSameDevice(params: readonly Tensor[]): void {
  const first = params[0];
  if (first && params.some((p) => p.device !== first.device)) {
    throw new TypeError('Found two parameters on different devices, this is currently not supported.');
  }
}

/**
 * Flatten and concatenate `params` into one vector (`parameters_to_vector`); the result is
 * differentiable with respect to the parameters.
 * @example
 * const flat = nn.utils.parametersToVector(model.parameters());   // shape [numel]
 */
export function parametersToVector(params: Iterable<Tensor>): Tensor {
  const list = [...params];
  checkSameDevice(list);
  return cat(list.map((p) => p.reshape(-1)));
}

/**
 * Copy consecutive slices of the 1-D `vec` into `params`, in place (`vector_to_parameters`).
 * NOTE: PyTorch rebinds each `param.data` to a view of `vec`; here the values are copied (cast
 * to each parameter's dtype), so the parameters keep their own storage and dtype.
 * @example
 * nn.utils.vectorToParameters(flat.mul(0.5), model.parameters());
 */
export function vectorToParameters(vec: Tensor, params: Iterable<Tensor>): void {
  if (!(vec instanceof Tensor)) throw new TypeError(`expected torch.Tensor, but got: ${Array.isArray(vec) ? 'list' : typeof vec}`);
  const list = [...params];
  checkSameDevice(list);
  const total = list.reduce((n, p) => n + p.numel(), 0);
  if (vec.numel() < total) {
    throw new RangeError(`shape '[${list.map((p) => p.numel()).join(', ')}]' is invalid for input of size ${vec.numel()}`);
  }
  let pointer = 0;
  noGrad(() => {
    for (const p of list) {
      const n = p.numel();
      p.copy_(vec.reshape(-1).narrow(0, pointer, n).reshape(p.shape));
      pointer += n;
    }
  });
}
