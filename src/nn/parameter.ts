/**
 * `nn.Parameter`: a leaf tensor that requires grad and that a `Module` registers as a parameter
 * when it is assigned as an attribute. Parameters are ordinary `Tensor`s marked in a WeakSet, so
 * the Tensor class stays untouched and every tensor method works on them.
 */
import { Tensor } from '../tensor/tensor.js';

const parameters = new WeakSet<Tensor>();

/** True when `x` was created by `new nn.Parameter(...)`. */
export function isParameter(x: unknown): x is Tensor {
  return x instanceof Tensor && parameters.has(x);
}

/** Mark `t` (a leaf) as a parameter and return it. */
function markParameter(t: Tensor, requiresGrad: boolean): Tensor {
  t.requiresGrad_(requiresGrad);
  parameters.add(t);
  return t;
}

/** The constructor type of `nn.Parameter`: `new Parameter(data)` returns a `Tensor`. */
export interface ParameterConstructor {
  /**
   * A parameter sharing `data`'s storage, detached from any graph, with `requiresGrad` set
   * (default true), as `torch.nn.Parameter(data, requires_grad)`.
   */
  new (data: Tensor, requiresGrad?: boolean): Tensor;
  /** `x instanceof nn.Parameter` is true for tensors created by `new nn.Parameter(...)`. */
  [Symbol.hasInstance](x: unknown): boolean;
}

function ParameterImpl(data: Tensor, requiresGrad = true): Tensor {
  if (!(data instanceof Tensor)) throw new TypeError(`Parameter(): expected a Tensor as data, got ${typeof data}`);
  // NOTE: fromView shares the storage but starts a fresh leaf with no base, so the parameter
  // can be updated in place under noGrad (as torch's Parameter is a detached alias).
  return markParameter(Tensor.fromView(data), requiresGrad);
}
Object.defineProperty(ParameterImpl, Symbol.hasInstance, { value: isParameter });

/**
 * A tensor registered as a module parameter when assigned to a `Module` attribute
 * (`torch.nn.Parameter`). It shares storage with `data` and requires grad by default.
 * @example
 * class Scale extends nn.Module {
 *   w = new nn.Parameter(tg.ones([3]));
 *   override forward(x: Tensor) { return x.mul(this.w); }
 * }
 * new Scale().parameters().length;   // 1
 */
export const Parameter = ParameterImpl as unknown as ParameterConstructor;
