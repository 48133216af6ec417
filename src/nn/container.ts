/**
 * Containers: `Sequential` (a pipeline), `ModuleList` and `ModuleDict` (registered collections).
 * Children live under their index (`'0'`, `'1'`, ...) or key, so `stateDict()` keys read
 * `0.weight`, `layers.1.bias`, as in PyTorch, and `seq[0]` works like Python's `seq[0]`.
 */
import type { FusedActivation } from '../tensor/backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { ReLU, Sigmoid, Tanh } from './activation.js';
import { linearActivation } from './functional-layers.js';
import { Linear } from './layers.js';
import { Module, type AnyModule } from './module.js';
import { childEntries, reg as registry } from './module-registry.js';

/** A module mapping one tensor to one tensor (what `Sequential` chains). */
export type TensorModule = Module<[Tensor], Tensor>;

/** Normalise a possibly negative index into `[0, length)` with PyTorch's IndexError text. */
function checkIndex(idx: number, length: number): number {
  if (!Number.isInteger(idx) || idx < -length || idx >= length) throw new RangeError(`index ${idx} is out of range`);
  return idx < 0 ? idx + length : idx;
}

/** The registered children in order (a module added twice counts twice, as in PyTorch). */
function indexed<M>(m: object): M[] {
  return childEntries(m).flatMap(([, c]) => (c ? [c as unknown as M] : []));
}

/**
 * Chain modules: `forward(x)` feeds `x` through each in order (`nn.Sequential`). Children are
 * named by position, or by key when built from an object.
 * @example
 * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * net.call(tg.randn([5, 4])).shape;   // [5, 2]
 * Object.keys(net.stateDict());       // ['0.weight', '0.bias', '2.weight', '2.bias']
 */
export class Sequential extends Module implements Iterable<TensorModule> {
  [index: number]: TensorModule;

  constructor(...modules: TensorModule[] | [Record<string, TensorModule>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && first !== undefined && !(first instanceof Module)) {
      for (const [name, m] of Object.entries(first)) this.addModule(name, m as unknown as AnyModule);
    } else {
      (modules as TensorModule[]).forEach((m, i) => this.addModule(String(i), m as unknown as AnyModule));
    }
  }

  /** Number of modules. */
  get length(): number {
    return childEntries(this).length;
  }

  /** The module at `idx` (negative counts from the end). @example seq.at(-1); */
  at(idx: number): TensorModule {
    const mods = indexed<TensorModule>(this);
    return mods[checkIndex(idx, mods.length)]!;
  }

  /** Add a module at the end. @example seq.append(new nn.ReLU()); */
  append(module: TensorModule): this {
    this.addModule(String(this.length), module as unknown as AnyModule);
    return this;
  }

  /** Append several modules. @example seq.extend([new nn.Linear(2, 2), new nn.Tanh()]); */
  extend(modules: Iterable<TensorModule>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<TensorModule> {
    return indexed<TensorModule>(this)[Symbol.iterator]();
  }

  override forward(x: Tensor): Tensor {
    const mods = indexed<TensorModule>(this);
    let y = x;
    for (let i = 0; i < mods.length; i++) {
      // On the gpu device, Linear then ReLU/Tanh/Sigmoid run as one kernel (a graph-level fusion
      // PyTorch leaves to torch.compile). Nothing outside can see the linear's output here (no
      // hooks on either module), so values and gradients are the unfused ones.
      const act = y.device === 'gpu' ? fusedActivation(mods[i]!, mods[i + 1]) : null;
      if (act) {
        const lin = mods[i] as unknown as Linear;
        y = linearActivation(y, lin.weight, lin.bias, act);
        i++;
      } else y = mods[i]!.call(y);
    }
    return y;
  }
}

const FUSED_ACTIVATIONS = new Map<unknown, FusedActivation>([[ReLU, 'relu'], [Tanh, 'tanh'], [Sigmoid, 'sigmoid']]);

/** Hooks that would see the linear output or the activation's call, which fusion skips. */
const hooked = (m: object) => registry(m).preHooks.size > 0 || registry(m).hooks.size > 0;

/**
 * The activation to fuse into `m` when `m` is exactly an `nn.Linear` followed by exactly
 * `nn.ReLU`, `nn.Tanh` or `nn.Sigmoid` (subclasses may override forward), neither with hooks.
 */
function fusedActivation(m: TensorModule, next: TensorModule | undefined): FusedActivation | null {
  if (next === undefined || m.constructor !== Linear) return null;
  const act = FUSED_ACTIVATIONS.get(next.constructor);
  return act !== undefined && !hooked(m) && !hooked(next) ? act : null;
}

/**
 * A list of registered submodules (`nn.ModuleList`): indexable (`list[0]`, `at(-1)`), iterable,
 * with `append`, `extend`, `insert` and `pop`. It has no `forward` of its own.
 * @example
 * const blocks = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 4)]);
 * for (const b of blocks) x = b.call(x);
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<unknown[], unknown> implements Iterable<M> {
  [index: number]: M;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return reg(this).length;
  }

  /** The module at `idx` (negative counts from the end). */
  at(idx: number): M {
    const mods = reg<M>(this);
    return mods[checkIndex(idx, mods.length)]!;
  }

