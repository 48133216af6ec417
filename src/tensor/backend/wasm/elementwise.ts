/**
 * The JavaScript side of the elementwise and reduction kernels. Work goes through the wasm memory
 * in chunks of about 64 KiB per operand, so each chunk is copied in, computed and copied out
 * while it sits in cache: the copies cost little more than the kernel's own memory traffic.
 */
import { isContiguousLayout, numel } from '../../shape.js';
import type { BinaryOp, ReduceOp, UnaryOp, View } from '../backend.js';
import { WASM_BINARY, WASM_UNARY, type BinaryPattern, type WasmBinaryOp, type WasmUnaryOp } from './elementwise-kernels.js';
import { scopedF32 } from './resident-storage.js';
import { arenaOf, residentAddress, type WasmRuntime } from './runtime.js';
import { getNumThreads, runParallel, threadsFor, type Job } from './threads.js';

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
 * Per-thread elements below which a resident elementwise job stays on the calling thread (waking
 * a worker costs tens of microseconds; a SIMD pass over 128K floats takes about as long).
 * @example
 * tg.setNumThreads(2);
 * tg.scope(() => big.relu()); // 1M resident floats: two halves
 */
export const ELEMENTWISE_MIN_PER_THREAD = 1 << 17;

/**
 * Run kernel `fn` over `total` units (elements, or rows) of resident operands, split into bands
 * over the thread pool when the job is large enough; `args(start, count)` builds a band's i32
 * arguments. Bands start at multiples of `align` units, so whole-vector writes never cross into
 * a neighbour's band.
 */
function runSplit(rt: WasmRuntime, fn: string, total: number, elementsPerUnit: number, align: number, args: (start: number, count: number) => number[]): void {
  const want = Math.min(getNumThreads(), Math.floor((total * elementsPerUnit) / ELEMENTWISE_MIN_PER_THREAD));
  const threads = want > 1 ? Math.min(want, threadsFor(rt)) : 1;
  if (threads <= 1) {
    rt.kernels[fn]!(...args(0, total));
    return;
  }
  const band = Math.ceil(total / threads / align) * align;
  const jobs: Job[] = [];
  for (let start = 0; start < total; start += band) jobs.push({ fn, args: args(start, Math.min(band, total - start)) });
  runParallel(rt, jobs);
}

/** Byte address of element `x.offset` when x's storage lives in the wasm memory, else null. */
function residentAt(rt: WasmRuntime, x: View): number | null {
  const at = residentAddress(rt, f32Data(x));
  return at === null ? null : at + x.offset * 4;
}

/**
 * Where a kernel reads `c` elements of `data` starting at element `i`: in place when resident
 * (`at` is its address), else copied into the arena block `scratch`.
 */
