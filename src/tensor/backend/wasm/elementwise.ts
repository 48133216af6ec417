/**
 * The JavaScript side of the elementwise and reduction kernels. Work goes through the wasm memory
 * in chunks of about 64 KiB per operand, so each chunk is copied in, computed and copied out
 * while it sits in cache: the copies cost little more than the kernel's own memory traffic.
 */
import { isContiguousLayout, numel } from '../../shape.js';
import type { BinaryOp, ReduceOp, UnaryOp, View } from '../backend.js';
import { WASM_BINARY, WASM_UNARY, type BinaryPattern, type WasmBinaryOp, type WasmUnaryOp } from './elementwise-kernels.js';
import { arenaOf, type WasmRuntime } from './runtime.js';

/** Elements per chunk (64 KiB of float32). */
const CHUNK = 16384;
/**
 * Below this many elements the plain TypeScript loop is as fast (measured: call and copy
 * overheads make wasm lose under ~512 elements; 1024 keeps a margin).
 * @example
 * tg.randn([32, 32]).exp(); // 1024 elements: the wasm kernel
 */
export const ELEMENTWISE_MIN = 1024;

const isUnary = (op: UnaryOp): op is WasmUnaryOp => (WASM_UNARY as readonly string[]).includes(op);
const isBinary = (op: BinaryOp): op is WasmBinaryOp => (WASM_BINARY as readonly string[]).includes(op);

function f32Data(x: View): Float32Array {
  return x.storage.data as Float32Array;
}

/**
 * `op(x)` for a dense float32 view, or null when the plain path should run (`force` skips the
 * size threshold, for tests).
 * @example
 * const y = unaryF32(wasmRuntime()!, 'exp', tg.randn([4096])); // Float32Array(4096)
 */
export function unaryF32(rt: WasmRuntime, op: UnaryOp, x: View, force = false): Float32Array | null {
  const n = numel(x.shape);
  if (!isUnary(op) || (!force && n < ELEMENTWISE_MIN) || !isContiguousLayout(x)) return null;
  const arena = arenaOf(rt);
  arena.reset();
  const len = Math.min(n, CHUNK);
  const src = arena.alloc(len * 4);
  const dst = arena.alloc(len * 4);
  const heap = arena.f32;
  const data = f32Data(x);
  const out = new Float32Array(n);
  const kernel = rt.kernels[`un_${op}`]!;
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    heap.set(data.subarray(x.offset + i, x.offset + i + c), src / 4);
    kernel(src, dst, c);
    out.set(heap.subarray(dst / 4, dst / 4 + c), i);
  }
  return out;
}

/**
 * `x <= threshold ? 0 : g` for dense float32 views of equal shape (relu's backward), or null when
 * the plain path should run.
 * @example
 * thresholdBackwardF32(rt, grad, reluOutput, 0); // Float32Array
 */
export function thresholdBackwardF32(rt: WasmRuntime, g: View, x: View, threshold: number, force = false): Float32Array | null {
  const n = numel(g.shape);
  if ((!force && n < ELEMENTWISE_MIN) || !isContiguousLayout(g) || !isContiguousLayout(x)) return null;
  const arena = arenaOf(rt);
  arena.reset();
  const len = Math.min(n, CHUNK);
  const [pg, px, pd] = [arena.alloc(len * 4), arena.alloc(len * 4), arena.alloc(len * 4)];
  const heap = arena.f32;
  const [gd, xd] = [f32Data(g), f32Data(x)];
  const out = new Float32Array(n);
  const kernel = rt.kernels['threshold_bwd']!;
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    heap.set(gd.subarray(g.offset + i, g.offset + i + c), pg / 4);
    heap.set(xd.subarray(x.offset + i, x.offset + i + c), px / 4);
    kernel(pg, px, pd, c, threshold);
    out.set(heap.subarray(pd / 4, pd / 4 + c), i);
  }
  return out;
}

/** A broadcast pattern found in two layouts: `swap` when the broadcast operand is `a`. */
interface Plan {
  readonly pattern: BinaryPattern;
  readonly swap: boolean;
  /** Rows and row length for the row/col patterns (n and 1 otherwise). */
  readonly rows: number;
  readonly len: number;
}

/**
 * Merge dims where both operands stay linear (dropping size-1 dims), then match the result
 * against the kernels' patterns: both dense, one a scalar, one a row or a column vector over a
 * dense [rows, len] other.
 */
