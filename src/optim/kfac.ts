/**
 * Natural-gradient optimizers for `nn.Linear` layers: K-FAC (Martens & Grosse, 2015) and a
 * diagonal empirical Fisher. Both read each layer's inputs and output gradients through a
 * forward hook and a tensor hook on the output, so the model needs no changes.
 */
import { enableGrad, isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { Linear } from '../nn/layers.js';
import type { AnyModule, RemovableHandle } from '../nn/module.js';
import { eye, ones, tensor } from '../tensor/creation.js';
import { cat } from '../tensor/functional.js';
import { keep, scope } from '../tensor/scope.js';
import { where, type Tensor } from '../tensor/tensor.js';
import { checkLr, checkNonNegative, pyNumber } from './check.js';
import { choleskyFactor, choleskyInverse } from './dense.js';
import { onDeviceParam, traceTensor } from './device-ops.js';
import { readFloats } from './flat.js';
import { matrixInversePthRoot } from './shampoo.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsArg } from './optimizer.js';

/** Options shared by K-FAC and the diagonal Fisher. */
export interface NaturalGradientOptions extends OptimizerOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** SGD momentum on the preconditioned gradient (default 0.9). */
  momentum: number;
  /** L2 weight decay added after preconditioning (default 0). */
  weightDecay: number;
  /** Tikhonov damping λ (default 1e-3). */
  damping: number;
  /** Decay ε of the running averages of the curvature statistics (default 0.95). */
  statDecay: number;
  /** Update the statistics every this many steps (default 1). */
  covUpdateFrequency: number;
  /** Maximize the objective (default false). */
  maximize: boolean;
}

/** Options of `KFAC` (defaults in `KFAC_DEFAULTS`). */
export interface KFACOptions extends NaturalGradientOptions {
  /** Recompute the damped factor inverses every this many steps (default 10). */
  invUpdateFrequency: number;
  /** Scale the step so that lr²·Σ vᵀg ≤ klClip (a trust region in KL); null for none (default 1e-3). */
  klClip: number | null;
}

/** Options of `DiagonalFisher` (those of every natural-gradient optimizer). */
export type DiagonalFisherOptions = NaturalGradientOptions;

const NATURAL_DEFAULTS: NaturalGradientOptions = {
  lr: 1e-2, momentum: 0.9, weightDecay: 0, damping: 1e-3, statDecay: 0.95, covUpdateFrequency: 1, maximize: false,
};
/** `KFAC`'s default options. */
export const KFAC_DEFAULTS: KFACOptions = { ...NATURAL_DEFAULTS, invUpdateFrequency: 10, klClip: 1e-3 };
/** `DiagonalFisher`'s default options. */
export const DIAGONAL_FISHER_DEFAULTS: DiagonalFisherOptions = { ...NATURAL_DEFAULTS };

/** Per-parameter state. A tracked layer's weight also holds its curvature statistics. */
export interface NaturalGradientState {
  step: number;
  momentumBuffer?: Tensor;
  /** K-FAC: E[a·aᵀ] over inputs (with a 1 appended for the bias). */
  factorA?: Tensor;
  /** K-FAC: N·E[g·gᵀ] over output gradients. */
  factorG?: Tensor;
  /** K-FAC: (A + π√λ·I)⁻¹. */
  inverseA?: Tensor;
  /** K-FAC: (G + √λ/π·I)⁻¹. */
  inverseG?: Tensor;
  /** Diagonal Fisher: the running average of the per-sample squared gradients of this parameter. */
  fisher?: Tensor;
}

/** Options of the constructors: the optimizer's, plus parameter groups (default: all model parameters). */
export type NaturalGradientArgs<O extends OptimizerOptions> = Partial<O> & { params?: ParamsArg<O> };

/** One forward pass through a layer: a summary of its inputs, then (after backward) its statistics. */
interface Capture {
  input: Tensor;
  stats: Tensor[] | null;
  rows: number;
}

/** The statistics of a layer summed over the forward/backward passes since the last step. */
export interface LayerStatistics {
  /** Per-optimizer sums (K-FAC: Σaaᵀ, Σggᵀ; diagonal Fisher: Σ(g²)ᵀ(a²), Σg²). */
  sums: Tensor[];
  /** N: the rows (samples) they cover. */
  rows: number;
}