function input(heap: Float32Array, data: Float32Array, at: number | null, start: number, i: number, c: number, scratch: number): number {
  if (at !== null) return at + i * 4;
  heap.set(data.subarray(start + i, start + i + c), scratch / 4);
  return scratch;
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
  const xAt = residentAt(rt, x);
  const out = scopedF32(n, 16);
  const outAt = residentAddress(rt, out);
  const kernel = rt.kernels[`un_${op}`]!;
  if (xAt !== null && outAt !== null) {
    runSplit(rt, `un_${op}`, n, 1, 4, (i, c) => [xAt + i * 4, outAt + i * 4, c]);
    return out;
  }
  const len = Math.min(n, CHUNK);
  const src = xAt === null ? arena.alloc(len * 4) : 0;
  const dst = outAt === null ? arena.alloc(len * 4) : 0;
  const heap = arena.f32;
  const data = f32Data(x);
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    const from = input(heap, data, xAt, x.offset, i, c, src);
    kernel(from, outAt === null ? dst : outAt + i * 4, c);
    if (outAt === null) out.set(heap.subarray(dst / 4, dst / 4 + c), i);
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
  const [gAt, xAt] = [residentAt(rt, g), residentAt(rt, x)];
  const out = scopedF32(n, 16);
  const outAt = residentAddress(rt, out);
  const kernel = rt.kernels['threshold_bwd']!;
  if (gAt !== null && xAt !== null && outAt !== null) {
    // Workers take i32 arguments: an integer threshold (relu's 0) converts exactly.
    if (Number.isInteger(threshold) && Math.abs(threshold) < 2 ** 31) {
      runSplit(rt, 'threshold_bwd', n, 1, 4, (i, c) => [gAt + i * 4, xAt + i * 4, outAt + i * 4, c, threshold]);
    } else kernel(gAt, xAt, outAt, n, threshold);
    return out;
  }
  const len = Math.min(n, CHUNK);
  const pg = gAt === null ? arena.alloc(len * 4) : 0;
  const px = xAt === null ? arena.alloc(len * 4) : 0;
  const pd = outAt === null ? arena.alloc(len * 4) : 0;
  const heap = arena.f32;
  const [gd, xd] = [f32Data(g), f32Data(x)];
  for (let i = 0; i < n; i += CHUNK) {
    const c = Math.min(CHUNK, n - i);
    const a = input(heap, gd, gAt, g.offset, i, c, pg);
    const b = input(heap, xd, xAt, x.offset, i, c, px);
    kernel(a, b, outAt === null ? pd : outAt + i * 4, c, threshold);
    if (outAt === null) out.set(heap.subarray(pd / 4, pd / 4 + c), i);
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
  const out = scopedF32(n, 16);
  const outAt = residentAddress(rt, out);
  const [fullAt, otherAt] = [residentAt(rt, full), residentAt(rt, other)];
  const name = `bin_${op}_${plan.pattern}${plan.swap && plan.pattern !== 'vv' ? '_swap' : ''}`;
  const kernel = rt.kernels[name]!;
  if (plan.pattern === 'vv' || plan.pattern === 'vs') {
    const vv = plan.pattern === 'vv';
    const scalar = otherData[other.offset]!;
    if (fullAt !== null && outAt !== null && (!vv || otherAt !== null)) {
      if (vv) runSplit(rt, name, n, 1, 4, (i, c) => [fullAt + i * 4, otherAt! + i * 4, outAt + i * 4, c]);
      else kernel(fullAt, scalar, outAt, n);
      return out;
    }
    const c0 = Math.min(n, CHUNK);
    const pa = fullAt === null ? arena.alloc(c0 * 4) : 0;
    const pb = vv && otherAt === null ? arena.alloc(c0 * 4) : 0;
    const pd = outAt === null ? arena.alloc(c0 * 4) : 0;
    const heap = arena.f32;
    for (let i = 0; i < n; i += CHUNK) {
      const c = Math.min(CHUNK, n - i);
      const x = input(heap, fullData, fullAt, full.offset, i, c, pa);
      const dst = outAt === null ? pd : outAt + i * 4;
      if (vv) kernel(x, input(heap, otherData, otherAt, other.offset, i, c, pb), dst, c);
      else kernel(x, scalar, dst, c);
      if (outAt === null) out.set(heap.subarray(pd / 4, pd / 4 + c), i);
    }
    return out;
  }
  const { rows, len } = plan;
  const row = plan.pattern === 'row';
  if (fullAt !== null && outAt !== null) {
    // The broadcast vector is small: copied in when it is not resident itself.
    let vecAt = otherAt;
    if (vecAt === null) {
      const count = row ? len : rows;
      vecAt = arena.alloc(count * 4);
      arena.f32.set(otherData.subarray(other.offset, other.offset + count), vecAt / 4);
    }
    const v = vecAt;
    // NOTE: rows overrun their end by up to 3 floats; bands run concurrently, so split only when
    // rows are whole vectors.
    if (len % 4 === 0) runSplit(rt, name, rows, len, 1, (r, cr) => [fullAt + r * len * 4, row ? v : v + r * 4, outAt + r * len * 4, cr, len]);
    else kernel(fullAt, v, outAt, rows, len);
    return out;
  }
  const rowsPer = Math.max(1, Math.floor(CHUNK / len));
  const chunkRows = Math.min(rows, rowsPer);
  const pa = fullAt === null ? arena.alloc(chunkRows * len * 4) : 0;
  const pd = outAt === null ? arena.alloc(chunkRows * len * 4) : 0;
  const pb = otherAt === null ? arena.alloc((row ? len : chunkRows) * 4) : 0;
  const heap = arena.f32;
  if (row && otherAt === null) heap.set(otherData.subarray(other.offset, other.offset + len), pb / 4);
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    const x = input(heap, fullData, fullAt, full.offset, r * len, cr * len, pa);
    const vec = row ? (otherAt ?? pb) : input(heap, otherData, otherAt, other.offset, r, cr, pb);
    // NOTE: rows written in place overrun a row's end into the next row (rewritten after), and
    // past the last row into the output's slack.
    kernel(x, vec, outAt === null ? pd : outAt + r * len * 4, cr, len);
    if (outAt === null) out.set(heap.subarray(pd / 4, pd / 4 + cr * len), r * len);
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
  // A resident input is read in place, in one pass.
  const xAt = residentAt(rt, x);
  if (trailing) {
    const len = reduced;
    const rowsPer = xAt === null ? Math.max(1, Math.floor(CHUNK / len)) : kept;
    const px = xAt === null ? arena.alloc(Math.min(kept, rowsPer) * len * 4) : 0;
    const po = arena.alloc(Math.min(kept, rowsPer) * 4);
    const heap = arena.f32;
    const out = scopedF32(kept);
    const kernel = rt.kernels[op === 'sum' ? 'sum_rows' : 'max_rows']!;
    for (let r = 0; r < kept; r += rowsPer) {
      const cr = Math.min(rowsPer, kept - r);
      kernel(input(heap, data, xAt, x.offset, r * len, cr * len, px), po, cr, len);
      out.set(heap.subarray(po / 4, po / 4 + cr), r);
    }
    return out;
  }
  if (!leading || op !== 'sum') return null;
  const len = kept;
  const rows = reduced;
  const rowsPer = xAt === null ? Math.max(1, Math.floor(CHUNK / len)) : rows;
  const px = xAt === null ? arena.alloc(Math.min(rows, rowsPer) * len * 4) : 0;
  const acc = arena.alloc((len + 4) * 8);
  const po = arena.alloc(len * 4);
  const heap = arena.f32;
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    rt.kernels['sum_cols']!(input(heap, data, xAt, x.offset, r * len, cr * len, px), acc, cr, len, r === 0 ? 1 : 0);
  }
  rt.kernels['cols_to_f32']!(acc, po, len);
  const out = scopedF32(len);
  out.set(arena.f32.subarray(po / 4, po / 4 + len));
  return out;
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
  const xAt = residentAt(rt, x);
  const out = scopedF32(n, 16);
  const outAt = residentAddress(rt, out);
  const px = xAt === null ? arena.alloc(chunkRows * len * 4) : 0;
  const po = outAt === null ? arena.alloc(chunkRows * len * 4) : 0;
  const pShift = arena.alloc(chunkRows * 4);
  const pStat = arena.alloc(chunkRows * 4);
  const heap = arena.f32;
  const data = f32Data(x);
  const stats = rt.kernels['softmax_stats']!;
  const apply = rt.kernels[log ? 'log_softmax_apply' : 'softmax_apply']!;
  for (let r = 0; r < rows; r += rowsPer) {
    const cr = Math.min(rowsPer, rows - r);
    const src = input(heap, data, xAt, x.offset, r * len, cr * len, px);
    stats(src, pShift, pStat, cr, len);
    // log of the float32 sum in float64, rounded once, as the composite's log() does.
    if (log) for (let i = pStat / 4; i < pStat / 4 + cr; i++) heap[i] = Math.log(heap[i]!);
    apply(src, pShift, pStat, outAt === null ? po : outAt + r * len * 4, cr, len);
    if (outAt === null) out.set(heap.subarray(po / 4, po / 4 + cr * len), r * len);
  }
  return out;
}
