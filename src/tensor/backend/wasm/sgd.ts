/**
 * A fused SGD step over float32 arrays (torch.optim.SGD's single-tensor update in one pass over
 * memory). The SIMD kernel and the plain fallback compute the same float32 operations in the
 * same order, so they agree bit for bit.
 */
import { SGD_FLAGS } from './optim-kernels.js';
import { addressOrCopy, arenaOf, residentAddress, WasmOutOfMemory, wasmRuntime, type WasmRuntime } from './runtime.js';

/** Options of {@link sgdStepF32}; names follow `torch.optim.SGD`. */
export interface SGDStepOptions {
  readonly lr: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
  readonly maximize?: boolean;
  /** The momentum buffer is new: it becomes the gradient itself (PyTorch's `clone(d_p)`). */
  readonly first?: boolean;
}

const CHUNK = 16384;

interface SGDScalars {
  readonly gSign: number; readonly wd: number; readonly momentum: number; readonly omd: number; readonly negLr: number;
}

/**
 * One SGD step in place on `param` (and `buf`, the momentum buffer, when momentum is on),
 * following `torch.optim.SGD`'s single-tensor update with float32 arithmetic:
 *
 * ```
 * d = maximize ? -g : g;  if wd: d = d + wd·p
 * if momentum: buf = first ? d : buf·momentum + (1 - dampening)·d;  d = nesterov ? d + momentum·buf : buf
 * p = p - lr·d
 * ```
 * Runs on WebAssembly SIMD when available, else on an equivalent float32 loop.
 * @example
 * const p = new Float32Array([1, 2]), g = new Float32Array([0.5, -1]), buf = new Float32Array(2);
 * tg.sgdStepF32(p, g, buf, { lr: 0.1, momentum: 0.9, first: true }); // p = [0.95, 2.1]
 */
export function sgdStepF32(param: Float32Array, grad: Float32Array, buf: Float32Array | null, opts: SGDStepOptions): void {
  const n = param.length;
  const momentum = opts.momentum ?? 0;
  if (grad.length !== n) throw new RangeError(`sgdStepF32: grad has ${grad.length} elements but param has ${n}`);
  if (momentum !== 0 && (!buf || buf.length !== n)) {
    throw new RangeError(`sgdStepF32: momentum ${momentum} needs a momentum buffer of ${n} elements, got ${buf ? buf.length : 'none'}`);
  }
  const wd = opts.weightDecay ?? 0;
  const flags = (momentum !== 0 ? SGD_FLAGS.momentum : 0) | (opts.first ? SGD_FLAGS.first : 0)
    | (opts.nesterov ? SGD_FLAGS.nesterov : 0) | (wd !== 0 ? SGD_FLAGS.weightDecay : 0);
  // Scalars rounded to float32 once, as PyTorch casts a Python float `alpha` to the tensor's dtype.
  const f = Math.fround;
  const s: SGDScalars = { gSign: opts.maximize ? -1 : 1, wd: f(wd), momentum: f(momentum), omd: f(1 - (opts.dampening ?? 0)), negLr: f(-opts.lr) };
  const b = momentum !== 0 ? buf : null;
  const rt = wasmRuntime();
  if (!rt || !sgdWasm(rt, param, grad, b, s, flags)) sgdPlain(param, grad, b, s, flags);
}

/**
 * The SIMD path; false (nothing written) when out of memory. Arrays that live in the wasm memory
 * (resident parameters and state) are updated in place; others go through it in chunks.
 */
function sgdWasm(rt: WasmRuntime, param: Float32Array, grad: Float32Array, buf: Float32Array | null, s: SGDScalars, flags: number): boolean {
  const n = param.length;
  const arena = arenaOf(rt);
  arena.reset();
  const pAt = residentAddress(rt, param);
  const bAt = buf ? residentAddress(rt, buf) : 0;
  if (pAt !== null && bAt !== null) {
    const gAt = addressOrCopy(rt, grad);
    if (gAt === null) return false;
    // Whole vectors in place (a kernel never writes past an array's end), the tail in float32 JS.
    const n4 = n & ~3;
    rt.kernels['sgd']!(pAt, gAt, bAt, n4, s.gSign, s.wd, s.momentum, s.omd, s.negLr, flags);
    if (n4 < n) sgdPlain(param.subarray(n4), grad.subarray(n4), buf ? buf.subarray(n4) : null, s, flags);
    return true;
  }
  const len = Math.min(n, CHUNK);
  let pp: number, pg: number, pb: number;
  try {
    [pp, pg, pb] = [arena.alloc(len * 4), arena.alloc(len * 4), buf ? arena.alloc(len * 4) : 0];
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return false;
    throw e;
  }
  const heap = arena.f32;
  const kernel = rt.kernels['sgd']!;
  const readBuf = buf !== null && (flags & SGD_FLAGS.first) === 0;
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    heap.set(param.subarray(i, i + c), pp / 4);
    heap.set(grad.subarray(i, i + c), pg / 4);
    if (readBuf) heap.set(buf.subarray(i, i + c), pb / 4);
    kernel(pp, pg, pb, c, s.gSign, s.wd, s.momentum, s.omd, s.negLr, flags);
    param.set(heap.subarray(pp / 4, pp / 4 + c), i);
    if (buf) buf.set(heap.subarray(pb / 4, pb / 4 + c), i);
  }
  return true;
}

/** The same update as the SIMD kernel, one float32 operation at a time (Math.fround after each). */
function sgdPlain(p: Float32Array, g: Float32Array, buf: Float32Array | null, s: SGDScalars, flags: number): void {
  const f = Math.fround;
  const { gSign, wd, momentum, omd, negLr } = s;
  const first = (flags & SGD_FLAGS.first) !== 0;
  const nesterov = (flags & SGD_FLAGS.nesterov) !== 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    let d = f(g[i]! * gSign);
    if (wd !== 0) d = f(d + f(pi * wd));
    if (buf) {
      const b = first ? d : f(f(buf[i]! * momentum) + f(d * omd));
      buf[i] = b;
      d = nesterov ? f(d + f(b * momentum)) : b;
    }
    p[i] = f(pi + f(d * negLr));
  }
}