function planBinary(a: View, b: View): Plan | null {
  const dims: [number, number, number][] = [];
  for (let d = 0; d < a.shape.length; d++) {
    const size = a.shape[d]!;
    if (size === 1) continue;
    const sa = a.strides[d]!;
    const sb = b.strides[d]!;
    const last = dims[dims.length - 1];
    if (last && last[1] === sa * size && last[2] === sb * size) {
      last[0] *= size;
      last[1] = sa;
      last[2] = sb;
    } else dims.push([size, sa, sb]);
  }
  const n = numel(a.shape);
  if (dims.length === 0) return { pattern: 'vv', swap: false, rows: n, len: 1 };
  const dense = (i: 1 | 2) => dims.length === 1 && dims[0]![i] === 1;
  const zero = (i: 1 | 2) => dims.every((d) => d[i] === 0);
  if (dense(1) && dense(2)) return { pattern: 'vv', swap: false, rows: n, len: 1 };
  if (dense(1) && zero(2)) return { pattern: 'vs', swap: false, rows: n, len: 1 };
  if (dense(2) && zero(1)) return { pattern: 'vs', swap: true, rows: n, len: 1 };
  if (dims.length !== 2) return null;
  const [[rows, ra, rb], [len, ca, cb]] = dims as [[number, number, number], [number, number, number]];
  for (const swap of [false, true]) {
    const [sr, sc, br, bc] = swap ? [rb, cb, ra, ca] : [ra, ca, rb, cb];
    if (sr !== len || sc !== 1) continue;
    if (br === 0 && bc === 1) return { pattern: 'row', swap, rows, len };
    if (br === 1 && bc === 0) return { pattern: 'col', swap, rows, len };
  }
  return null;
}

/**
 * `a op b` for float32 views of equal shape (broadcast operands carry stride 0), or null when
 * the plain path should run.
 * @example
 * const x = tg.randn([64, 512]);
 * binaryF32(rt, 'add', x, tg.randn([512]).expand([64, 512])); // the row-vector kernel
 */
export function binaryF32(rt: WasmRuntime, op: BinaryOp, a: View, b: View, force = false): Float32Array | null {
  const n = numel(a.shape);
  if (!isBinary(op) || (!force && n < ELEMENTWISE_MIN)) return null;
  const plan = planBinary(a, b);
  if (!plan) return null;
  const [full, other] = plan.swap ? [b, a] : [a, b];
  const fullData = f32Data(full);
  const otherData = f32Data(other);
  const arena = arenaOf(rt);
  arena.reset();
  const out = new Float32Array(n);
  const kernel = rt.kernels[`bin_${op}_${plan.pattern}${plan.swap && plan.pattern !== 'vv' ? '_swap' : ''}`]!;
  if (plan.pattern === 'vv' || plan.pattern === 'vs') {
    const c0 = Math.min(n, CHUNK);
    const pa = arena.alloc(c0 * 4);
    const pb = plan.pattern === 'vv' ? arena.alloc(c0 * 4) : 0;
    const pd = arena.alloc(c0 * 4);
    const heap = arena.f32;
    const scalar = otherData[other.offset]!;
    for (let i = 0; i < n; i += CHUNK) {
      const c = Math.min(CHUNK, n - i);
      heap.set(fullData.subarray(full.offset + i, full.offset + i + c), pa / 4);
      if (plan.pattern === 'vv') {
        heap.set(otherData.subarray(other.offset + i, other.offset + i + c), pb / 4);
        kernel(pa, pb, pd, c);
      } else kernel(pa, scalar, pd, c);
      out.set(heap.subarray(pd / 4, pd / 4 + c), i);
    }
    return out;
  }
  const { rows, len } = plan;
  const rowsPer = Math.max(1, Math.floor(CHUNK / len));
  const chunkRows = Math.min(rows, rowsPer);
  const pa = arena.alloc(chunkRows * len * 4);
  const pd = arena.alloc(chunkRows * len * 4);
  const vecLen = plan.pattern === 'row' ? len : chunkRows;
  const pb = arena.alloc(vecLen * 4);
  const heap = arena.f32;
  if (plan.pattern === 'row') heap.set(otherData.subarray(other.offset, other.offset + len), pb / 4);
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    const start = full.offset + r * len;
    heap.set(fullData.subarray(start, start + cr * len), pa / 4);
    if (plan.pattern === 'col') heap.set(otherData.subarray(other.offset + r, other.offset + r + cr), pb / 4);
    kernel(pa, pb, pd, cr, len);
    out.set(heap.subarray(pd / 4, pd / 4 + cr * len), r * len);
  }
  return out;
}

