/**
 * `nn.Module`: the base class of every layer and model, as `torch.nn.Module`.
 *
 * Registration: the constructor returns a Proxy whose `defineProperty` trap sees every attribute
 * write (plain assignment and ES2022 class fields alike), so `this.fc = new Linear(...)` registers
 * a child and `this.w = new Parameter(...)` a parameter, in assignment order. Values stay ordinary
 * own properties (reads are not trapped); three ordered name sets record what is what.
 *
 * Calling convention: `forward(...)` is the computation; `call(...)` runs the forward pre-hooks,
 * `forward` and the forward hooks, as PyTorch's `module(x)`.
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/backend/backend.js';
import { isDType, isFloating, type DType } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { attr, checkName, childEntries, isModule, loadStateDictInto, ownMembers, reg, registeringProxy, typeName } from './module-registry.js';
import { isParameter } from './parameter.js';

let nextHookId = 0;

/** A handle returned by the hook registrations; `remove()` unregisters the hook. */
export interface RemovableHandle {
  readonly id: number;
  remove(): void;
}

/** Called before `forward` with the inputs; may return replacement inputs. */
export type ForwardPreHook<I extends unknown[], O> = (module: Module<I, O>, inputs: I) => I | void;
/** Called after `forward` with the inputs and output; may return a replacement output. */
export type ForwardHook<I extends unknown[], O> = (module: Module<I, O>, inputs: I, output: O) => O | void;

/** Parameter and persistent-buffer tensors keyed by dotted path (`layers.0.weight`). */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` did not match (PyTorch's `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Any module, whatever its forward signature. */
export type AnyModule = Module<unknown[], unknown>;