function flattenRows(t: Tensor, width: number): Tensor {
  return t.detach().reshape([-1, width]);
}

/** Keep `next` as state and free the tensor it replaces (device memory would otherwise wait for the GC). */
function renew(old: Tensor | undefined, next: Tensor): Tensor {
  keep(next);
  if (old && old !== next) old.dispose();
  return next;
}

/** Running average (the estimate itself the first time), replacing `old`. */
function average(old: Tensor | undefined, estimate: Tensor, decay: number): Tensor {
  return renew(old, old ? old.mul(decay).add(estimate.mul(1 - decay)) : estimate.clone());
}

/** The shared machinery: hooks on Linear layers, the captures, momentum SGD on the result. */
abstract class NaturalGradient<O extends NaturalGradientOptions> extends Optimizer<O, NaturalGradientState> {
  /** The Linear layers whose weights this optimizer preconditions. */
  readonly layers: Linear[];
  private readonly captures = new Map<Linear, Capture[]>();
  private readonly handles: RemovableHandle[] = [];

  constructor(model: AnyModule, options: NaturalGradientArgs<O>, defaults: O) {
    const { params, ...rest } = options;
    super(params ?? model.parameters(), { ...defaults, ...rest } as O);
    const own = new Set(this.paramGroups.flatMap((g) => g.params));
    this.layers = model.modules().filter((m): m is Linear => m instanceof Linear && own.has(m.weight));
    for (const layer of this.layers) {
      const handle = layer.registerForwardHook((_m, [x], out) => {
        if (!isGradEnabled() || !out.requiresGrad) return;
        const a = flattenRows(x, layer.inFeatures);
        // NOTE: the summaries are computed and kept at once: the engine (and tg.scope) may free the
        // activations and gradients on a device as soon as the passes are done with them.
        const record: Capture = { input: keep(noGrad(() => this.inputSummary(layer, a))), stats: null, rows: a.shape[0]! };
        const list = this.captures.get(layer) ?? [];
        list.push(record);
        this.captures.set(layer, list);
        out.registerHook((g) => {
          record.stats = noGrad(() => this.outputStatistics(layer, record.input, flattenRows(g, layer.outFeatures))).map((t) => keep(t));
        });
      });
      this.handles.push(handle);
    }
  }

  /** Remove the forward hooks from the model (the optimizer then steps with plain gradients). */
  removeHooks(): void {
    for (const h of this.handles) h.remove();
    this.handles.length = 0;
  }

  protected override checkOptions(o: O): O {
    checkLr(o.lr);
    checkNonNegative('momentum', o.momentum);
    checkNonNegative('weight_decay', o.weightDecay);
    checkNonNegative('damping', o.damping);
    if (!(o.statDecay >= 0 && o.statDecay < 1)) throw new RangeError(`Invalid stat_decay value: ${pyNumber(o.statDecay)}`);
    if (!(Number.isInteger(o.covUpdateFrequency) && o.covUpdateFrequency >= 1)) throw new RangeError(`Invalid TCov value: ${pyNumber(o.covUpdateFrequency)}`);
    return o;
  }

  protected groupOf(p: Tensor): ParamGroup<O> {
    return this.paramGroups.find((g) => g.params.includes(p))!;
  }

  /** What to keep of a forward pass's inputs a (N×in) until its backward pass. */
  protected abstract inputSummary(layer: Linear, a: Tensor): Tensor;

  /** The statistics of one pass from its input summary and output gradients g (N×out). */
  protected abstract outputStatistics(layer: Linear, input: Tensor, g: Tensor): Tensor[];

  /** The statistics summed over the passes since the last step, or null when there were none. */
  protected takeCaptures(layer: Linear): LayerStatistics | null {
    const list = (this.captures.get(layer) ?? []).filter((c): c is Capture & { stats: Tensor[] } => c.stats !== null);
    if (list.length === 0) return null;
    const sums = list[0]!.stats.map((_, k) => list.slice(1).reduce((acc, c) => acc.add(c.stats[k]!), list[0]!.stats[k]!));
    return { sums, rows: list.reduce((n, c) => n + c.rows, 0) };
  }

