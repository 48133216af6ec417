/**
 * The Optimizer base class, following `torch.optim.Optimizer`: parameter groups with per-group
 * options, per-parameter state keyed by the parameter itself, `step(closure)`, `zeroGrad`,
 * step hooks, and `stateDict()`/`loadStateDict()` in PyTorch's layout.
 */
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import type { Hook } from '../tensor/tensor.js';
import { torchTypeName } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { pyNumber } from './check.js';
import { cloneState, type StateRecord, type StateValue } from './state.js';
import { makeResident } from './flat.js';

/** Options every optimizer has. */
export interface OptimizerOptions {
  /** Learning rate. */
  lr: number;
}

/**
 * Fields that schedulers read and write on a parameter group, as PyTorch's schedulers store
 * `initial_lr`, `max_lr`, `swa_lr`, ... in `param_groups`.
 */
export interface SchedulerFields {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
  swaLr?: number;
  momentum?: number;
  betas?: readonly [number, number];
}

/** A parameter group: its parameters plus the full set of options (defaults filled in). */
export type ParamGroup<O extends OptimizerOptions = OptimizerOptions> = SchedulerFields & O & { params: Tensor[] };

/** A parameter group as passed in: parameters plus any options to override for this group. */
export type ParamGroupInput<O extends OptimizerOptions = OptimizerOptions> = Partial<O> & SchedulerFields & {
  params: Iterable<Tensor> | Tensor;
};

/** What optimizers accept: parameters, or parameter groups (PyTorch's two shapes). */
export type ParamsArg<O extends OptimizerOptions = OptimizerOptions> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** `stateDict()`: state indexed by parameter order, groups with `params` as indices. */
export type OptimizerStateDict = {
  state: Record<string, StateRecord>;
  paramGroups: StateRecord[];
};

/** A removable hook handle (`RemovableHandle`). */
export type RemovableHandle = Hook;

let nextHookId = 0;

function typeName(x: unknown): string {
  if (x instanceof Tensor) return torchTypeName(x.dtype);
  if (x === null) return 'NoneType';
  if (Array.isArray(x)) return 'list';
  return typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor);
}

/**
 * Base class of all optimizers (`torch.optim.Optimizer`).
 *
 * Subclasses supply `updateParam`, one parameter's update given its gradient, state and group
 * options; the base class owns the loop (groups, then parameters with a gradient), runs it
 * under `noGrad`, and evaluates the closure under `enableGrad`.
 *
 * Gradient accumulation: gradients add up in `.grad` across `backward()` calls until
 * `zeroGrad()`, so N micro-batches whose losses are scaled by 1/N followed by one `step()` give
 * the same update as one step on the whole batch (for a mean-reduced loss):
 * ```ts
 * opt.zeroGrad();
 * for (const [x, y] of microBatches) F.mseLoss(model.call(x), y).div(microBatches.length).backward();
 * opt.step();
 * ```
 * @example
 * const w = tg.randn([3], { requiresGrad: true });
 * const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); w.square().sum().backward(); opt.step();
 */
export abstract class Optimizer<O extends OptimizerOptions = OptimizerOptions, S = unknown> {
  /** The options used when a group does not set them. */
  readonly defaults: O;
  /** Parameter groups, each with its options (mutable, as schedulers change `lr`). */
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, keyed by parameter identity. */
  state = new Map<Tensor, S>();
  private readonly preHooks = new Map<number, () => void>();
  private readonly postHooks = new Map<number, () => void>();

