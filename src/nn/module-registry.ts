/**
 * The bookkeeping behind `nn.Module`: per-module ordered name sets (parameters, buffers,
 * children) kept in step with attribute writes by a Proxy `defineProperty` trap, PyTorch's
 * `__setattr__` rules, and the `load_state_dict` walk. Modules are recognised by having a
 * registry, so this file needs no runtime import of module.ts.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { keep } from '../tensor/scope.js';
import { fmtShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { AnyModule, ForwardHook, ForwardPreHook, IncompatibleKeys } from './module.js';
import { isParameter } from './parameter.js';

/** What a module has registered, by kind, in registration order. */
export interface Registry {
  readonly params: Set<string>;
  readonly buffers: Set<string>;
  readonly nonPersistent: Set<string>;
  readonly modules: Set<string>;
  readonly preHooks: Map<number, ForwardPreHook<unknown[], unknown>>;
  readonly hooks: Map<number, ForwardHook<unknown[], unknown>>;
}

/** Each module's registry, keyed by both the module and its Proxy. */
const registries = new WeakMap<object, Registry>();

/** Wrap a freshly constructed module in the registering Proxy (called by `Module`'s constructor). */
export function registeringProxy<T extends object>(target: T): T {
  // NOTE: a Proxy has its target's type; the handler only adds bookkeeping.
  const r: Registry = {
    params: new Set(), buffers: new Set(), nonPersistent: new Set(), modules: new Set(), preHooks: new Map(), hooks: new Map(),
  };
  const proxy = new Proxy<T>(target, registrar as ProxyHandler<T>);
  registries.set(target, r);
  registries.set(proxy, r);
  return proxy;
}

/** The registry of a module. */
export function reg(m: object): Registry {
  const r = registries.get(m);
  if (!r) throw new Error('nn.Module: the registry is missing; did a subclass constructor skip super()?');
  return r;
}

/** True for `nn.Module` instances (they are exactly the objects with a registry). */
export function isModule(v: unknown): v is AnyModule {
  return typeof v === 'object' && v !== null && registries.has(v);
}

/** A value's type as error messages name it. */
export function typeName(v: unknown): string {
  if (v instanceof Tensor) return `Tensor(${v.dtype})`;
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

/** Read an attribute by name (modules are open records of their registered attributes). */
export function attr(m: object, name: string): unknown {
  return Reflect.get(m, name);
}

/** Keep the registry in step with an attribute write, with PyTorch's `__setattr__` rules. */
function register(m: object, name: string, value: unknown): void {
  const r = reg(m);
  // NOTE: a module owns its parameters and buffers, so they outlive any tg.scope() they were
  // made in (device memory is otherwise released when the scope returns).
  if (value instanceof Tensor && (isParameter(value) || r.buffers.has(name))) keep(value);
  if (isParameter(value)) {
    r.buffers.delete(name);
    r.nonPersistent.delete(name);
    r.modules.delete(name);
    r.params.add(name);
  } else if (r.params.has(name)) {
    if (value != null) throw new TypeError(`cannot assign '${typeName(value)}' as parameter '${name}' (nn.Parameter or null expected)`);
  } else if (isModule(value)) {
    r.params.delete(name);
    r.buffers.delete(name);
    r.nonPersistent.delete(name);
    r.modules.add(name);
  } else if (r.modules.has(name)) {
    if (value != null) throw new TypeError(`cannot assign '${typeName(value)}' as child module '${name}' (nn.Module or null expected)`);
  } else if (r.buffers.has(name)) {
    if (value != null && !(value instanceof Tensor)) throw new TypeError(`cannot assign '${typeName(value)}' as buffer '${name}' (Tensor or null expected)`);
  }
}

/**
 * @internal Registered children in order, without de-duplication and including null entries
 * (what containers index and iterate, as PyTorch's `_modules.items()`).
 */
export function childEntries(m: object): [string, AnyModule | null][] {
  return [...reg(m).modules].map((name) => {
    const v = attr(m, name);
    return [name, isModule(v) ? v : null];
  });
}

const registrar: ProxyHandler<object> = {
  defineProperty(target, key, desc) {
    if (typeof key === 'string' && 'value' in desc) register(target, key, desc.value);
    return Reflect.defineProperty(target, key, desc);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string') {
      const r = reg(target);
      r.params.delete(key);
      r.buffers.delete(key);
      r.nonPersistent.delete(key);
      r.modules.delete(key);
    }
    return Reflect.deleteProperty(target, key);
  },
};