  /**
   * Precondition the gradients of every tracked layer: a map from parameter to its natural
   * gradient (parameters left out step with their plain gradient).
   */
  protected abstract precondition(): Map<Tensor, Tensor>;

  protected override runStep<L>(closure?: () => L): L | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    // The scope frees this step's intermediates; the state tensors are kept.
    scope(() => noGrad(() => {
      const natural = this.precondition();
      this.clearCaptures();
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          const s = this.state.get(p) ?? { step: 0 };
          s.step += 1;
          let d = natural.get(p) ?? (group.maximize ? p.grad.neg() : p.grad);
          if (group.weightDecay !== 0) d = d.add(p.mul(group.weightDecay));
          if (group.momentum !== 0) {
            s.momentumBuffer = renew(s.momentumBuffer, s.momentumBuffer ? s.momentumBuffer.mul(group.momentum).add(d) : d.clone());
            d = s.momentumBuffer;
          }
          p.sub_(d.mul(group.lr));
          this.state.set(p, s);
        }
      }
    }));
    return loss;
  }

  /** Drop (and free) the statistics collected since the last step. */
  private clearCaptures(): void {
    for (const list of this.captures.values()) {
      for (const c of list) {
        c.input.dispose();
        c.stats?.forEach((t) => t.dispose());
      }
    }
    this.captures.clear();
  }

  /** The state of a tracked layer's weight (created on first use). */
  protected layerState(layer: Linear): NaturalGradientState {
    const s = this.state.get(layer.weight) ?? { step: 0 };
    this.state.set(layer.weight, s);
    return s;
  }

  /** The layer's gradients, sign-adjusted for `maximize`: [∇W, ∇b or null]. */
  protected layerGrads(layer: Linear, group: NaturalGradientOptions): [Tensor, Tensor | null] {
    const sign = group.maximize ? -1 : 1;
    const gw = layer.weight.grad!.mul(sign);
    const gb = layer.bias?.grad ? layer.bias.grad.mul(sign) : null;
    return [gw, gb];
  }
}

/** A symmetric matrix tensor's damped inverse, (M + shift·I)⁻¹, by Cholesky in float64. */
function dampedInverse(m: Tensor, shift: number): Tensor {
  const n = m.shape[0]!;
  const data = Float64Array.from(readFloats(m.contiguous()));
  const l = choleskyFactor(data, n, shift);
  if (!l) throw new Error('KFAC: a damped Kronecker factor is not positive definite; increase `damping`');
  return tensor(choleskyInverse(l, n), { dtype: m.dtype, device: m.device, shape: [n, n] });
}

/**
 * `dampedInverse` for a matrix off the CPU, with no readback: (M + shift·I)⁻¹ by Newton's
 * iteration (`matrixInversePthRoot` with p = 1, matmuls only), the shift a 0-d tensor. A factor
 * that is not positive definite gives a non-finite inverse instead of an error.
 */
function dampedInverseOnDevice(m: Tensor, shift: Tensor): Tensor {
  return scope(() => matrixInversePthRoot(m.add(eye(m.shape[0]!, { dtype: m.dtype, device: m.device }).mul(shift)), 1));
}

function trace(m: Tensor): number {
  const n = m.shape[0]!;
  const data = readFloats(m.contiguous());
  let t = 0;
  for (let i = 0; i < n; i++) t += data[i * n + i]!;
  return t;
}

/**
 * K-FAC (Martens & Grosse, "Optimizing Neural Networks with Kronecker-factored Approximate
 * Curvature", ICML 2015) for the `nn.Linear` layers of a model: each layer's Fisher block is
 * approximated by A ⊗ G, with A = E[a·aᵀ] over its inputs (a 1 appended for the bias) and
 * G = E[g·gᵀ] over the gradients at its outputs (×N, the loss being a batch mean), kept as
 * running averages. The natural gradient of the layer's [W | b] is then two small solves:
 * ```
 * π = √((tr A/dim A)/(tr G/dim G))       (factored Tikhonov damping, §6.3)
 * V = (G + √λ/π·I)⁻¹ · [∇W | ∇b] · (A + π√λ·I)⁻¹     (inverses by Cholesky, every invUpdateFrequency steps)
 * ν = min(1, √(klClip / (lr²·Σ_layers ⟨V, ∇⟩)));   then momentum SGD on ν·V (+ weight decay)
 * ```
 * Parameters outside Linear layers take plain momentum SGD steps. Statistics come from the
 * forward passes (with gradients enabled) and backward passes since the previous step. Off the
 * CPU nothing is read back: the inverses come from Newton's iteration (matmuls,
 * `matrixInversePthRoot` with p = 1) instead of Cholesky, and π, the shifts and ν are 0-d tensors.
 * @example
 * const opt = new optim.KFAC(model, { lr: 0.05, damping: 1e-2, invUpdateFrequency: 10 });
 * opt.zeroGrad(); F.crossEntropy(model.call(x), y).backward(); opt.step();
 */