  constructor(params: ParamsArg<O>, defaults: O) {
    this.defaults = this.checkOptions(defaults);
    if (params instanceof Tensor || typeof (params as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${typeName(params)}`);
    }
    const list: unknown[] = [...params];
    if (list.length === 0) throw new RangeError('optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    for (const g of groups) this.addParamGroup(g as ParamGroupInput<O>);
  }

  /** Validate one group's options (defaults included); PyTorch's messages. */
  protected checkOptions(options: O): O {
    return options;
  }

  /**
   * One parameter's update, in place; returns its (new or updated) state. Every optimizer
   * defines it, except those that override `runStep` to update all parameters together (LBFGS).
   */
  protected updateParam?(param: Tensor, grad: Tensor, state: S | undefined, group: ParamGroup<O>): S;

  /**
   * Add a parameter group (`add_param_group`), e.g. to unfreeze layers while training; options
   * it leaves out take the optimizer's defaults.
   * @example
   * opt.addParamGroup({ params: head.parameters(), lr: 1e-2 });
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    if (!isRecord(group)) throw new TypeError('param group must be a dict');
    const raw = group.params;
    if (raw instanceof Set) {
      throw new TypeError('optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.');
    }
    const params: unknown[] = raw instanceof Tensor ? [raw] : [...raw];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeName(p)}`);
      if (!(p.isLeaf || p.retainsGrad)) throw new RangeError("can't optimize a non-leaf Tensor");
    }
    const tensors = params as Tensor[];
    for (const p of tensors) makeResident(p);
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) merged[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) merged[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
    // NOTE: merged holds every default key (checked below), so it is a full set of options.
    this.checkOptions(merged as unknown as O);
    if (new Set(tensors).size !== tensors.length) {
      console.warn('optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information');
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (tensors.some((p) => seen.has(p))) throw new RangeError('some parameters appear in more than one parameter group');
    this.paramGroups.push({ ...(merged as unknown as O), params: tensors } as ParamGroup<O>);
  }

  /**
   * Clear the gradients of all optimized parameters (`zero_grad`): set them to null (default, as
   * PyTorch 2.x) or fill them with zeros.
   */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad = null;
        } else {
          const g = p.grad;
          if (g.gradFn) g.detach_();
          else g.requiresGrad_(false);
          noGrad(() => g.zero_());
        }
      }
    }
  }

  /**
   * One optimization step. `closure`, when given, recomputes the loss (zeroGrad, forward,
   * backward) and is run with gradients enabled; its result is returned.
   */
  step<L = unknown>(closure?: () => L): L | undefined {
    for (const hook of [...this.preHooks.values()]) hook();
    const loss = this.runStep(closure);
    for (const hook of [...this.postHooks.values()]) hook();
    return loss;
  }

  /**
   * `step(closure)` as a Promise, so code for every device can await any optimizer alike. The
   * optimizers that read values on the host (LBFGS, Newton, NewtonCG) override it to await
   * their readbacks (`await t.data()`, which WebGPU needs) and take an async closure; the others
   * step synchronously, and refuse an async closure as `step()` does.
   * @example
   * const opt = new optim.Adam(model.parameters());
   * await opt.stepAsync(() => { opt.zeroGrad(); const l = lossFn(); l.backward(); return l; });
   */
  async stepAsync<L = unknown>(closure?: () => L | PromiseLike<L>): Promise<L | undefined> {
    return this.step(closure as (() => L) | undefined);
  }

  /** Run `body` between the step hooks, as `step()` runs `runStep` (for an awaiting `stepAsync`). */
  protected async withStepHooks<T>(body: () => Promise<T>): Promise<T> {
    for (const hook of [...this.preHooks.values()]) hook();
    const out = await body();
    for (const hook of [...this.postHooks.values()]) hook();
    return out;
  }

  /**
   * The body of `step` between the hooks: evaluate the closure, then update each parameter that
   * has a gradient, group by group, through `updateParam`.
   */
  protected runStep<L>(closure?: () => L): L | undefined {
    const update = this.updateParam;
    if (!update) throw new Error(`${this.constructor.name} must define updateParam or override runStep`);
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          this.state.set(p, update.call(this, p, p.grad, this.state.get(p), group));
        }
      }
    });
    return loss;
  }

  /** Call `hook(optimizer)` before every `step()`; returns a handle to remove it. */
  registerStepPreHook(hook: (optimizer: this) => void): RemovableHandle {
    return this.addHook(this.preHooks, hook);
  }

  /** Call `hook(optimizer)` after every `step()`; returns a handle to remove it. */
  registerStepPostHook(hook: (optimizer: this) => void): RemovableHandle {
    return this.addHook(this.postHooks, hook);
  }

  private addHook(map: Map<number, () => void>, hook: (optimizer: this) => void): RemovableHandle {
    const id = nextHookId++;
    map.set(id, () => hook(this));
    return { remove: () => void map.delete(id) };
  }

  /**
   * The optimizer's state in PyTorch's layout: `state` keyed by the index of each parameter in
   * group order, `paramGroups` with `params` replaced by those indices. Tensors are copied, so
   * later steps do not change it. See `stateToJSON` for a JSON-safe form.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let start = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const packed: Record<string, StateValue> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[k] = cloneState(v);
      g.params.forEach((p, i) => {
        if (!index.has(p)) index.set(p, start + i);
      });
      packed['params'] = g.params.map((p) => index.get(p)!);
      start += g.params.length;
      return packed;
    });
    const state: Record<string, StateRecord> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      const value = cloneState(s);
      if (i !== undefined && isRecord(value)) state[String(i)] = value as StateRecord;
    }
    return { state, paramGroups };
  }

  /**
   * Load a state dict from `stateDict()` (or `stateFromJSON`): group options are restored and
   * state tensors are copied and cast to each parameter's dtype and device.
   */
  loadStateDict(stateDict: OptimizerStateDict | StateValue): void {
    if (!isRecord(stateDict) || !isRecord(stateDict['state']) || !Array.isArray(stateDict['paramGroups'])) {
      throw new TypeError('loadStateDict expects an object with `state` and `paramGroups`, as returned by stateDict()');
    }
    const savedGroups = stateDict['paramGroups'] as unknown[];
    const savedState = stateDict['state'];
    if (savedGroups.length !== this.paramGroups.length) throw new RangeError('loaded state dict has a different number of parameter groups');
    const idMap = new Map<string, Tensor>();
    this.paramGroups.forEach((g, gi) => {
      const saved = savedGroups[gi];
      const ids = isRecord(saved) ? saved['params'] : undefined;
      if (!Array.isArray(ids) || ids.length !== g.params.length) {
        throw new RangeError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
      ids.forEach((id, i) => idMap.set(String(id), g.params[i]!));
    });
    const state = new Map<Tensor, S>();
    for (const [id, value] of Object.entries(savedState)) {
      const p = idMap.get(id);
      // NOTE: state records come from stateDict() of the same optimizer class (as in PyTorch,
      // their content is not validated further).
      if (p) state.set(p, castState(p, value) as S);
    }
    this.paramGroups = this.paramGroups.map((g, gi) => {
      const saved = savedGroups[gi] as Record<string, unknown>;
      const group: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(this.defaults)) group[k] = cloneState(v);
      for (const [k, v] of Object.entries(saved)) if (k !== 'params') group[k] = cloneState(v);
      return { ...(group as unknown as O), params: g.params } as ParamGroup<O>;
    });
    this.state = state;
  }

  /** PyTorch's repr: the class name and each group's options. */
  toString(): string {
    let out = `${this.constructor.name} (`;
    this.paramGroups.forEach((g, i) => {
      out += `\nParameter Group ${i}\n`;
      const entries = Object.entries(g).filter(([k]) => k !== 'params').sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [k, v] of entries) out += `    ${k}: ${formatOption(v)}\n`;
    });
    return `${out})`;
  }
}

function formatOption(v: unknown): string {
  if (typeof v === 'number') return pyNumber(v);
  if (Array.isArray(v)) return `(${v.map(formatOption).join(', ')})`;
  return String(v);
}

/** Deep-copy a saved state value for `param`, casting float tensors to its dtype and device. */
function castState(param: Tensor, value: unknown, key?: string): unknown {
  if (value instanceof Tensor) {
    return noGrad(() => {
      let t = value.detach();
      if (key !== 'step' && param.isFloatingPoint()) t = t.to(param.dtype);
      t = t.to(param.device);
      return keep(t.clone());
    });
  }
  if (Array.isArray(value)) return value.map((v: unknown) => castState(param, v));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = castState(param, v, k);
    return out;
  }
  return value;
}
