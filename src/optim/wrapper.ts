/**
 * The base of optimizers that wrap another optimizer (SAM, Lookahead): the wrapper and the base
 * share their parameter groups, so a scheduler attached to either changes the learning rate both
 * see, and the wrapper's own options (rho, k, alpha) live in the same group records.
 */
import { Optimizer, type OptimizerOptions, type ParamGroup, type ParamGroupInput } from './optimizer.js';

function typeName(x: unknown): string {
  return typeof x === 'object' && x !== null ? x.constructor.name : typeof x;
}

/**
 * An optimizer around a `base` optimizer whose `paramGroups` it shares (PyTorch wrappers such as
 * SAM assign `self.param_groups = self.base_optimizer.param_groups`). Subclasses override
 * `runStep` and call `this.base.step()`.
 * @example
 * class Noop extends OptimizerWrapper<{ lr: number }, never> {
 *   protected override runStep<L>(closure?: () => L) { return this.base.step(closure); }
 * }
 */
export abstract class OptimizerWrapper<O extends OptimizerOptions, S> extends Optimizer<O, S> {
  /** The wrapped optimizer, which performs the parameter updates. */
  readonly base: Optimizer<OptimizerOptions, unknown>;

  constructor(base: Optimizer<OptimizerOptions, unknown>, defaults: Omit<O, 'lr'>) {
    if (!(base instanceof Optimizer)) throw new TypeError(`${typeName(base)} is not an Optimizer`);
    super(base.paramGroups.map((g) => ({ ...g })) as unknown as ParamGroupInput<O>[], { ...defaults, lr: base.defaults.lr } as O);
    this.base = base;
    base.paramGroups.forEach((g, i) => fillOptions(g, this.paramGroups[i]!, Object.keys(this.defaults)));
    // NOTE: `paramGroups` is an own data property set by the Optimizer constructor; redefine it as
    // an accessor so the wrapper always sees the base's current groups (also after the base's
    // loadStateDict or addParamGroup replaced or extended them).
    Object.defineProperty(this, 'paramGroups', {
      get: () => base.paramGroups,
      set: (groups: ParamGroup<OptimizerOptions>[]) => {
        base.paramGroups = groups;
      },
      enumerable: true,
      configurable: true,
    });
  }

  /** Add a group to the base optimizer, with the wrapper's options filled in. */
  override addParamGroup(group: ParamGroupInput<O>): void {
    // NOTE: the Optimizer constructor calls this before `base` is assigned: use the plain path then.
    if ((this.base as Optimizer<OptimizerOptions, unknown> | undefined) === undefined) {
      super.addParamGroup(group);
      return;
    }
    this.base.addParamGroup(group as unknown as ParamGroupInput<OptimizerOptions>);
    const added = this.base.paramGroups[this.base.paramGroups.length - 1]!;
    fillOptions(added, { ...this.defaults, ...group } as unknown as Record<string, unknown>, Object.keys(this.defaults));
    this.checkOptions(added as unknown as O);
  }
}

/** Copy the `keys` that `target` lacks from `source`. */
function fillOptions(target: object, source: object, keys: readonly string[]): void {
  const t = target as Record<string, unknown>;
  const s = source as Record<string, unknown>;
  for (const k of keys) if (t[k] === undefined && s[k] !== undefined) t[k] = Array.isArray(s[k]) ? [...(s[k] as unknown[])] : s[k];
}
