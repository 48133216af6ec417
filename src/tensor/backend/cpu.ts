/**
 * The reference CPU backend: TypedArray kernels written as tables (one line per op) over a
 * contiguous fast path and a generic strided path.
 */
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { contiguousStrides, isContiguousLayout, layoutOffsets, numel, type Layout } from '../shape.js';
import type { ArgReduceOp, Backend, BinaryOp, ReduceOp, Storage, UnaryOp, View } from './backend.js';
import { adoptScoped } from './wasm/resident-storage.js';
import { wasmBinary, wasmMatmul, wasmReduce, wasmSoftmax, wasmThresholdBackward, wasmUnary } from './wasm/index.js';

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

/** Round half to even, as torch.round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const UNARY: Record<UnaryOp, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), // NaN -> 0, as PyTorch 1.13's (0 < x) - (x < 0)
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  // NOTE: split by sign so exp never overflows.
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x),
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  logicalNot: (x) => (x === 0 ? 1 : 0),
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
  isfinite: (x) => (Number.isFinite(x) ? 1 : 0),
};

export const BINARY: Record<BinaryOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  // NaN propagates, as in torch.maximum.
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  atan2: Math.atan2,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** Integer semantics PyTorch uses for int tensors where JS numbers would differ. */
const INT_BINARY: Partial<Record<BinaryOp, Fn2>> = {
  mul: (a, b) => Math.imul(a, b),
  pow: (a, b) => (b < 0 ? (a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0) : Math.pow(a, b) | 0),
};

export function newStorage(data: TypedArray): Storage {
  // A kernel result placed in WebAssembly memory inside a tg.scope() gets counted storage.
  return adoptScoped(data) ?? { data, device: 'cpu', version: 0 };
}

function makeView(data: TypedArray, shape: readonly number[], dtype: DType): View {
  return { storage: newStorage(data), shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype };
}

/** True when the view covers a dense run of storage starting at `offset` in row-major order. */
function dense(x: Layout): boolean {
  return isContiguousLayout(x);
}

function read(x: View): TypedArray {
  const n = numel(x.shape);
  const src = x.storage.data;
  if (dense(x)) return src.slice(x.offset, x.offset + n);
  const out = allocArray(x.dtype, n);
  const offs = layoutOffsets(x);
  for (let i = 0; i < n; i++) out[i] = src[offs[i]!]!;
  return out;
}

function unary(op: UnaryOp, x: View, outDtype: DType): View {
  const fast = wasmUnary(op, x, outDtype);
  if (fast) return makeView(fast, x.shape, outDtype);
  const f = UNARY[op];
  const n = numel(x.shape);
  const out = allocArray(outDtype, n);
  const src = x.storage.data;
  if (dense(x)) {
    const o = x.offset;
    for (let i = 0; i < n; i++) out[i] = f(src[o + i]!);
  } else {
    const offs = layoutOffsets(x);
    for (let i = 0; i < n; i++) out[i] = f(src[offs[i]!]!);
  }
  return makeView(out, x.shape, outDtype);
}

function binary(op: BinaryOp, a: View, b: View, outDtype: DType): View {
  const fast = wasmBinary(op, a, b, outDtype);
  if (fast) return makeView(fast, a.shape, outDtype);
  const f = (a.dtype === 'int32' && outDtype === 'int32' && INT_BINARY[op]) || BINARY[op];
  const n = numel(a.shape);
  const out = allocArray(outDtype, n);
  const ad = a.storage.data;
  const bd = b.storage.data;
  const aDense = dense(a);
  const bDense = dense(b);
  if (aDense && bDense) {
    const oa = a.offset;
    const ob = b.offset;
    for (let i = 0; i < n; i++) out[i] = f(ad[oa + i]!, bd[ob + i]!);
  } else if (aDense && b.strides.every((s) => s === 0)) {
    const oa = a.offset;
    const s = bd[b.offset]!;
    for (let i = 0; i < n; i++) out[i] = f(ad[oa + i]!, s);
  } else if (bDense && a.strides.every((s) => s === 0)) {
    const ob = b.offset;
    const s = ad[a.offset]!;
    for (let i = 0; i < n; i++) out[i] = f(s, bd[ob + i]!);
  } else {
    forEachRow([a, b], (ia, ib, sa, sb, len, o) => {
      for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = f(ad[ia]!, bd[ib]!);
    });
  }
  return makeView(out, a.shape, outDtype);
}