export class KFAC extends NaturalGradient<KFACOptions> {
  constructor(model: AnyModule, options: NaturalGradientArgs<KFACOptions> = {}) {
    super(model, options, KFAC_DEFAULTS);
  }

  protected override checkOptions(o: KFACOptions): KFACOptions {
    super.checkOptions(o);
    if (!(Number.isInteger(o.invUpdateFrequency) && o.invUpdateFrequency >= 1)) throw new RangeError(`Invalid TInv value: ${pyNumber(o.invUpdateFrequency)}`);
    if (o.klClip !== null && !(o.klClip > 0)) throw new RangeError(`Invalid kl_clip value: ${pyNumber(o.klClip)}`);
    return o;
  }

  /** Σ a·aᵀ over the pass, with a column of ones for the bias. */
  protected inputSummary(layer: Linear, a: Tensor): Tensor {
    const n = a.shape[0]!;
    const a1 = layer.bias ? cat([a, ones([n, 1], { dtype: a.dtype, device: a.device })], 1) : a;
    return a1.t().matmul(a1);
  }

  /** [Σ a·aᵀ, Σ g·gᵀ]. */
  protected outputStatistics(_layer: Linear, input: Tensor, g: Tensor): Tensor[] {
    return [input, g.t().matmul(g)];
  }

  protected precondition(): Map<Tensor, Tensor> {
    const out = new Map<Tensor, Tensor>();
    let vg = 0;
    // Σ⟨V, ∇⟩ over the layers off the CPU, kept on their device.
    let vgOnDevice: Tensor | null = null;
    let klClip: number | null = null;
    let lr = 0;
    for (const layer of this.layers) {
      if (!layer.weight.grad) continue;
      const group = this.groupOf(layer.weight);
      const s = this.layerState(layer);
      const k = s.step;
      const seen = this.takeCaptures(layer);
      if (seen && k % group.covUpdateFrequency === 0) {
        const [aa, gg] = seen.sums as [Tensor, Tensor];
        s.factorA = average(s.factorA, aa.div(seen.rows), group.statDecay);
        s.factorG = average(s.factorG, gg.mul(seen.rows), group.statDecay);
      }
      if (!s.factorA || !s.factorG) continue;
      const onDevice = onDeviceParam(layer.weight);
      const refresh = !s.inverseA || !s.inverseG || k % group.invUpdateFrequency === 0;
      if (refresh && onDevice) {
        // π and the shifts stay 0-d tensors; the branches on their values are `where`s.
        const trG = traceTensor(s.factorG).div(s.factorG.shape[0]!);
        const ratio = traceTensor(s.factorA).div(s.factorA.shape[0]!).div(trG).sqrt();
        const pi = where(trG.gt(0), ratio, 1);
        const root = Math.sqrt(group.damping);
        s.inverseA = renew(s.inverseA, dampedInverseOnDevice(s.factorA, pi.mul(root)));
        s.inverseG = renew(s.inverseG, dampedInverseOnDevice(s.factorG, where(pi.gt(0), pi.rdiv(root), root)));
      } else if (refresh) {
        const trG = trace(s.factorG) / s.factorG.shape[0]!;
        const pi = trG > 0 ? Math.sqrt(trace(s.factorA) / s.factorA.shape[0]! / trG) : 1;
        const root = Math.sqrt(group.damping);
        s.inverseA = renew(s.inverseA, dampedInverse(s.factorA, pi * root));
        s.inverseG = renew(s.inverseG, dampedInverse(s.factorG, pi > 0 ? root / pi : root));
      }
      const [gw, gb] = this.layerGrads(layer, group);
      const grad = gb ? cat([gw, gb.unsqueeze(1)], 1) : gw;
      const v = s.inverseG!.matmul(grad).matmul(s.inverseA!);
      if (onDevice) vgOnDevice = vgOnDevice ? vgOnDevice.add(v.mul(grad).sum()) : v.mul(grad).sum();
      else vg += v.mul(grad).sum().item();
      klClip = group.klClip;
      lr = group.lr;
      out.set(layer.weight, gb ? v.narrow(1, 0, layer.inFeatures) : v);
      if (gb && layer.bias) out.set(layer.bias, v.select(1, layer.inFeatures));
    }
    if (klClip !== null && vgOnDevice) {
      // ν = min(1, √(klClip/(lr²·Σ⟨V, ∇⟩))), 1 when the sum is not positive, as a 0-d tensor
      // (the CPU layers' share added in; a model on one device has none).
      const total = vgOnDevice.add(vg);
      const nu = where(total.gt(0), total.mul(lr * lr).rdiv(klClip).sqrt().clamp(null, 1), 1);
      for (const [p, v] of out) out.set(p, v.mul(v.device === nu.device ? nu : nu.to(v.device)));
    } else if (klClip !== null && vg > 0) {
      const nu = Math.min(1, Math.sqrt(klClip / (vg * lr * lr)));
      if (nu < 1) for (const [p, v] of out) out.set(p, v.mul(nu));
    }
    return out;
  }
}

