/** Muon: momentum orthogonalised by Newton-Schulz, for 2-D parameters (Jordan et al., 2024; torch.optim.Muon). */
import { noGrad } from '../autograd/grad-mode.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { checkEps, checkLr, pyNumber } from './check.js';
import { deviceUpdate, onDeviceParam } from './device-ops.js';
import { readFloats, stateZeros, writeFloats } from './flat.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamGroupInput, type ParamsArg } from './optimizer.js';

/** How the step size is scaled by the matrix shape [A, B]. */
export type MuonAdjustLr = 'original' | 'match_rms_adamw';

/** Options of `Muon` (defaults in `MUON_DEFAULTS`). */
export interface MuonOptions extends OptimizerOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decoupled weight decay: `p ← p·(1 − lr·λ)` (default 0.1, as PyTorch). */
  weightDecay: number;
  /** Momentum μ (default 0.95). */
  momentum: number;
  /** Nesterov momentum (default true). */
  nesterov: boolean;
  /** Coefficients (a, b, c) of the quintic Newton-Schulz iteration (default [3.4445, -4.775, 2.0315]). */
  nsCoefficients: readonly [number, number, number];
  /** Floor of the norm the update is divided by before the iteration (default 1e-7). */
  eps: number;
  /** Newton-Schulz iterations (default 5). */
  nsSteps: number;
  /**
   * Step scaling by shape [A, B]: 'original' (Keller Jordan's √max(1, A/B), the default; null
   * means the same) or 'match_rms_adamw' (Moonshot's 0.2·√max(A, B), to reuse AdamW's lr).
   */
  adjustLrFn: MuonAdjustLr | null;
  /** Maximize the objective (default false; PyTorch's Muon has no such option). */
  maximize: boolean;
}

/** `Muon`'s default options. */
export const MUON_DEFAULTS: MuonOptions = {
  lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: [3.4445, -4.775, 2.0315], eps: 1e-7, nsSteps: 5,
  adjustLrFn: null, maximize: false,
};

/** Per-parameter state of `Muon`. */
export interface MuonState {
  momentumBuffer: Tensor;
}

/**
 * The quintic Newton-Schulz iteration that maps G = U·S·Vᵀ to roughly U·Vᵀ (singular values
 * pushed into about [0.7, 1.2]), with matmuls only, so it runs on every device:
 * ```
 * X = G/max(‖G‖_F, eps)   (transposed when G is tall, so X·Xᵀ is the small Gram matrix)
 * repeat k times:  A = X·Xᵀ;  X = a·X + (b·A + c·A·A)·X
 * ```
 * PyTorch runs it in bfloat16; here it runs in the tensor's dtype.
 * @example
 * const O = optim.zeropowerViaNewtonSchulz(tg.randn([4, 3]));   // nearly orthonormal columns
 */
export function zeropowerViaNewtonSchulz(g: Tensor, coefficients: readonly [number, number, number] = MUON_DEFAULTS.nsCoefficients, steps = 5, eps = 1e-7): Tensor {
  if (g.dim() !== 2) throw new RangeError('Input tensor gradient must be a 2D matrix');
  if (steps >= 100) throw new RangeError('Number of steps must be less than 100 for computational efficiency');
  const [a, b, c] = coefficients;
  return scope(() => noGrad(() => {
    const tall = g.shape[0]! > g.shape[1]!;
    let x = tall ? g.t() : g;
    // max(‖X‖_F, eps) as a 0-d tensor: nothing is read back from a device.
    x = x.div(x.norm().clamp(eps));
    for (let k = 0; k < steps; k++) {
      const gram = x.matmul(x.t());
      const poly = gram.mul(b).add(gram.matmul(gram).mul(c));
      x = x.mul(a).add(poly.matmul(x));
    }
    return tall ? x.t().contiguous() : x;
  }));
}

/** The step size for a matrix of shape [A, B] (`_adjust_lr`). * @example
 * optim.muonAdjustedLr(0.02, null, [1024, 256]);               // 0.02·√4 = 0.04
 * optim.muonAdjustedLr(3e-4, 'match_rms_adamw', [1024, 256]);  // 3e-4·0.2·√1024
 */
export function muonAdjustedLr(lr: number, adjust: MuonAdjustLr | null, shape: readonly number[]): number {
  const [rows, cols] = shape as [number, number];
  if (adjust === 'match_rms_adamw') return lr * 0.2 * Math.sqrt(Math.max(rows, cols));
  return lr * Math.sqrt(Math.max(1, rows / cols));
}

/**
 * Muon's step with tensor ops, for a parameter off the CPU: the momentum buffer and the
 * parameter are updated in place where they live, and the Newton-Schulz iteration runs there
 * too (nothing is read back).
 */