/**
 * Walk equal-shaped strided views row by row (the last dim), without building offset arrays:
 * `row(offsets..., lastStrides..., rowLength, outputOffset)`. Broadcast views (stride 0) cost
 * nothing extra, so `[N, C, H, W] + [1, C, 1, 1]` runs at the speed of its inner loop.
 */
function forEachRow(views: readonly [View, View], row: (ia: number, ib: number, sa: number, sb: number, len: number, o: number) => void): void;
function forEachRow(views: readonly [View, View, View], row: (ia: number, ib: number, ic: number, sa: number, sb: number, sc: number, len: number, o: number) => void): void;
function forEachRow(views: readonly View[], row: (...args: number[]) => void): void {
  const shape = views[0]!.shape;
  const rank = shape.length;
  const n = numel(shape);
  if (n === 0) return;
  const len = rank === 0 ? 1 : shape[rank - 1]!;
  const last = views.map((v) => (rank === 0 ? 0 : v.strides[rank - 1]!));
  const offs = views.map((v) => v.offset);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let o = 0; o < n; o += len) {
    row(...offs, ...last, len, o);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < views.length; k++) offs[k] = offs[k]! + views[k]!.strides[d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < views.length; k++) offs[k] = offs[k]! - views[k]!.strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function where(cond: View, a: View, b: View): View {
  const out = allocArray(a.dtype, numel(a.shape));
  const [c, ad, bd] = [cond.storage.data, a.storage.data, b.storage.data];
  forEachRow([cond, a, b], (ic, ia, ib, sc, sa, sb, len, o) => {
    for (let j = 0; j < len; j++, ic += sc, ia += sa, ib += sb) out[o + j] = c[ic] ? ad[ia]! : bd[ib]!;
  });
  return makeView(out, a.shape, a.dtype);
}

/** Permute `axes` to the back and return per-output-element chunks of storage offsets. */
function reductionPlan(x: View, axes: readonly number[]): { outShape: number[]; groups: number; size: number; offs: Int32Array } {
  const rank = x.shape.length;
  const keep: number[] = [];
  for (let d = 0; d < rank; d++) if (!axes.includes(d)) keep.push(d);
  const order = [...keep, ...axes];
  const permuted: Layout = { shape: order.map((d) => x.shape[d]!), strides: order.map((d) => x.strides[d]!), offset: x.offset };
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  let size = 1;
  for (const a of axes) size *= x.shape[a]!;
  return { outShape, groups: numel(outShape), size, offs: layoutOffsets(permuted) };
}

function reduce(op: ReduceOp, x: View, axes: readonly number[], outDtype: DType): View {
  const fast = wasmReduce(op, x, axes, outDtype);
  if (fast) return makeView(fast, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), outDtype);
  const { outShape, groups, size, offs } = reductionPlan(x, axes);
  const out = allocArray(outDtype, groups);
  const src = x.storage.data;
  for (let g = 0, p = 0; g < groups; g++) {
    let acc: number;
    switch (op) {
      case 'sum': {
        acc = 0;
        for (let j = 0; j < size; j++) acc += src[offs[p++]!]!;
        break;
      }
      case 'prod': {
        acc = 1;
        for (let j = 0; j < size; j++) acc *= src[offs[p++]!]!;
        break;
      }
      case 'max': {
        acc = -Infinity;
        for (let j = 0; j < size; j++) {
          const v = src[offs[p++]!]!;
          if (v > acc || v !== v) acc = v;
          if (acc !== acc) { p += size - j - 1; break; }
        }
        break;
      }
      case 'min': {
        acc = Infinity;
        for (let j = 0; j < size; j++) {
          const v = src[offs[p++]!]!;
          if (v < acc || v !== v) acc = v;
          if (acc !== acc) { p += size - j - 1; break; }
        }
        break;
      }
      case 'all': {
        acc = 1;
        for (let j = 0; j < size; j++) if (src[offs[p++]!] === 0) acc = 0;
        break;
      }
      case 'any': {
        acc = 0;
        for (let j = 0; j < size; j++) if (src[offs[p++]!] !== 0) acc = 1;
        break;
      }
    }
    out[g] = acc;
  }
  return makeView(out, outShape, outDtype);
}