/** Validate a name for registerParameter/registerBuffer/addModule, as PyTorch. */
export function checkName(kind: 'parameter' | 'buffer' | 'module', m: object, name: string, registered: Set<string>): void {
  if (typeof name !== 'string') throw new TypeError(`${kind} name should be a string. Got ${typeof name}`);
  if (name.includes('.')) throw new RangeError(kind === 'module' ? `module name can't contain ".", got: ${name}` : `${kind} name can't contain "."`);
  if (name === '') throw new RangeError(`${kind} name can't be empty string ""`);
  if (name in m && !registered.has(name)) throw new RangeError(`attribute '${name}' already exists`);
}

/** A module's own registered parameters or buffers that are set (not null), in order. */
export function ownMembers(m: object, kind: 'params' | 'buffers', persistentOnly = false): [string, Tensor][] {
  const r = reg(m);
  const out: [string, Tensor][] = [];
  for (const name of r[kind]) {
    if (persistentOnly && r.nonPersistent.has(name)) continue;
    const v = attr(m, name);
    if (v instanceof Tensor) out.push([name, v]);
  }
  return out;
}

/** PyTorch's `load_state_dict`: copy matching entries into `root`'s parameters and buffers. */
export function loadStateDictInto(root: AnyModule, stateDict: Record<string, Tensor> | ReadonlyMap<string, Tensor>, opts: { strict?: boolean }): IncompatibleKeys {
  const strict = opts.strict ?? true;
  const all = new Map<string, unknown>(stateDict instanceof Map ? stateDict : Object.entries(stateDict));
  const missingKeys: string[] = [];
  const unexpectedKeys: string[] = [];
  const errors: string[] = [];
  const load = (m: AnyModule, prefix: string, local: Map<string, unknown>): void => {
    const own = new Map([...ownMembers(m, 'params'), ...ownMembers(m, 'buffers', true)]);
    for (const [name, param] of own) {
      const key = prefix + name;
      if (!local.has(key)) {
        missingKeys.push(key);
        continue;
      }
      const raw = local.get(key);
      if (!(raw instanceof Tensor)) {
        errors.push(`While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${typeName(raw)}`);
        continue;
      }
      let input: Tensor = raw;
      // Backward compatibility (as PyTorch): a 1-element 1-D checkpoint value loads into a 0-d one.
      if (param.ndim === 0 && input.ndim === 1) input = input.select(0, 0);
      if (fmtShape(input.shape) !== fmtShape(param.shape)) {
        errors.push(`size mismatch for ${key}: copying a param with shape ${fmtShape(input.shape)} from checkpoint, the shape in current model is ${fmtShape(param.shape)}.`);
        continue;
      }
      const src = input;
      try {
        noGrad(() => param.copy_(src));
      } catch (e) {
        errors.push(`While copying the parameter named "${key}", whose dimensions in the model are ${fmtShape(param.shape)} and whose dimensions in the checkpoint are ${fmtShape(src.shape)}, an exception occurred : ${e instanceof Error ? e.message : String(e)}.`);
      }
    }
    const r = reg(m);
    for (const key of local.keys()) {
      if (!key.startsWith(prefix)) continue;
      const head = key.slice(prefix.length).split('.')[0]!;
      if (!r.modules.has(head) && !own.has(head)) unexpectedKeys.push(key);
    }
    for (const name of r.modules) {
      const child = attr(m, name);
      if (!isModule(child)) continue;
      const childPrefix = `${prefix}${name}.`;
      load(child, childPrefix, new Map([...local].filter(([k]) => k.startsWith(childPrefix))));
    }
  };
  load(root, '', all);
  if (strict) {
    if (unexpectedKeys.length > 0) errors.unshift(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}. `);
    if (missingKeys.length > 0) errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}. `);
  }
  if (errors.length > 0) throw new Error(`Error(s) in loading state_dict for ${root.constructor.name}:\n\t${errors.join('\n\t')}`);
  return { missingKeys, unexpectedKeys };
}
