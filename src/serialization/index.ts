/**
 * `save` / `load` (`torch.save` / `torch.load`) in the safetensors format, and their in-memory
 * forms `serialize` / `deserialize` (browser-safe: Node's `fs` is imported only inside `save`
 * and `load`).
 *
 * Model state dicts are stored as plain safetensors files that other tools (Python's
 * `safetensors`, Hugging Face) read directly. Nested state such as an optimizer's `stateDict()`
 * is flattened as described in `structure.ts`: tensors under dotted keys, the rest as JSON in the
 * `__metadata__` entry `tensorgrad.structure`.
 */
import type { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
import { flattenState, STRUCTURE_KEY, unflattenState, type StateDict } from './structure.js';

export { decodeSafetensors, encodeSafetensors, parseSafetensorsHeader, SafetensorsError, type SafetensorsHeader, type TensorInfo } from './safetensors.js';
export { flattenState, isFlatStateDict, STRUCTURE_KEY, unflattenState, type StateDict } from './structure.js';

/** Options of `save` / `serialize`, e.g. `{ metadata: { format: 'pt' } }`. */
export interface SaveOptions {
  /** Extra `__metadata__` strings to store (e.g. `{ format: 'pt' }`); `tensorgrad.structure` is reserved. */
  metadata?: Record<string, string>;
}

/**
 * Encode a state dict (or nested state with tensors, numbers, strings, booleans, null, arrays
 * and plain objects) as safetensors bytes.
 * @example
 * const bytes = tg.serialize(model.stateDict());
 * const again = tg.deserialize(bytes); // { '0.weight': Tensor, … }
 */
export function serialize(obj: object, opts: SaveOptions = {}): Uint8Array {
  const metadata = { ...opts.metadata };
  if (STRUCTURE_KEY in metadata) throw new RangeError(`save: the metadata key '${STRUCTURE_KEY}' is reserved for tensorgrad`);
  const { tensors, structure } = flattenState(obj);
  if (structure !== null) metadata[STRUCTURE_KEY] = structure;
  return encodeSafetensors(tensors, metadata);
}

/**
 * Decode safetensors bytes written by `serialize` (nested state comes back nested) or by any
 * other safetensors writer (a flat record of tensors). The type parameter is not checked.
 * @example
 * const state = tg.deserialize<Record<string, tg.Tensor>>(bytes);
 */
export function deserialize<T = StateDict>(bytes: Uint8Array): T {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const structure = metadata[STRUCTURE_KEY];
  if (structure !== undefined) return unflattenState(structure, tensors) as T;
  const out: Record<string, Tensor> = {};
  for (const [k, t] of tensors) out[k] = t;
  return out as T;
}

/**
 * Save a state dict to `path` as a safetensors file (`torch.save`). The file is replaced
 * atomically: the bytes go to a temporary file in the same directory, which is flushed to disk
 * and then renamed over `path`, so a crash or an error never leaves a partial file or clobbers
 * the old one. Node only.
 * @example
 * await tg.save(model.stateDict(), 'model.safetensors');
 * await tg.save(optimizer.stateDict(), 'optim.safetensors');
 */
export async function save(obj: object, path: string, opts: SaveOptions = {}): Promise<void> {
  // Serialize first: an unsupported value throws before the file system is touched.
  const bytes = serialize(obj, opts);
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const dir = nodePath.dirname(path);
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(tmp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  // Make the rename itself durable. Best effort: not every platform can fsync a directory.
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // ignored (e.g. Windows)
  }
}

/**
 * Load what `save` wrote (`torch.load`), or any safetensors file. Errors name the file and say
 * what is wrong with a corrupt one. Node only. The type parameter is not checked.
 * @example
 * model.loadStateDict(await tg.load('model.safetensors'));
 */
export async function load<T = StateDict>(path: string): Promise<T> {
  const { readFile } = await import('node:fs/promises');
  const buf = await readFile(path);
  try {
    return deserialize<T>(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${err.message} (file: ${path})`, { cause: err });
    throw err;
  }
}
