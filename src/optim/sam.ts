/** Sharpness-Aware Minimization around any optimizer (Foret et al., 2021), with ASAM (Kwon et al., 2021). */
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/backend/backend.js';
import { zeros } from '../tensor/creation.js';
import { keep, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { pyNumber } from './check.js';
import { readFloats, writeFloats } from './flat.js';
import type { Optimizer, OptimizerOptions, OptimizerStateDict, ParamGroup } from './optimizer.js';
import type { StateValue } from './state.js';
import { OptimizerWrapper } from './wrapper.js';

/** Options of `SAM` (defaults in `SAM_DEFAULTS`). */
export interface SAMOptions extends OptimizerOptions {
  /** The base optimizer's learning rate (shared groups; SAM does not use it itself). */
  lr: number;
  /** Radius ρ of the neighbourhood (default 0.05; ASAM usually wants ~10x larger, e.g. 0.5 or 2). */
  rho: number;
  /** ASAM: scale the perturbation elementwise by |w| (scale-invariant sharpness) (default false). */
  adaptive: boolean;
}

/** `SAM`'s default options. */
export const SAM_DEFAULTS: Omit<SAMOptions, 'lr'> = { rho: 0.05, adaptive: false };

/** Between the two halves of a step: the weights before the perturbation. */
export interface SAMState {
  oldParam: Tensor;
}

/**
 * Sharpness-Aware Minimization (Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-Aware
 * Minimization for Efficiently Improving Generalization", ICLR 2021), wrapping any optimizer,
 * with `adaptive: true` for ASAM (Kwon et al., ICML 2021). `step(closure)`:
 * ```
 * loss, g = closure()                                  (at w)
 * e = ρ·T²g / ‖T·g‖   with T = |w| (ASAM) or 1 (SAM), the norm over all parameters
 * w ← w + e;  g_SAM = closure() gradient;  w ← w − e (restored exactly)
 * base.step()  with g_SAM
 * ```
 * The closure must zero the gradients, compute the loss and call `backward()`; it runs twice
 * per step. The groups are the base's (schedulers may drive either optimizer); with a base that
 * maximizes, the perturbation goes downhill instead. `firstStep()`/`secondStep()` are public
 * for loops that compute the two gradients themselves. Parameters off the CPU are perturbed
 * and restored with tensor ops in place, the norm kept a 0-d tensor (nothing is read back).
 * @example
 * const sam = new optim.SAM(new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), { rho: 0.05 });
 * sam.step(() => { sam.zeroGrad(); const loss = lossFn(model.call(x), y); loss.backward(); return loss; });
 */
export class SAM extends OptimizerWrapper<SAMOptions, SAMState> {
  constructor(base: Optimizer<OptimizerOptions, unknown>, options: Partial<Omit<SAMOptions, 'lr'>> = {}) {
    super(base, { ...SAM_DEFAULTS, ...options });
  }

  protected override checkOptions(o: SAMOptions): SAMOptions {
    if (!(o.rho >= 0)) throw new RangeError(`Invalid rho, should be non-negative: ${pyNumber(o.rho)}`);
    return o;
  }

  /**
   * ‖T·g‖ over every parameter with a gradient (T = |w| in adaptive groups), as a number: reads
   * gradients on another device back (the step itself uses `gradNormTensor`, which does not).
   */
  gradNorm(): number {
    let sq = 0;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        const g = readFloats(p.grad);
        const w = group.adaptive ? readFloats(p) : null;
        for (let i = 0; i < g.length; i++) {
          const v = w ? Math.abs(w[i]!) * g[i]! : g[i]!;
          sq += v * v;
        }
      }
    }
    return Math.sqrt(sq);
  }

  /**
   * ‖T·g‖ as a 0-d tensor on `device`, computed with tensor ops where each gradient lives
   * (each parameter's share moved to `device`): nothing is read back.
   */
  gradNormTensor(device: Device): Tensor {
    let sq: Tensor | null = null;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        const v = group.adaptive ? p.abs().mul(p.grad) : p.grad;
        const part = v.square().sum().to(device);
        sq = sq ? sq.add(part) : part;
      }
    }
    return (sq ?? zeros([], { device })).sqrt();
  }

  /** Move to the worst point of the ρ-ball (first half of a step); needs gradients at w. */
  firstStep(): void {
    const device = this.paramGroups.flatMap((g) => g.params).find((p) => p.grad && p.device !== 'cpu')?.device;
    if (device !== undefined) {
      noGrad(() => scope(() => this.firstStepTensors(device)));
      return;
    }
    noGrad(() => {
      const norm = this.gradNorm();
      for (const group of this.paramGroups) {
        const maximize = (group as ParamGroup<SAMOptions> & { maximize?: unknown }).maximize === true;
        const scale = ((maximize ? -1 : 1) * group.rho) / (norm + 1e-12);
        for (const p of group.params) {
          if (!p.grad) continue;
          const g = readFloats(p.grad);
          this.state.set(p, { oldParam: keep(p.clone()) });
          writeFloats([p], (w) => {
            for (let i = 0; i < w.length; i++) w[i] = w[i]! + (group.adaptive ? w[i]! * w[i]! : 1) * g[i]! * scale;
          });
        }
      }
    });
  }

  /**
   * `firstStep` with tensor ops, for parameters on the gpu device: the norm and the scale
   * ±ρ/(‖T·g‖ + 1e-12) stay 0-d tensors on `device` (CPU parameters beside them read it back).
   */
  private firstStepTensors(device: Device): void {
    const inv = this.gradNormTensor(device).add(1e-12).reciprocal();
    for (const group of this.paramGroups) {
      const maximize = (group as ParamGroup<SAMOptions> & { maximize?: unknown }).maximize === true;
      const scale = inv.mul((maximize ? -1 : 1) * group.rho);
      for (const p of group.params) {
        if (!p.grad) continue;
        this.state.set(p, { oldParam: keep(p.clone()) });
        const e = group.adaptive ? p.mul(p).mul(p.grad) : p.grad;
        p.add_(e.mul(scale.to(p.device)));
      }
    }
  }

  /** Restore the weights and let the base optimizer step with the current (perturbed-point) gradients. */
  secondStep(): void {
    noGrad(() => {
      for (const [p, s] of this.state) {
        if (p.device !== 'cpu' || s.oldParam.device !== 'cpu') {
          scope(() => void p.copy_(s.oldParam));
        } else {
          const old = readFloats(s.oldParam);
          writeFloats([p], (w) => w.set(old));
        }
        s.oldParam.dispose();
      }
    });
    this.state.clear();
    this.base.step();
  }

  protected override runStep<L>(closure?: () => L): L | undefined {
    if (!closure) throw new Error('Sharpness Aware Minimization requires closure, but it was not provided');
    const loss = enableGrad(closure);
    this.firstStep();
    enableGrad(closure);
    this.secondStep();
    return loss;
  }

  /** The base optimizer's state dict (its groups carry `rho` and `adaptive`; SAM keeps nothing between steps). */
  override stateDict(): OptimizerStateDict {
    return this.base.stateDict();
  }

  /** Load a state dict from `stateDict()` into the base optimizer. */
  override loadStateDict(stateDict: OptimizerStateDict | StateValue): void {
    this.base.loadStateDict(stateDict);
  }
}
