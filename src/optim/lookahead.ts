/** Lookahead around any optimizer (Zhang, Lucas, Hinton & Ba, 2019, arXiv:1907.08610). */
import { noGrad } from '../autograd/grad-mode.js';
import { keep, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { pyNumber } from './check.js';
import { readFloats, writeFloats } from './flat.js';
import type { Optimizer, OptimizerOptions, OptimizerStateDict } from './optimizer.js';
import type { StateRecord, StateValue } from './state.js';
import { OptimizerWrapper } from './wrapper.js';

/** Options of `Lookahead` (defaults in `LOOKAHEAD_DEFAULTS`). */
export interface LookaheadOptions extends OptimizerOptions {
  /** The base optimizer's learning rate (shared groups). */
  lr: number;
  /** Inner (fast) steps per synchronisation (default 5). */
  k: number;
  /** Slow-weights step size α (default 0.5). */
  alpha: number;
}

/** `Lookahead`'s default options. */
export const LOOKAHEAD_DEFAULTS: Omit<LookaheadOptions, 'lr'> = { k: 5, alpha: 0.5 };

/** Per-parameter state of `Lookahead`. */
export interface LookaheadState {
  /** The slow weights φ. */
  slowParam: Tensor;
  /** Fast steps taken. */
  step: number;
}

/** `stateDict()` of Lookahead: the base's dict plus the slow weights, by parameter index. */
export interface LookaheadStateDict extends OptimizerStateDict {
  lookaheadState: Record<string, StateRecord>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Lookahead (Zhang et al., "Lookahead Optimizer: k steps forward, 1 step back", NeurIPS 2019):
 * the base optimizer takes k fast steps from the slow weights, then the slow weights move a
 * fraction α towards where the fast weights ended and the fast weights restart from there:
 * ```
 * θ ← base step (k times);   φ ← φ + α·(θ − φ);   θ ← φ
 * ```
 * The slow weights start at the weights of the first step. Groups are the base's (so
 * schedulers may drive either optimizer), and `k`/`alpha` may differ per group. Off the CPU the
 * synchronisation runs as tensor ops in place.
 * @example
 * const opt = new optim.Lookahead(new optim.Adam(model.parameters(), { lr: 1e-3 }), { k: 5, alpha: 0.5 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Lookahead extends OptimizerWrapper<LookaheadOptions, LookaheadState> {
  constructor(base: Optimizer<OptimizerOptions, unknown>, options: Partial<Omit<LookaheadOptions, 'lr'>> = {}) {
    super(base, { ...LOOKAHEAD_DEFAULTS, ...options });
  }

  protected override checkOptions(o: LookaheadOptions): LookaheadOptions {
    if (!(o.alpha >= 0 && o.alpha <= 1)) throw new RangeError(`Invalid slow update rate: ${pyNumber(o.alpha)}`);
    if (!(Number.isInteger(o.k) && o.k >= 1)) throw new RangeError(`Invalid lookahead steps: ${pyNumber(o.k)}`);
    return o;
  }

  protected override runStep<L>(closure?: () => L): L | undefined {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) if (!this.state.has(p)) this.state.set(p, { slowParam: keep(p.clone()), step: 0 });
      }
    });
    const loss = this.base.step(closure);
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const s = this.state.get(p)!;
          s.step += 1;
          if (s.step % group.k !== 0) continue;
          if (p.device !== 'cpu' || s.slowParam.device !== 'cpu') {
            // On the device: the same update as tensor ops, in place (nothing read back).
            scope(() => void p.copy_(s.slowParam.lerp_(p, group.alpha)));
            continue;
          }
          const fast = readFloats(p);
          writeFloats([s.slowParam], (slow) => {
            for (let i = 0; i < slow.length; i++) slow[i] = slow[i]! + group.alpha * (fast[i]! - slow[i]!);
          });
          const slow = readFloats(s.slowParam);
          writeFloats([p], (w) => w.set(slow));
        }
      }
    });
    return loss;
  }

  /** The base optimizer's state dict plus `lookaheadState` (slow weights and step counts). */
  override stateDict(): LookaheadStateDict {
    const own = super.stateDict();
    return { ...this.base.stateDict(), lookaheadState: own.state };
  }

  /** Load a state dict from `stateDict()`: the base's part into the base, the slow weights here. */
  override loadStateDict(stateDict: LookaheadStateDict | OptimizerStateDict | StateValue): void {
    if (!isRecord(stateDict) || !isRecord((stateDict as Record<string, unknown>)['lookaheadState'])) {
      throw new TypeError('Lookahead.loadStateDict expects the object returned by Lookahead.stateDict() (with `lookaheadState`)');
    }
    const { lookaheadState, ...rest } = stateDict as unknown as LookaheadStateDict;
    this.base.loadStateDict(rest);
    super.loadStateDict({ state: lookaheadState, paramGroups: rest.paramGroups });
  }
}
