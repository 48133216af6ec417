/**
 * Flat typed-array access to tensors for the optimizers' fused update loops (PyTorch's foreach
 * spirit: one pass over each parameter's elements per step, no per-element tensors).
 *
 * CPU tensors that are contiguous are read and written in place through their storage; any
 * other tensor (a strided view, another device) is read into a copy and written back.
 */
import { cpuBackend } from '../tensor/backend/cpu.js';
import { backendOf } from '../tensor/backend/device.js';
import { allocResidentF32, residentAddress, wasmRuntime } from '../tensor/backend/wasm/runtime.js';
import { fullLike, zerosLike } from '../tensor/creation.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/** The element arrays the update functions work on. */
export type FloatArray = Float32Array | Float64Array;

function directView(t: Tensor): FloatArray | null {
  if (t.device !== 'cpu' || !t.isContiguous()) return null;
  const data = t.storage.data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return null;
  return data.subarray(t.offset, t.offset + t.numel());
}

/**
 * The elements of `t` as a flat float array, in row-major order: the storage itself for a
 * contiguous CPU float tensor (do not write to it), a copy otherwise.
 */
export function readFloats(t: Tensor): FloatArray {
  const direct = directView(t);
  if (direct) return direct;
  const data = t.dataSync();
  return data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data);
}

/**
 * Run `fn` over writable flat arrays of `tensors` (float tensors), then write copies back and
 * bump each tensor's version counter, as an in-place PyTorch op would.
 */
export function writeFloats<const T extends readonly Tensor[]>(
  tensors: T,
  fn: (...arrays: { [K in keyof T]: FloatArray }) => void,
): void {
  const arrays: FloatArray[] = [];
  const copied: boolean[] = [];
  for (const t of tensors) {
    const direct = directView(t);
    if (direct) {
      arrays.push(direct);
      copied.push(false);
    } else {
      const data = t.dataSync();
      if (!(data instanceof Float32Array || data instanceof Float64Array)) {
        throw new TypeError(`optimizers update floating point tensors only, but got a tensor of dtype ${t.dtype}`);
      }
      arrays.push(data);
      copied.push(true);
    }
  }
  // NOTE: a mapped tuple type cannot be built from an array literal; the length and order match.
  fn(...(arrays as unknown as { [K in keyof T]: FloatArray }));
  tensors.forEach((t, i) => {
    if (copied[i]) {
      const be = backendOf(t);
      be.copyInto(t, be.fromArray(arrays[i]!, t.shape));
    }
    t.storage.version++;
  });
}

/**
 * A zero-filled state buffer shaped, typed and placed like `p` (`torch.zeros_like`), kept past
 * any enclosing `tg.scope()` (optimizer state outlives the step that creates it).
 */
export function stateZeros(p: Tensor): Tensor {
  // float32 CPU state lives in the wasm memory where it can, so the fused kernels update it in
  // place (no copies in and out each step).
  if (p.device === 'cpu' && p.dtype === 'float32') {
    const resident = allocResidentF32(p.numel());
    if (resident) return keep(Tensor.fromView(cpuBackend.fromArray(resident, p.shape)));
  }
  return keep(zerosLike(p));
}

/**
 * Move a float32 CPU parameter's elements into the wasm memory (same values, same storage
 * object, so views and detached aliases follow), so fused optimizer kernels and matmuls use it
 * in place. A no-op for other tensors, for parameters that share their buffer with other
 * storage, or when the runtime has no shared memory.
 * @example
 * makeResident(linear.weight); // optimizers call this for their float32 parameters
 */
export function makeResident(p: Tensor): void {
  if (p.device !== 'cpu') return;
  const st = p.storage;
  const data = st.data;
  if (!(data instanceof Float32Array) || data.length === 0) return;
  const rt = wasmRuntime();
  if (!rt || residentAddress(rt, data) !== null || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return;
  const resident = allocResidentF32(data.length);
  if (!resident) return;
  resident.set(data);
  // NOTE: Storage.data is readonly to kernels; swapping the array behind the storage is what
  // keeps every tensor that shares it (views, detach()) consistent.
  (st as { data: Float32Array }).data = resident;
}

/** A state buffer filled with `value`, shaped, typed and placed like `p` (kept, as `stateZeros`). */
export function stateFull(p: Tensor, value: number): Tensor {
  // Off the CPU, filled where it lives (WebGPU cannot read a buffer back synchronously).
  if (p.device !== 'cpu') return keep(fullLike(p, value));
  const t = stateZeros(p);
  if (value !== 0) writeFloats([t], (a) => a.fill(value));
  return t;
}

/** A flat array of `n` elements of `like`'s dtype (float32 or float64). */
export function floatArrayLike(like: Tensor, n: number): FloatArray {
  return like.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}