function argReduce(op: ArgReduceOp, x: View, axis: number): View {
  const { outShape, groups, size, offs } = reductionPlan(x, [axis]);
  const out = new Int32Array(groups);
  const src = x.storage.data;
  const better = op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let g = 0, p = 0; g < groups; g++) {
    let best = src[offs[p]!]!;
    let bi = 0;
    for (let j = 0; j < size; j++) {
      const v = src[offs[p + j]!]!;
      if (best !== best) break; // NaN is the extreme, as in PyTorch
      if (v !== v || better(v, best)) { best = v; bi = j; }
    }
    p += size;
    out[g] = bi;
  }
  return makeView(out, outShape, 'int32');
}

function matmul(a: View, b: View): View {
  const rank = a.shape.length;
  const fast = wasmMatmul(a, b);
  if (fast) return makeView(fast, [...a.shape.slice(0, rank - 2), a.shape[rank - 2]!, b.shape[rank - 1]!], a.dtype);
  const m = a.shape[rank - 2]!;
  const k = a.shape[rank - 1]!;
  const n = b.shape[rank - 1]!;
  const batchShape = a.shape.slice(0, rank - 2);
  const batch = numel(batchShape);
  const out = allocArray(a.dtype, batch * m * n);
  const A = a.storage.data;
  const B = b.storage.data;
  const aBatch = layoutOffsets({ shape: batchShape, strides: a.strides.slice(0, rank - 2), offset: a.offset });
  const bBatch = layoutOffsets({ shape: batchShape, strides: b.strides.slice(0, rank - 2), offset: b.offset });
  const [asi, ask] = [a.strides[rank - 2]!, a.strides[rank - 1]!];
  const [bsk, bsn] = [b.strides[rank - 2]!, b.strides[rank - 1]!];
  const acc = new Float64Array(n);
  for (let t = 0; t < batch; t++) {
    const ao = aBatch[t]!;
    const bo = bBatch[t]!;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = A[ao + i * asi + p * ask]!;
        const brow = bo + p * bsk;
        for (let j = 0; j < n; j++) acc[j] = acc[j]! + av * B[brow + j * bsn]!;
      }
      out.set(acc, (t * m + i) * n);
    }
  }
  return makeView(out, [...batchShape, m, n], a.dtype);
}