  /** Add a module at the end. */
  append(module: M): this {
    this.addModule(String(this.length), module);
    return this;
  }

  /** Append several modules. */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Insert `module` before position `index`, shifting the later ones up. */
  insert(index: number, module: M): void {
    const n = this.length;
    const at = index < 0 ? Math.max(index + n, 0) : Math.min(index, n);
    for (let i = n; i > at; i--) this.addModule(String(i), this.at(i - 1));
    this.addModule(String(at), module);
  }

  /** Remove and return the module at `index` (default the last); later ones shift down. */
  pop(index = -1): M {
    const mods = reg<M>(this);
    const i = checkIndex(index, mods.length);
    const [removed] = mods.splice(i, 1);
    for (let k = 0; k <= mods.length; k++) Reflect.deleteProperty(this, String(k));
    mods.forEach((m, k) => this.addModule(String(k), m));
    return removed!;
  }

  [Symbol.iterator](): Iterator<M> {
    return reg<M>(this)[Symbol.iterator]();
  }
}

function reg<M>(m: ModuleList<AnyModule>): M[] {
  return indexed<M>(m);
}

/**
 * A string-keyed map of registered submodules (`nn.ModuleDict`), in insertion order.
 * @example
 * const heads = new nn.ModuleDict({ cls: new nn.Linear(8, 10), box: new nn.Linear(8, 4) });
 * heads.get('cls').call(features);
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<unknown[], unknown> implements Iterable<string> {
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    this.update(modules);
  }

  /** Number of entries. */
  get size(): number {
    return childEntries(this).length;
  }

  /** The module under `key` (throws, like Python's KeyError, when absent). */
  get(key: string): M {
    if (!this.has(key)) throw new RangeError(`'${key}'`);
    return Reflect.get(this, key) as M;
  }

  /** Add or replace the module under `key`. */
  set(key: string, module: M): this {
    this.addModule(key, module);
    return this;
  }

  has(key: string): boolean {
    return childEntries(this).some(([k]) => k === key);
  }

  /** Remove and return the module under `key`. */
  pop(key: string): M {
    const m = this.get(key);
    Reflect.deleteProperty(this, key);
    return m;
  }

  /** Remove every entry. */
  clear(): void {
    for (const k of this.keys()) Reflect.deleteProperty(this, k);
  }

  /** Add entries from an object or `[key, module]` pairs. */
  update(modules: Record<string, M> | Iterable<[string, M]>): this {
    const entries = Symbol.iterator in modules ? [...(modules as Iterable<[string, M]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
    return this;
  }

  keys(): string[] {
    return childEntries(this).map(([k]) => k);
  }

  values(): M[] {
    return childEntries(this).map(([, m]) => m as unknown as M);
  }

  /** `[key, module]` pairs (Python's `items()`). */
  entries(): [string, M][] {
    return childEntries(this).map(([k, m]) => [k, m as unknown as M]);
  }

  /** Iterates over the keys, as Python's dict. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}
