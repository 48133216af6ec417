/**
 * The fast CPU path: WebAssembly SIMD kernels generated from TypeScript at run time (see
 * `emit.ts`), used by the CPU backend for large float32 work. Each `wasm*` hook returns the
 * result's elements, or null when the plain TypeScript kernel should run (wasm off or missing,
 * not float32, too small, or a layout the kernels do not cover).
 *
 * Routed today (float32 only; float64 stays on the exact plain path):
 * - matmul with any strides and batch broadcasting, m·n·k >= {@link GEMM_MIN_WORK};
 * - unary neg/abs/sqrt/square/reciprocal/relu/exp/sigmoid and binary add/sub/mul/div on dense
 *   operands (plus scalar, row-vector and column-vector broadcasts), >= {@link ELEMENTWISE_MIN}
 *   elements;
 * - sum and max over trailing dims, and sum over leading dims, of dense tensors;
 * - softmax and logSoftmax along the last dim of dense tensors, fused (one read of the input);
 * - relu's backward (threshold_backward) on dense operands.
 */
import type { DType } from '../../dtype.js';
import type { BinaryOp, ReduceOp, UnaryOp, View } from '../backend.js';
import { binaryF32, reduceF32, softmaxF32, thresholdBackwardF32, unaryF32 } from './elementwise.js';
import { matmulF32 } from './gemm.js';
import { WasmOutOfMemory, wasmRuntime, type WasmRuntime } from './runtime.js';

export { setWasmEnabled, isWasmEnabled } from './runtime.js';
export { setNumThreads, getNumThreads, threadsReady } from './threads.js';
export { adamStepF32, type AdamStepOptions } from './adam.js';
export { sgdStepF32, type SGDStepOptions } from './sgd.js';
export { GEMM_MIN_WORK, GEMM_MIN_WORK_PER_THREAD } from './gemm.js';
export { ELEMENTWISE_MIN } from './elementwise.js';

/**
 * `a @ b` (batched, equal batch shapes) on wasm, or null: the CPU backend's matmul hook.
 * @example
 * const out = wasmMatmul(a, b) ?? plainMatmul(a, b);
 */
export function wasmMatmul(a: View, b: View): Float32Array | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => matmulF32(r, a, b));
}

/**
 * `op(x)` on wasm for float32 in and out, or null: the CPU backend's unary hook.
 * @example
 * wasmUnary('exp', x, 'float32'); // Float32Array, or null for small/strided/float64 input
 */
export function wasmUnary(op: UnaryOp, x: View, outDtype: DType): Float32Array | null {
  if (x.dtype !== 'float32' || outDtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => unaryF32(r, op, x));
}

/**
 * `a op b` on wasm for float32 in and out, or null: the CPU backend's binary hook.
 * @example
 * wasmBinary('add', a, b, 'float32');
 */
export function wasmBinary(op: BinaryOp, a: View, b: View, outDtype: DType): Float32Array | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || outDtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => binaryF32(r, op, a, b));
}

/**
 * A sum or max reduction on wasm for float32 in and out, or null: the CPU backend's reduce hook.
 * @example
 * wasmReduce('sum', x, [1], 'float32'); // row sums of a dense [rows, cols] tensor
 */
export function wasmReduce(op: ReduceOp, x: View, axes: readonly number[], outDtype: DType): Float32Array | null {
  if (x.dtype !== 'float32' || outDtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => reduceF32(r, op, x, axes));
}

/**
 * softmax (or logSoftmax when `log`) along `axis` on wasm for float32, or null: the CPU backend's
 * optional `softmax` method.
 * @example
 * wasmSoftmax(x, x.shape.length - 1, true); // logSoftmax over the last dim
 */
export function wasmSoftmax(x: View, axis: number, log: boolean): Float32Array | null {
  if (x.dtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => softmaxF32(r, x, axis, log));
}

/**
 * relu's backward (`x <= threshold ? 0 : g`) on wasm for float32, or null: the CPU backend's
 * optional `thresholdBackward` method.
 * @example
 * wasmThresholdBackward(grad, out, 0);
 */
export function wasmThresholdBackward(g: View, x: View, threshold: number): Float32Array | null {
  if (g.dtype !== 'float32' || x.dtype !== 'float32') return null;
  const rt = wasmRuntime();
  return guarded(rt, (r) => thresholdBackwardF32(r, g, x, threshold));
}

/** Run a wasm driver, or return null (plain path) when the runtime is missing or out of memory. */
function guarded(rt: WasmRuntime | null, run: (rt: WasmRuntime) => Float32Array | null): Float32Array | null {
  if (!rt) return null;
  try {
    return run(rt);
  } catch (e) {
    if (e instanceof WasmOutOfMemory) return null;
    throw e;
  }
}
