/**
 * State-dict values (optimizer and scheduler state) and their plain-JSON form.
 *
 * `stateDict()` returns numbers, strings, booleans, nulls, tensors, arrays and plain objects.
 * `stateToJSON` turns tensors into `{ $tensor: { dtype, shape, data } }` and non-finite numbers
 * into `{ $number: 'Infinity' }`, so `JSON.stringify` keeps every bit (doubles print in their
 * shortest round-trip form); `stateFromJSON` reverses it.
 */
import { tensor } from '../tensor/creation.js';
import { isDType } from '../tensor/dtype.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Tensor } from '../tensor/tensor.js';

/** A value a state dict may hold. */
export type StateValue = number | string | boolean | null | Tensor | readonly StateValue[] | { readonly [key: string]: StateValue };

/** A state dict entry: named values. */
export type StateRecord = { readonly [key: string]: StateValue };

/** What `JSON.parse` returns. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A deep copy of `v` as a state value: tensors are cloned (detached, contiguous), arrays and
 * plain objects copied, `undefined` entries and functions left out.
 */
export function cloneState(v: unknown): StateValue {
  if (v instanceof Tensor) return noGrad(() => v.detach().clone());
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map((x: unknown) => cloneState(x));
  if (isPlainObject(v)) {
    const out: Record<string, StateValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === 'function') continue;
      out[k] = cloneState(x);
    }
    return out;
  }
  throw new TypeError(`cannot store a value of type ${typeof v} in a state dict`);
}

function encodeNumber(x: number): JsonValue {
  return Number.isFinite(x) ? x : { $number: String(x) };
}

/**
 * The plain-JSON form of a state dict (tensors and non-finite numbers tagged), for
 * `JSON.stringify`.
 * @example
 * const text = JSON.stringify(optim.stateToJSON(opt.stateDict()));
 * opt2.loadStateDict(optim.stateFromJSON(JSON.parse(text)));
 */
export function stateToJSON(v: StateValue): JsonValue {
  if (v instanceof Tensor) {
    const data = Array.from(v.dataSync(), (x) => encodeNumber(Number(x)));
    return { $tensor: { dtype: v.dtype, shape: [...v.shape], data } };
  }
  if (typeof v === 'number') return encodeNumber(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map((x: StateValue) => stateToJSON(x));
  const out: Record<string, JsonValue> = {};
  for (const [k, x] of Object.entries(v)) out[k] = stateToJSON(x);
  return out;
}

function decodeNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (isPlainObject(v) && typeof v['$number'] === 'string' && Object.keys(v).length === 1) return Number(v['$number']);
  return null;
}

/** Reverse `stateToJSON`: rebuild tensors and non-finite numbers from a parsed JSON value. */
export function stateFromJSON(json: unknown): StateValue {
  const n = decodeNumber(json);
  if (n !== null) return n;
  if (typeof json === 'string' || typeof json === 'boolean' || json === null) return json;
  if (Array.isArray(json)) return json.map((x: unknown) => stateFromJSON(x));
  if (!isPlainObject(json)) throw new TypeError(`not a JSON state value: ${String(json)}`);
  const t = json['$tensor'];
  if (t !== undefined && Object.keys(json).length === 1) {
    if (!isPlainObject(t) || !isDType(t['dtype']) || !Array.isArray(t['shape']) || !Array.isArray(t['data'])) {
      throw new TypeError('malformed $tensor entry in a JSON state dict');
    }
    const data = t['data'].map((x: unknown) => {
      const d = decodeNumber(x);
      if (d === null) throw new TypeError('malformed $tensor data in a JSON state dict');
      return d;
    });
    const shape = t['shape'].map((x: unknown) => Number(x));
    return tensor(data, { dtype: t['dtype'], shape });
  }
  const out: Record<string, StateValue> = {};
  for (const [k, x] of Object.entries(json)) out[k] = stateFromJSON(x);
  return out;
}
