/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD). */
import { sgdStepF32 } from '../tensor/backend/wasm/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative } from './check.js';
import { onDevice, sgdStepOnDevice } from './device-step.js';
import { readFloats, stateZeros, writeFloats, type FloatArray } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options of SGD (PyTorch's arguments in camelCase; see the defaults). */
export interface SGDOptions extends OptimizerOptions {
  /** Learning rate (default 1e-3, as PyTorch 2.x; 1.13 had no default). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening for momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false); needs momentum > 0 and zero dampening. */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/** PyTorch's defaults for SGD (`new optim.SGD(params, { ...overrides })` fills in the rest). */
export const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

/** SGD's per-parameter state (PyTorch's `optimizer.state[p]`), as `stateDict()` saves it. */
export interface SGDState {
  /** The momentum buffer; null until the first step with momentum (PyTorch's `momentum_buffer`). */
  momentumBuffer: Tensor | null;
}

function checkSGD(o: SGDOptions): SGDOptions {
  checkLr(o.lr);
  checkNonNegative('momentum', o.momentum);
  checkNonNegative('weight_decay', o.weightDecay);
  if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
  return o;
}

/**
 * One SGD step over flat arrays, in place (`_single_tensor_sgd`):
 * ```
 * g = ±grad + weightDecay·p
 * buf = first ? g : momentum·buf + (1 − dampening)·g      (first buffer: g itself, undampened)
 * g = nesterov ? g + momentum·buf : buf
 * p = p − lr·g
 * ```
 * `buf` is null without momentum; `first` marks a fresh buffer.
 * @example
 * const param = new Float64Array([1]);
 * const grad = new Float64Array([0.5]);
 * sgdUpdate(param, grad, null, false, { ...SGD_DEFAULTS, lr: 0.1 });
 */
export function sgdUpdate(param: FloatArray, grad: FloatArray, buf: FloatArray | null, first: boolean, o: SGDOptions): void {
  const { lr, momentum, dampening, weightDecay, nesterov, maximize } = o;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g = g + weightDecay * param[i]!;
    if (buf) {
      const b = first ? g : buf[i]! * momentum + (1 - dampening) * g;
      buf[i] = b;
      g = nesterov ? g + momentum * b : b;
    }
    param[i] = param[i]! + -lr * g;
  }
}

/**
 * Stochastic gradient descent, optionally with momentum (Sutskever et al., 2013) and Nesterov
 * momentum; follows torch.optim.SGD exactly (the first momentum buffer is the gradient itself).
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, { ...SGD_DEFAULTS, ...options });
  }

  protected override checkOptions(o: SGDOptions): SGDOptions {
    return checkSGD(o);
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: SGDState | undefined, o: ParamGroup<SGDOptions>): SGDState {
    if (onDevice(p, grad)) return sgdStepOnDevice(p, grad, s, o);
    const state = s ?? { momentumBuffer: null };
    const g = readFloats(grad);
    // float32: the fused SIMD kernel (float32 arithmetic, as PyTorch's float32 SGD); float64 keeps
    // the exact double-precision loop.
    const update = (param: FloatArray, buf: FloatArray | null, first: boolean) => {
      if (param instanceof Float32Array && g instanceof Float32Array && (buf === null || buf instanceof Float32Array)) {
        sgdStepF32(param, g, buf, { ...o, first });
      } else sgdUpdate(param, g, buf, first, o);
    };
    if (o.momentum === 0) {
      writeFloats([p], (param) => update(param, null, false));
      return state;
    }
    const first = state.momentumBuffer === null;
    const buffer = state.momentumBuffer ?? stateZeros(p);
    writeFloats([p, buffer], (param, buf) => update(param, buf, first));
    return { momentumBuffer: buffer };
  }
}
