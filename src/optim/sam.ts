/** Sharpness-Aware Minimization around any optimizer (Foret et al., 2021), with ASAM (Kwon et al., 2021). */
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import { keep } from '../tensor/scope.js';
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
 * for loops that compute the two gradients themselves.
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

  /** ‖T·g‖ over every parameter with a gradient (T = |w| in adaptive groups). */
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

  /** Move to the worst point of the ρ-ball (first half of a step); needs gradients at w. */
  firstStep(): void {
    noGrad(() => {
      const norm = this.gradNorm();
      for (const group of this.paramGroups) {
        const maximize = (group as ParamGroup<SAMOptions> & { maximize?: unknown }).maximize === true;
        const scale = ((maximize ? -1 : 1) * group.rho) / (norm + 1e-12);
        for (const p of group.params) {
          if (!p.grad) continue;
          const g = readFloats(p.grad);
          this.state.set(p, { oldParam: keep(p.detach().clone()) });
          writeFloats([p], (w) => {
            for (let i = 0; i < w.length; i++) w[i] = w[i]! + (group.adaptive ? w[i]! * w[i]! : 1) * g[i]! * scale;
          });
        }
      }
    });
  }

  /** Restore the weights and let the base optimizer step with the current (perturbed-point) gradients. */
  secondStep(): void {
    noGrad(() => {
      for (const [p, s] of this.state) {
        const old = readFloats(s.oldParam);
        writeFloats([p], (w) => w.set(old));
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