function muonStepTensors(p: Tensor, grad: Tensor, buf: Tensor, o: MuonOptions): void {
  const mu = o.momentum;
  deviceUpdate(() => {
    const g = o.maximize ? grad.neg() : grad;
    // buf = lerp(buf, g, 1 − μ);  update = nesterov ? lerp(g, buf, μ) : buf
    buf.copy_(buf.add(g.sub(buf).mul(1 - mu)));
    const update = o.nesterov ? g.add(buf.sub(g).mul(mu)) : buf;
    const ortho = zeropowerViaNewtonSchulz(update, o.nsCoefficients, o.nsSteps, o.eps);
    const stepSize = muonAdjustedLr(o.lr, o.adjustLrFn, p.shape);
    p.copy_(p.mul(1 - o.lr * o.weightDecay).sub(ortho.mul(stepSize)));
  });
}

/**
 * Muon (Keller Jordan et al., "Muon: An optimizer for hidden layers in neural networks", 2024;
 * Liu et al., "Muon is Scalable for LLM Training", 2025), following torch.optim.Muon
 * (PyTorch 2.9): SGD momentum (EMA form, Nesterov by default) whose update matrix is replaced
 * by its orthogonalisation (`zeropowerViaNewtonSchulz`), then scaled by the shape. A parameter
 * off the CPU is updated with tensor ops where it lives, reading nothing back.
 *
 * Muon is for the 2-D weights of hidden layers only. Train everything else (biases, norms,
 * embeddings, the output layer) with AdamW in a second optimizer, stepping both:
 * ```ts
 * const hidden = model.parameters().filter((p) => p.dim() === 2 && p !== head.weight);
 * const rest = model.parameters().filter((p) => !hidden.includes(p));
 * const muon = new optim.Muon(hidden, { lr: 0.02, weightDecay: 0.01 });
 * const adamw = new optim.AdamW(rest, { lr: 3e-4, weightDecay: 0.01 });
 * muon.zeroGrad(); adamw.zeroGrad(); loss.backward(); muon.step(); adamw.step();
 * ```
 * (With `adjustLrFn: 'match_rms_adamw'` both can share the AdamW learning rate.)
 * @example
 * const opt = new optim.Muon([fc1.weight, fc2.weight], { lr: 0.02 });
 */
export class Muon extends Optimizer<MuonOptions, MuonState> {
  constructor(params: ParamsArg<MuonOptions>, options: Partial<MuonOptions> = {}) {
    super(params, { ...MUON_DEFAULTS, ...options });
  }

  protected override checkOptions(o: MuonOptions): MuonOptions {
    checkLr(o.lr);
    if (!(o.momentum >= 0)) throw new RangeError(`momentum should be >= 0 but is: ${pyNumber(o.momentum)}`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`weight decay should be >= 0 but is: ${pyNumber(o.weightDecay)}`);
    if (o.adjustLrFn !== null && o.adjustLrFn !== 'original' && o.adjustLrFn !== 'match_rms_adamw') {
      throw new RangeError(`Adjust learning rate function ${String(o.adjustLrFn)} is not supported`);
    }
    checkEps(o.eps);
    return o;
  }

  override addParamGroup(group: ParamGroupInput<MuonOptions>): void {
    super.addParamGroup(group);
    for (const p of this.paramGroups[this.paramGroups.length - 1]!.params) {
      if (p.dim() !== 2) {
        this.paramGroups.pop();
        throw new RangeError(`Muon only supports 2D parameters whereas we found a parameter with size: ${fmtShape(p.shape)}`);
      }
    }
  }

  protected override updateParam(p: Tensor, grad: Tensor, s: MuonState | undefined, o: ParamGroup<MuonOptions>): MuonState {
    const state = s ?? { momentumBuffer: stateZeros(p) };
    if (onDeviceParam(p)) {
      muonStepTensors(p, grad, state.momentumBuffer, o);
      return state;
    }
    const mu = o.momentum;
    const g = readFloats(grad);
    const sign = o.maximize ? -1 : 1;
    const update = new Float64Array(g.length);
    // buf = lerp(buf, g, 1 − μ);  update = nesterov ? lerp(g, buf, μ) : buf
    writeFloats([state.momentumBuffer], (buf) => {
      for (let i = 0; i < buf.length; i++) {
        const gi = sign * g[i]!;
        const b = buf[i]! + (1 - mu) * (gi - buf[i]!);
        buf[i] = b;
        update[i] = o.nesterov ? gi + mu * (b - gi) : b;
      }
    });
    const input = tensor(update, { dtype: p.dtype, device: p.device, shape: p.shape });
    const ortho = zeropowerViaNewtonSchulz(input, o.nsCoefficients, o.nsSteps, o.eps);
    const o2 = readFloats(ortho);
    input.dispose();
    ortho.dispose();
    const stepSize = muonAdjustedLr(o.lr, o.adjustLrFn, p.shape);
    const decay = 1 - o.lr * o.weightDecay;
    writeFloats([p], (param) => {
      for (let i = 0; i < param.length; i++) param[i] = param[i]! * decay - stepSize * o2[i]!;
    });
    return state;
  }
}