/**
 * Natural gradient with the diagonal of the empirical Fisher of the `nn.Linear` layers:
 * F = mean over samples of (per-sample gradient)², computed from the hooks without per-sample
 * backward passes (for a Linear layer the per-sample gradient is N·g_i·a_iᵀ, so
 * F_W = N·(g²)ᵀ·(a²) and F_b = N·Σ g_i²), kept as a running average:
 * ```
 * v = ∇ / (F + λ);   then momentum SGD on v (+ weight decay)
 * ```
 * Parameters outside Linear layers take plain momentum SGD steps. Every step is tensor ops, so
 * on any device it reads nothing back.
 * @example
 * const opt = new optim.DiagonalFisher(model, { lr: 1e-3, damping: 1e-4 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class DiagonalFisher extends NaturalGradient<DiagonalFisherOptions> {
  constructor(model: AnyModule, options: NaturalGradientArgs<DiagonalFisherOptions> = {}) {
    super(model, options, DIAGONAL_FISHER_DEFAULTS);
  }

  /** a² (elementwise), kept until the backward pass. */
  protected inputSummary(_layer: Linear, a: Tensor): Tensor {
    return a.square();
  }

  /** [Σ (g²)ᵀ·(a²), Σ g²]: N⁻¹·(sum of the squared per-sample gradients), before the ×N. */
  protected outputStatistics(_layer: Linear, a2: Tensor, g: Tensor): Tensor[] {
    const g2 = g.square();
    return [g2.t().matmul(a2), g2.sum(0)];
  }

  protected precondition(): Map<Tensor, Tensor> {
    const out = new Map<Tensor, Tensor>();
    for (const layer of this.layers) {
      if (!layer.weight.grad) continue;
      const group = this.groupOf(layer.weight);
      const s = this.layerState(layer);
      const seen = this.takeCaptures(layer);
      const biasState = layer.bias ? (this.state.get(layer.bias) ?? { step: 0 }) : null;
      if (seen && s.step % group.covUpdateFrequency === 0) {
        const [sumW, sumB] = seen.sums as [Tensor, Tensor];
        s.fisher = average(s.fisher, sumW.mul(seen.rows), group.statDecay);
        if (biasState && layer.bias) {
          biasState.fisher = average(biasState.fisher, sumB.mul(seen.rows), group.statDecay);
          this.state.set(layer.bias, biasState);
        }
      }
      const [gw, gb] = this.layerGrads(layer, group);
      if (s.fisher) out.set(layer.weight, gw.div(s.fisher.add(group.damping)));
      if (gb && layer.bias && biasState?.fisher) out.set(layer.bias, gb.div(biasState.fisher.add(group.damping)));
    }
    return out;
  }
}
