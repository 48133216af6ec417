/**
 * A fused Adam/AdamW step over float32 arrays, for optimizers that want one pass over memory
 * instead of a dozen tensor ops. The SIMD kernel and the plain fallback compute the same float32
 * operations in the same order (torch.optim.Adam's single-tensor path), so they agree bit for bit.
 */
import { addressOrCopy, arenaOf, residentAddress, WasmOutOfMemory, wasmRuntime, type WasmRuntime } from './runtime.js';

/** Options of {@link adamStepF32}; names follow `torch.optim.Adam`. */
export interface AdamStepOptions {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** The step count after this update (1 on the first call), for the bias corrections. */
  readonly step: number;
  readonly weightDecay?: number;
  /** AdamW: decay the weights by `lr·weightDecay` instead of adding `weightDecay·p` to the gradient. */
  readonly decoupledWeightDecay?: boolean;
  readonly maximize?: boolean;
  /** AMSGrad's running max of `expAvgSq`, updated in place (required when amsgrad is wanted). */
  readonly maxExpAvgSq?: Float32Array;
}

const CHUNK = 16384;

/**
 * One Adam (or AdamW, or AMSGrad) step, in place on `param`, `expAvg` and `expAvgSq` (and
 * `maxExpAvgSq`), following `torch.optim.Adam`'s single-tensor update:
 *
 * ```
 * g = maximize ? -grad : grad;  if wd (Adam): g += wd·p;  if wd (AdamW): p *= 1 - lr·wd
 * m += (g - m)·(1 - β1);  v = v·β2 + (1 - β2)·g·g;  (AMSGrad: vmax = max(vmax, v), used for v)
 * p -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps)
 * ```
 * Runs on WebAssembly SIMD when available, else on an equivalent float32 loop.
 * @example
 * const p = new Float32Array([1, 2]), g = new Float32Array([0.1, -0.2]);
 * const m = new Float32Array(2), v = new Float32Array(2);
 * tg.adamStepF32(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
 */
export function adamStepF32(param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, opts: AdamStepOptions): void {
  const n = param.length;
  const vmax = opts.maxExpAvgSq;
  for (const [name, a] of [['grad', grad], ['expAvg', expAvg], ['expAvgSq', expAvgSq], ['maxExpAvgSq', vmax ?? param]] as const) {
    if (a.length !== n) throw new RangeError(`adamStepF32: ${name} has ${a.length} elements but param has ${n}`);
  }
  const wd = opts.weightDecay ?? 0;
  const decoupled = wd !== 0 && opts.decoupledWeightDecay === true;
  const coupled = wd !== 0 && !decoupled;
  // Scalars in float64 first, as PyTorch computes them in Python, then rounded to float32.
  const s = {
    omb1: 1 - opts.beta1,
    beta2: opts.beta2,
    omb2: 1 - opts.beta2,
    wd,
    decay: 1 - opts.lr * wd,
    stepSize: opts.lr / (1 - opts.beta1 ** opts.step),
    bc2Sqrt: Math.sqrt(1 - opts.beta2 ** opts.step),
    eps: opts.eps,
    gSign: opts.maximize ? -1 : 1,
  };
  const flags = (vmax ? 1 : 0) | (decoupled ? 2 : 0) | (coupled ? 4 : 0);
  const rt = wasmRuntime();
  if (!rt || !adamWasm(rt, param, grad, expAvg, expAvgSq, vmax, s, flags)) adamPlain(param, grad, expAvg, expAvgSq, vmax, s, flags);
}

/** The SIMD path, chunk by chunk through the wasm memory; false (nothing written) when out of memory. */
function adamWasm(rt: WasmRuntime, param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, vmax: Float32Array | undefined, s: AdamScalars, flags: number): boolean {
  const n = param.length;
  const arena = arenaOf(rt);
  arena.reset();
  // Resident parameters and state (in the wasm memory) are updated in place: only the gradient
  // is copied in, whole vectors run in SIMD and the tail in the equivalent float32 loop.
  const resident = [param, expAvg, expAvgSq, vmax ?? param].map((a) => residentAddress(rt, a));
  if (resident.every((a) => a !== null)) {
    const [pp, pm, pv, px] = resident as [number, number, number, number];
    const pg = addressOrCopy(rt, grad);
    if (pg === null) return false;
    const n4 = n & ~3;
    rt.kernels['adam']!(pp, pg, pm, pv, vmax ? px : 0, n4, s.omb1, s.beta2, s.omb2, s.wd, s.decay, s.stepSize, s.bc2Sqrt, s.eps, s.gSign, flags);
    if (n4 < n) adamPlain(param.subarray(n4), grad.subarray(n4), expAvg.subarray(n4), expAvgSq.subarray(n4), vmax?.subarray(n4), s, flags);
    return true;
  }
  const len = Math.min(n, CHUNK);
  let at: number[];
  try {
    at = Array.from({ length: vmax ? 5 : 4 }, () => arena.alloc(len * 4));
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return false;
    throw e;
  }
  const [pp, pg, pm, pv, px = 0] = at as [number, number, number, number, number?];
  const heap = arena.f32;
  const kernel = rt.kernels['adam']!;
  const bufs: [Float32Array, number][] = [[param, pp], [grad, pg], [expAvg, pm], [expAvgSq, pv]];
  if (vmax) bufs.push([vmax, px]);
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    for (const [a, p] of bufs) heap.set(a.subarray(i, i + c), p / 4);
    kernel(pp, pg, pm, pv, px, c, s.omb1, s.beta2, s.omb2, s.wd, s.decay, s.stepSize, s.bc2Sqrt, s.eps, s.gSign, flags);
    for (const [a, p] of bufs) if (a !== grad) a.set(heap.subarray(p / 4, p / 4 + c), i);
  }
  return true;
}

interface AdamScalars {
  readonly omb1: number; readonly beta2: number; readonly omb2: number; readonly wd: number; readonly decay: number;
  readonly stepSize: number; readonly bc2Sqrt: number; readonly eps: number; readonly gSign: number;
}

/** The same update as the SIMD kernel, one float32 operation at a time (Math.fround after each). */
function adamPlain(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | undefined, s: AdamScalars, flags: number): void {
  const f = Math.fround;
  const [omb1, beta2, omb2, wd, decay, stepSize, bc2Sqrt, eps] = [s.omb1, s.beta2, s.omb2, s.wd, s.decay, s.stepSize, s.bc2Sqrt, s.eps].map(f) as [number, number, number, number, number, number, number, number];
  for (let i = 0; i < p.length; i++) {
    let gi = f(g[i]! * s.gSign);
    let pi = p[i]!;
    if (flags & 4) gi = f(gi + f(pi * wd));
    if (flags & 2) pi = f(pi * decay);
    const mi = f(m[i]! + f(f(gi - m[i]!) * omb1));
    let vi = f(f(v[i]! * beta2) + f(f(omb2 * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    if (vmax) {
      vi = Math.max(vmax[i]!, vi);
      vmax[i] = vi;
    }
    const den = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + eps);
    p[i] = f(pi - f(stepSize * f(mi / den)));
  }
}