/** Row-major index tuples are decoded per element; fine for the sizes gather/scatter see. */
function gather(x: View, dim: number, index: View): View {
  const n = numel(index.shape);
  const out = allocArray(x.dtype, n);
  const idx = read(index);
  const rank = index.shape.length;
  const shape = index.shape;
  const coord = new Array<number>(rank).fill(0);
  const src = x.storage.data;
  for (let i = 0; i < n; i++) {
    let off = x.offset;
    for (let d = 0; d < rank; d++) off += (d === dim ? idx[i]! : coord[d]!) * x.strides[d]!;
    out[i] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  return makeView(out, index.shape, x.dtype);
}

function scatter(self: View, dim: number, index: View, src: View, accumulate: boolean): View {
  const out = read(self);
  const strides = contiguousStrides(self.shape);
  const idx = read(index);
  const n = numel(index.shape);
  const rank = index.shape.length;
  const shape = index.shape;
  const coord = new Array<number>(rank).fill(0);
  const s = src.storage.data;
  for (let i = 0; i < n; i++) {
    let off = 0;
    let so = src.offset;
    for (let d = 0; d < rank; d++) {
      off += (d === dim ? idx[i]! : coord[d]!) * strides[d]!;
      so += coord[d]! * src.strides[d]!;
    }
    if (accumulate) out[off] = out[off]! + s[so]!;
    else out[off] = s[so]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  return makeView(out, self.shape, self.dtype);
}

function cat(xs: readonly View[], dim: number): View {
  const first = xs[0]!;
  const shape = [...first.shape];
  shape[dim] = xs.reduce((s, x) => s + x.shape[dim]!, 0);
  const out = allocArray(first.dtype, numel(shape));
  const outer = numel(shape.slice(0, dim));
  const inner = numel(shape.slice(dim + 1));
  const rowLen = shape[dim]! * inner;
  let col = 0;
  for (const x of xs) {
    const data = read(x);
    const len = x.shape[dim]! * inner;
    for (let o = 0; o < outer; o++) out.set(data.subarray(o * len, (o + 1) * len), o * rowLen + col);
    col += len;
  }
  return makeView(out, shape, first.dtype);
}

function copyInto(dst: View, src: View): void {
  const n = numel(dst.shape);
  const d = dst.storage.data;
  const s = src.storage.data;
  const vals = src.dtype === dst.dtype ? null : read(src);
  if (dense(dst) && dense(src) && !vals) {
    d.set(s.subarray(src.offset, src.offset + n), dst.offset);
    return;
  }
  const offD = layoutOffsets(dst);
  if (vals) {
    if (dst.dtype === 'int32') for (let i = 0; i < n; i++) d[offD[i]!] = Math.trunc(vals[i]!);
    else for (let i = 0; i < n; i++) d[offD[i]!] = vals[i]!;
    return;
  }
  const offS = layoutOffsets(src);
  for (let i = 0; i < n; i++) d[offD[i]!] = s[offS[i]!]!;
}

function cast(x: View, dtype: DType): View {
  const src = read(x);
  const out = allocArray(dtype, src.length);
  if (dtype === 'int32') for (let i = 0; i < src.length; i++) out[i] = Number.isFinite(src[i]!) ? Math.trunc(src[i]!) : 0;
  else if (dtype === 'bool') for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  else out.set(src);
  return makeView(out, x.shape, dtype);
}

/** `x <= threshold ? 0 : g` over dense operands (relu's backward); null for strided ones. */
function thresholdBackward(g: View, x: View, threshold: number): View | null {
  const fast = wasmThresholdBackward(g, x, threshold);
  if (fast) return makeView(fast, g.shape, g.dtype);
  if (!dense(g) || !dense(x)) return null;
  const n = numel(g.shape);
  const out = allocArray(g.dtype, n);
  const [gd, xd, og, ox] = [g.storage.data, x.storage.data, g.offset, x.offset];
  for (let i = 0; i < n; i++) out[i] = xd[ox + i]! <= threshold ? 0 : gd[og + i]!;
  return makeView(out, g.shape, g.dtype);
}

export const cpuBackend: Backend = {
  device: 'cpu',
  fromArray: (data, shape) => {
    const dtype = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'bool';
    return makeView(data, shape, dtype);
  },
  read,
  contiguous: (x) => makeView(read(x), x.shape, x.dtype),
  cast,
  unary,
  binary,
  where,
  reduce,
  argReduce,
  matmul,
  softmax: (x, axis, log) => {
    const fast = wasmSoftmax(x, axis, log);
    return fast ? makeView(fast, x.shape, x.dtype) : null;
  },
  thresholdBackward,
  gather,
  scatter,
  cat,
  copyInto,
};