/**
 * `sum` or `max` of a dense float32 view over `axes` when they are its trailing dims (row
 * reductions, all dims included) or, for `sum`, its leading dims (column sums); else null.
 * @example
 * reduceF32(rt, 'sum', tg.randn([64, 512]), [0]); // column sums: Float32Array(512)
 */
export function reduceF32(rt: WasmRuntime, op: ReduceOp, x: View, axes: readonly number[], force = false): Float32Array | null {
  const n = numel(x.shape);
  if ((op !== 'sum' && op !== 'max') || (!force && n < ELEMENTWISE_MIN) || n === 0 || !isContiguousLayout(x)) return null;
  const rank = x.shape.length;
  const trailing = axes.every((d, i) => d === rank - axes.length + i);
  const leading = axes.every((d, i) => d === i);
  const reduced = axes.reduce((s, d) => s * x.shape[d]!, 1);
  const kept = n / reduced;
  const data = f32Data(x);
  const arena = arenaOf(rt);
  arena.reset();
  if (trailing) {
    const len = reduced;
    const rowsPer = Math.max(1, Math.floor(CHUNK / len));
    const px = arena.alloc(Math.min(kept, rowsPer) * len * 4);
    const po = arena.alloc(Math.min(kept, rowsPer) * 4);
    const heap = arena.f32;
    const out = new Float32Array(kept);
    const kernel = rt.kernels[op === 'sum' ? 'sum_rows' : 'max_rows']!;
    for (let r = 0; r < kept; r += rowsPer) {
      const cr = Math.min(rowsPer, kept - r);
      heap.set(data.subarray(x.offset + r * len, x.offset + (r + cr) * len), px / 4);
      kernel(px, po, cr, len);
      out.set(heap.subarray(po / 4, po / 4 + cr), r);
    }
    return out;
  }
  if (!leading || op !== 'sum') return null;
  const len = kept;
  const rows = reduced;
  const rowsPer = Math.max(1, Math.floor(CHUNK / len));
  const px = arena.alloc(Math.min(rows, rowsPer) * len * 4);
  const acc = arena.alloc((len + 4) * 8);
  const po = arena.alloc(len * 4);
  const heap = arena.f32;
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    heap.set(data.subarray(x.offset + r * len, x.offset + (r + cr) * len), px / 4);
    rt.kernels['sum_cols']!(px, acc, cr, len, r === 0 ? 1 : 0);
  }
  rt.kernels['cols_to_f32']!(acc, po, len);
  return heap.slice(po / 4, po / 4 + len);
}

/**
 * softmax or logSoftmax of a dense float32 view along its last dim, fused: per chunk of rows,
 * one kernel finds each row's max and Σ exp(x - max) and another writes the result, so the data
 * is read from memory once instead of once per composite step. Null for other dims.
 * @example
 * softmaxF32(rt, tg.randn([4096, 1000]), 1, true); // logSoftmax rows
 */
export function softmaxF32(rt: WasmRuntime, x: View, axis: number, log: boolean, force = false): Float32Array | null {
  const n = numel(x.shape);
  const len = x.shape[axis]!;
  if ((!force && n < ELEMENTWISE_MIN) || n === 0 || axis !== x.shape.length - 1 || !isContiguousLayout(x)) return null;
  const rows = n / len;
  const rowsPer = Math.max(1, Math.floor(CHUNK / len));
  const chunkRows = Math.min(rows, rowsPer);
  const arena = arenaOf(rt);
  arena.reset();
  const px = arena.alloc(chunkRows * len * 4);
  const po = arena.alloc(chunkRows * len * 4);
  const pShift = arena.alloc(chunkRows * 4);
  const pStat = arena.alloc(chunkRows * 4);
  const heap = arena.f32;
  const data = f32Data(x);
  const out = new Float32Array(n);
  const stats = rt.kernels['softmax_stats']!;
  const apply = rt.kernels[log ? 'log_softmax_apply' : 'softmax_apply']!;
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    heap.set(data.subarray(x.offset + r * len, x.offset + (r + cr) * len), px / 4);
    stats(px, pShift, pStat, cr, len);
    // log of the float32 sum in float64, rounded once, as the composite's log() does.
    if (log) for (let i = pStat / 4; i < pStat / 4 + cr; i++) heap[i] = Math.log(heap[i]!);
    apply(px, pShift, pStat, po, cr, len);
    out.set(heap.subarray(po / 4, po / 4 + cr * len), r * len);
  }
  return out;
}
