/**
 * Nested state (an optimizer's `stateDict()`: param groups, step counts, per-parameter tensors)
 * stored in a flat safetensors file.
 *
 * The scheme, readable by any safetensors tool:
 *
 * - A **flat state dict** (a plain object whose values are all tensors, like `model.stateDict()`)
 *   is stored as is: one tensor per key, nothing else. Files from other tools load this way too.
 * - Anything else is **flattened**: each tensor is stored under its dotted path
 *   (`state.0.expAvg`, `paramGroups.1.momentumBuffer`; array positions are path components), and
 *   the rest of the object goes, as JSON, into the metadata key `tensorgrad.structure`. In that
 *   JSON a tensor is `{"$tensor": "<key>"}`, a non-finite or negative-zero number is
 *   `{"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}`, and a plain object that has a key
 *   starting with `$` is wrapped as `{"$object": {...}}` so it cannot be mistaken for a marker.
 *   Strings, finite numbers, booleans, null, arrays and plain objects are plain JSON; `undefined`
 *   is dropped from objects and becomes null in arrays, as with `JSON.stringify`.
 *
 * A tensor that appears twice is stored twice (safetensors has no shared storage) and loads as two
 * tensors.
 */
import { Tensor } from '../tensor/tensor.js';
import { SafetensorsError } from './safetensors.js';

/** The `__metadata__` key holding the JSON structure of nested state (`parseSafetensorsHeader(b).metadata[STRUCTURE_KEY]`). */
export const STRUCTURE_KEY = 'tensorgrad.structure';

/** A flat state dict: parameter and buffer names to tensors (`model.stateDict()`). */
export type StateDict = Record<string, Tensor>;

function isPlainObject(x: object): x is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function pathName(path: readonly string[]): string {
  return path.length === 0 ? 'the top level' : `'${path.join('.')}'`;
}

/**
 * True for a plain object whose values are all tensors (stored without a structure entry).
 * @example
 * isFlatStateDict({ w: tg.ones(2) }); // true
 */
export function isFlatStateDict(obj: object): obj is StateDict {
  return isPlainObject(obj) && Object.values(obj).every((v) => v instanceof Tensor);
}

/**
 * Split `obj` into tensors under dotted keys and a JSON skeleton (null for a flat state dict).
 * @example
 * flattenState({ step: 3, avg: [tg.zeros(2)] }); // { tensors: Map { 'avg.0' => … }, structure: '{"step":3,"avg":[{"$tensor":"avg.0"}]}' }
 */
export function flattenState(obj: object): { tensors: Map<string, Tensor>; structure: string | null } {
  if (obj instanceof Tensor || !(Array.isArray(obj) || isPlainObject(obj))) {
    throw new TypeError('save expects a state dict (a plain object or array, e.g. model.stateDict()); wrap a single tensor as { tensor: t }');
  }
  const tensors = new Map<string, Tensor>();
  if (!Array.isArray(obj) && isFlatStateDict(obj)) {
    for (const [k, t] of Object.entries(obj)) tensors.set(k, t);
    return { tensors, structure: null };
  }
  const active = new Set<object>();
  const walk = (value: unknown, path: string[]): unknown => {
    if (value instanceof Tensor) {
      const key = path.join('.');
      if (tensors.has(key)) throw new RangeError(`save: two tensors would be stored under the same key '${key}'; rename one of the entries`);
      tensors.set(key, value);
      return { $tensor: key };
    }
    if (typeof value === 'number') {
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { $number: Object.is(value, -0) ? '-0' : String(value) };
    }
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'object') {
      if (active.has(value)) throw new TypeError(`save: circular reference at ${pathName(path)}`);
      active.add(value);
      let out: unknown;
      if (Array.isArray(value)) {
        out = value.map((v: unknown, i) => (v === undefined ? null : walk(v, [...path, String(i)])));
      } else if (isPlainObject(value)) {
        const rec: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) if (v !== undefined) rec[k] = walk(v, [...path, k]);
        out = Object.keys(rec).some((k) => k.startsWith('$')) ? { $object: rec } : rec;
      } else {
        throw new TypeError(`save: cannot store a ${value.constructor?.name ?? 'object'} at ${pathName(path)}; use tensors, numbers, strings, booleans, null, arrays and plain objects`);
      }
      active.delete(value);
      return out;
    }
    throw new TypeError(`save: cannot store a value of type ${typeof value} at ${pathName(path)}`);
  };
  const skeleton = walk(obj, []);
  return { tensors, structure: JSON.stringify(skeleton) };
}

/**
 * Rebuild nested state from a skeleton and the file's tensors; every tensor must be referenced.
 * @example
 * unflattenState('{"step":3,"avg":[{"$tensor":"avg.0"}]}', new Map([['avg.0', tg.zeros(2)]])); // { step: 3, avg: [Tensor] }
 */
export function unflattenState(structure: string, tensors: ReadonlyMap<string, Tensor>): unknown {
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(structure);
  } catch (err) {
    throw new SafetensorsError(`safetensors: metadata '${STRUCTURE_KEY}' is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const used = new Set<string>();
  const bad = (what: string): never => {
    throw new SafetensorsError(`safetensors: metadata '${STRUCTURE_KEY}' is malformed: ${what}`);
  };
  const build = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(build);
    const rec = node as Record<string, unknown>;
    const keys = Object.keys(rec);
    if (keys.length === 1 && keys[0] === '$tensor') {
      const key = rec['$tensor'];
      if (typeof key !== 'string') return bad('a $tensor marker must hold a string');
      const t = tensors.get(key);
      if (t === undefined) return bad(`it refers to tensor '${key}', which is not in the file`);
      used.add(key);
      return t;
    }
    if (keys.length === 1 && keys[0] === '$number') {
      const v = rec['$number'];
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      if (v === '-0') return -0;
      return bad(`unknown $number ${JSON.stringify(v)}`);
    }
    let body = rec;
    if (keys.length === 1 && keys[0] === '$object') {
      const inner = rec['$object'];
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return bad('a $object marker must hold an object');
      body = inner as Record<string, unknown>;
    } else if (keys.some((k) => k.startsWith('$'))) {
      return bad(`unexpected key '${keys.find((k) => k.startsWith('$'))}' (objects with $ keys are wrapped in $object)`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) out[k] = build(v);
    return out;
  };
  const result = build(skeleton);
  for (const key of tensors.keys()) {
    if (!used.has(key)) throw new SafetensorsError(`safetensors: tensor '${key}' is in the file but not referenced by metadata '${STRUCTURE_KEY}'`);
  }
  return result;
}