/**
 * Base class for all neural network modules (`torch.nn.Module`). Subclasses assign parameters,
 * buffers and child modules as attributes and implement `forward`; call a module with `call`
 * (runs hooks) or `forward` (bare).
 * @example
 * class MLP extends nn.Module {
 *   fc1 = new nn.Linear(4, 8);
 *   fc2 = new nn.Linear(8, 2);
 *   override forward(x: Tensor) { return this.fc2.call(this.fc1.call(x).relu()); }
 * }
 * const net = new MLP();
 * Object.keys(net.stateDict());   // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
export class Module<I extends unknown[] = [Tensor], O = Tensor> {
  /** True in training mode (the default), false after `eval()`. */
  training = true;
  constructor() {
    // NOTE: the Proxy becomes `this` in subclass constructors, so their class fields and
    // assignments pass through the defineProperty trap.
    return registeringProxy(this);
  }

  /** The computation; subclasses override it. */
  forward(...inputs: I): O {
    void inputs;
    throw new Error(`Module [${this.constructor.name}] is missing the required "forward" function`);
  }

  /**
   * Run the module as PyTorch's `module(...)`: forward pre-hooks, `forward`, forward hooks.
   * @example
   * const y = new nn.Linear(3, 2).call(tg.randn([5, 3]));   // shape [5, 2]
   */
  call(...inputs: I): O {
    const r = reg(this);
    let args = inputs;
    for (const hook of r.preHooks.values()) {
      const res = (hook as unknown as ForwardPreHook<I, O>)(this, args);
      if (res !== undefined) args = res;
    }
    let out = this.forward(...args);
    for (const hook of r.hooks.values()) {
      const res = (hook as unknown as ForwardHook<I, O>)(this, args, out);
      if (res !== undefined) out = res;
    }
    return out;
  }

  /**
   * Register `hook(module, inputs)`, run before every `call`; returning an array replaces the inputs.
   * @example
   * const h = lin.registerForwardPreHook((_m, [x]) => [x.mul(2)]);
   * h.remove();
   */
  registerForwardPreHook(hook: ForwardPreHook<I, O>): RemovableHandle {
    return this.addHook(reg(this).preHooks, hook as unknown as ForwardPreHook<unknown[], unknown>);
  }

  /**
   * Register `hook(module, inputs, output)`, run after every `call`; returning a value replaces
   * the output.
   * @example
   * const seen: number[][] = [];
   * lin.registerForwardHook((_m, _inp, out) => void seen.push(out.shape.slice()));
   */
  registerForwardHook(hook: ForwardHook<I, O>): RemovableHandle {
    return this.addHook(reg(this).hooks, hook as unknown as ForwardHook<unknown[], unknown>);
  }

  private addHook<H>(map: Map<number, H>, hook: H): RemovableHandle {
    const id = nextHookId++;
    map.set(id, hook);
    return { id, remove: () => void map.delete(id) };
  }

  // ------------------------------------------------------------ registration

  /**
   * Register a buffer: state that is not a parameter (e.g. BatchNorm's running mean). Persistent
   * buffers (the default) appear in `stateDict()`.
   * @example
   * m.registerBuffer('steps', tg.zeros([1]), { persistent: false });
   */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    const r = reg(this);
    checkName('buffer', this, name, r.buffers);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(`cannot assign '${typeName(tensor)}' object to buffer '${name}' (Tensor or null required)`);
    }
    r.params.delete(name);
    r.modules.delete(name);
    r.buffers.add(name);
    if (opts.persistent === false) r.nonPersistent.add(name);
    else r.nonPersistent.delete(name);
    Reflect.set(this, name, tensor);
  }

  /**
   * Register a parameter (or `null`, a declared but absent parameter, as `bias` without bias).
   * @example
   * m.registerParameter('scale', new nn.Parameter(tg.ones([1])));
   */
  registerParameter(name: string, param: Tensor | null): void {
    const r = reg(this);
    checkName('parameter', this, name, r.params);
    if (param !== null && !isParameter(param)) {
      throw new TypeError(`cannot assign '${typeName(param)}' object to parameter '${name}' (nn.Parameter or null required)`);
    }
    if (param !== null && !param.isLeaf) {
      throw new Error(`Cannot assign non-leaf Tensor to parameter '${name}'. Model parameters must be created explicitly. To express '${name}' as a function of another Tensor, compute the value in the forward() method.`);
    }
    r.buffers.delete(name);
    r.nonPersistent.delete(name);
    r.modules.delete(name);
    r.params.add(name);
    Reflect.set(this, name, param);
  }

  /**
   * Register a child module under `name` (`add_module`).
   * @example
   * seq.addModule('head', new nn.Linear(8, 2));
   */
  addModule(name: string, module: AnyModule | null): void {
    const r = reg(this);
    if (module !== null && !isModule(module)) throw new TypeError(`${typeName(module)} is not a Module subclass`);
    checkName('module', this, name, r.modules);
    r.params.delete(name);
    r.buffers.delete(name);
    r.nonPersistent.delete(name);
    r.modules.add(name);
    Reflect.set(this, name, module);
  }

  /** Alias of `addModule` (`register_module`). */
  registerModule(name: string, module: AnyModule | null): void {
    this.addModule(name, module);
  }

  /**
   * The submodule at a dotted path (`getSubmodule('encoder.layers.0')`); '' is this module.
   * @example
   * net.getSubmodule('fc1');
   */
  getSubmodule(target: string): AnyModule {
    let mod = this as unknown as AnyModule;
    if (target === '') return mod;
    for (const item of target.split('.')) {
      const next = attr(mod, item);
      if (!(item in mod)) throw new Error(`${mod.constructor.name} has no attribute \`${item}\``);
      if (!isModule(next)) throw new Error(`\`${item}\` is not an nn.Module`);
      mod = next as AnyModule;
    }
    return mod;
  }

  // ------------------------------------------------------------ traversal

  private namedMembers(kind: 'params' | 'buffers', prefix: string, recurse: boolean): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const mods: [string, AnyModule][] = recurse ? this.namedModules(prefix) : [[prefix, this as unknown as AnyModule]];
    for (const [modPrefix, m] of mods) {
      for (const [name, t] of ownMembers(m, kind)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([modPrefix ? `${modPrefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /**
   * `[name, parameter]` pairs of this module and (with `recurse`) its descendants, in
   * registration order; shared parameters appear once.
   * @example
   * new nn.Linear(2, 3).namedParameters().map(([n]) => n);   // ['weight', 'bias']
   */
  namedParameters(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers('params', prefix, recurse);
  }

  /**
   * The parameters (what an optimizer takes).
   * @example
   * const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
   */
  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  /** `[name, buffer]` pairs (persistent or not). @example bn.namedBuffers().map(([n]) => n); */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers('buffers', prefix, recurse);
  }

  /** The buffers. @example bn.buffers().length;   // 3 */
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  /** `[name, child]` pairs of the direct children. @example seq.namedChildren().map(([n]) => n); */
  namedChildren(): [string, AnyModule][] {
    const seen = new Set<AnyModule>();
    const out: [string, AnyModule][] = [];
    for (const name of reg(this).modules) {
      const m = attr(this, name);
      if (isModule(m) && !seen.has(m)) {
        seen.add(m);
        out.push([name, m]);
      }
    }
    return out;
  }

  /** The direct children. @example seq.children().length; */
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * `[path, module]` for this module ('' or `prefix`) and every descendant, depth first, each once.
   * @example
   * net.namedModules().map(([n]) => n);   // ['', 'fc1', 'fc2']
   */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const walk = (m: AnyModule, p: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const name of reg(m).modules) {
        const child = attr(m, name);
        if (isModule(child)) walk(child, p ? `${p}.${name}` : name);
      }
    };
    walk(this as unknown as AnyModule, prefix);
    return out;
  }

  /** This module and all descendants. @example net.modules().length; */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  // ------------------------------------------------------------ state

  /**
   * Parameters and persistent buffers by dotted name, in registration order (PyTorch's
   * `state_dict`). Values are detached aliases unless `keepVars`.
   * @example
   * Object.keys(new nn.Sequential(new nn.Linear(2, 2)).stateDict());   // ['0.weight', '0.bias']
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const { prefix = '', keepVars = false } = opts;
    const out: StateDict = {};
    // NOTE: no de-duplication, as PyTorch's state_dict recursion: a module registered twice
    // (`Sequential(lin, lin)`) saves under both names, so loadStateDict finds every key.
    const walk = (m: AnyModule, base: string): void => {
      for (const [name, t] of [...ownMembers(m, 'params'), ...ownMembers(m, 'buffers', true)]) {
        out[base + name] = keepVars ? t : t.detach();
      }
      for (const [name, child] of childEntries(m)) if (child) walk(child, `${base}${name}.`);
    };
    walk(this as unknown as AnyModule, prefix);
    return out;
  }

  /**
   * Copy parameters and buffers from `stateDict` (PyTorch's `load_state_dict`). With `strict`
   * (default) missing or unexpected keys throw; shape mismatches always throw.
   * @example
   * const { missingKeys, unexpectedKeys } = model.loadStateDict(sd, { strict: false });
   */
  loadStateDict(stateDict: StateDict | ReadonlyMap<string, Tensor>, opts: { strict?: boolean } = {}): IncompatibleKeys {
    return loadStateDictInto(this as unknown as AnyModule, stateDict, opts);
  }

  // ------------------------------------------------------------ modes and conversions

  /**
   * Set training mode on this module and all descendants (`train(false)` is `eval()`).
   * @example
   * net.train();   // dropout active, batch-norm uses batch statistics
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError('training mode is expected to be boolean');
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`train(false)`). @example net.eval(); */
  eval(): this {
    return this.train(false);
  }

  /**
   * Run `fn` on every descendant (children first) and then this module (`Module.apply`).
   * @example
   * net.apply((m) => { if (m instanceof nn.Linear) nn.init.zeros_(m.weight); });
   */
  apply(fn: (module: AnyModule) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this as unknown as AnyModule);
    return this;
  }

  /**
   * Clear the gradients of all parameters: set them to null (default) or zero them in place.
   * @example
   * net.zeroGrad();
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
        continue;
      }
      if (g.gradFn) g.detach_();
      else g.requiresGrad_(false);
      noGrad(() => g.zero_());
    }
  }

  /**
   * Set `requiresGrad` on every parameter (e.g. to freeze a backbone).
   * @example
   * backbone.requiresGrad_(false);
   */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /**
   * Convert floating-point parameters and buffers to a dtype, or move everything to a device.
   * Parameters keep their identity (PyTorch's `param.data = ...`), so optimizers built earlier
   * still hold them.
   * @example
   * model.to('float64');   // like model.double()
   */
  to(target: DType | Device): this {
    let convert: (t: Tensor) => Tensor;
    if (isDType(target)) {
      if (!isFloating(target)) throw new TypeError(`nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=${target}`);
      convert = (t) => (isFloating(t.dtype) ? t.to(target) : t);
    } else {
      convert = (t) => t.to(target);
    }
    noGrad(() => {
      for (const m of this.modules()) {
        for (const [, p] of ownMembers(m, 'params')) {
          const next = convert(p);
          if (next !== p) {
            p.setData_(next);
            // NOTE: `p` now owns the storage too; releasing the temporary's ownership lets
            // p.dispose() free device memory at once instead of at garbage collection.
            next.dispose();
          }
          if (p.grad) p.grad = keep(convert(p.grad));
        }
        for (const [name, b] of ownMembers(m, 'buffers')) {
          const next = convert(b);
          if (next !== b) Reflect.set(m, name, next);
        }
      }
    });
    return this;
  }

  /** Floating-point parameters and buffers to float64. @example model.double(); */
  double(): this {
    return this.to('float64');
  }

  /** Floating-point parameters and buffers to float32. @example model.float(); */
  float(): this {
    return this.to('float32');
  }

  // ------------------------------------------------------------ printing

  /** Extra text inside this module's printed parentheses (`in_features=4, ...`). */
  extraRepr(): string {
    return '';
  }

  /**
   * PyTorch-style summary: `Sequential(\n  (0): Linear(inFeatures=4, outFeatures=3, bias=true)\n)`.
   * @example
   * console.log(String(net));
   */
  toString(): string {
    const lines = this.extraRepr() ? this.extraRepr().split('\n') : [];
    for (const [name, child] of this.namedChildren()) {
      const text = String(child).split('\n').join('\n  ');
      lines.push(`(${name}): ${text}`);
    }
    const name = this.constructor.name;
    const children = this.namedChildren().length > 0;
    if (!children && lines.length <= 1) return `${name}(${lines[0] ?? ''})`;
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
