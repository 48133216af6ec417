/**
 * Elementwise float32 kernels in WebAssembly SIMD: unary maps (including a vectorised `exp`) and
 * binary arithmetic over four operand patterns (equal shapes, a scalar, a broadcast row vector, a
 * broadcast column vector).
 *
 * Every kernel processes whole f32x4 vectors, rounding `n` up to a multiple of 4: the driver
 * gives each buffer slack at its end and copies back only the first `n` results. The broadcast
 * kernels walk rows in order, so a vector that runs past a row's end writes garbage that the next
 * row then overwrites (the output never aliases an input).
 */
import type { FnBuilder, ModuleBuilder, SimdOp } from './emit.js';

/**
 * Unary ops with a SIMD kernel; all but exp and sigmoid are bit-identical to the plain path.
 * @example
 * WASM_UNARY.includes('exp'); // true
 */
export const WASM_UNARY = ['neg', 'abs', 'sqrt', 'square', 'reciprocal', 'relu', 'exp', 'sigmoid'] as const;
/** One of {@link WASM_UNARY}. */
export type WasmUnaryOp = (typeof WASM_UNARY)[number];

/**
 * Binary ops with a SIMD kernel (IEEE single ops: bit-identical to the plain path).
 * @example
 * WASM_BINARY.includes('pow'); // false
 */
export const WASM_BINARY = ['add', 'sub', 'mul', 'div'] as const;
/** One of {@link WASM_BINARY}. */
export type WasmBinaryOp = (typeof WASM_BINARY)[number];

/** How the second operand is laid out against the first: same shape, scalar, row or column vector. */
export type BinaryPattern = 'vv' | 'vs' | 'row' | 'col';

const BIN_SIMD: Record<WasmBinaryOp, SimdOp> = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div' };

// Cephes expf: Cody-Waite reduction x = n·ln2 + r with ln2 = C1 + C2 (C1 exact in few bits), then
// e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2, then scaling by 2^n built in the exponent bits.
const LOG2E = 1.44269504088896341;
const C1 = 0.693359375;
const C2 = -2.12194440e-4;
const P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
const ROUND_MAGIC = 12582912;
const ROUND_MAGIC_BITS = 0x4b400000;

/** Scratch locals for {@link expF32x4}, and its constants hoisted out of loops. */
export interface ExpLocals {
  readonly x: number;
  readonly n: number;
  readonly r: number;
  readonly ni: number;
  /** v128 locals holding each constant, by value. */
  readonly k: ReadonlyMap<number, number>;
}

const EXP_CONSTANTS = [89, -104, LOG2E, ROUND_MAGIC, C1, C2, ...P, 1];

/**
 * Declare the locals and set the constants (call before the loop).
 * @example
 * const e = expLocals(f);           // once, before the loop
 * f.get(p).mem('v128.load');        // in the loop: x on the stack
 * expF32x4(f, e);                   // exp(x) on the stack
 *
 * NOTE: V8 materialises each `v128.const` with several instructions wherever it appears, so
 * constants live in locals set once outside the loop (spilled ones become memory operands).
 */
export function expLocals(f: FnBuilder): ExpLocals {
  const k = new Map<number, number>();
  for (const c of EXP_CONSTANTS) {
    const l = f.local('v128');
    f.f32x4(c).set(l);
    k.set(c, l);
  }
  return { x: f.local('v128'), n: f.local('v128'), r: f.local('v128'), ni: f.local('v128'), k };
}

/**
 * Push `exp` of the f32x4 on the stack. NaN stays NaN, large inputs give +Inf, very negative ones
 * 0, and results below 2^-126 come out as correctly scaled subnormals (2^n is applied as two
 * factors 2^⌊n/2⌋·2^(n-⌊n/2⌋), each a normal float). Use with {@link expLocals}.
 *
 * NOTE: written with pmin/pmax and the round-by-magic-number trick rather than f32x4.min/max,
 * nearest and trunc_sat, whose exact NaN and ±0 semantics cost V8 several x86 instructions each
 * (this halved the kernel's time). pmin(x, c)/pmax(x, c) return x when x is NaN.
 */
export function expF32x4(f: FnBuilder, l: ExpLocals): void {
  const k = (c: number) => f.get(l.k.get(c)!);
  k(89).op('f32x4.pmin');
  k(-104).op('f32x4.pmax').tee(l.x);
  // t = x·log2e + magic: its low mantissa bits hold n = round(x·log2e) (ties to even).
  k(LOG2E).op('f32x4.mul');
  k(ROUND_MAGIC).op('f32x4.add').tee(l.ni);
  k(ROUND_MAGIC).op('f32x4.sub').set(l.n);
  f.get(l.x).get(l.n);
  k(C1).op('f32x4.mul', 'f32x4.sub').get(l.n);
  k(C2).op('f32x4.mul', 'f32x4.sub').set(l.r);
  // Horner: P(r) then r²·P(r) + r + 1.
  k(P[0]!);
  for (let i = 1; i < P.length; i++) {
    f.get(l.r).op('f32x4.mul');
    k(P[i]!).op('f32x4.add');
  }
  f.get(l.r).get(l.r).op('f32x4.mul', 'f32x4.mul').get(l.r).op('f32x4.add');
  k(1).op('f32x4.add');
  // × 2^(n>>1) × 2^(n - (n>>1)), each as ((k + 127) << 23) reinterpreted.
  f.get(l.ni).i32x4(ROUND_MAGIC_BITS).op('i32x4.sub').set(l.ni);
  f.get(l.ni).i32(1).op('i32x4.shr_s').tee(l.n).i32x4(127).op('i32x4.add').i32(23).op('i32x4.shl', 'f32x4.mul');
  f.get(l.ni).get(l.n).op('i32x4.sub').i32x4(127).op('i32x4.add').i32(23).op('i32x4.shl', 'f32x4.mul');
}

/** Push op(x) for the f32x4 in local `x`. */
function unaryBody(f: FnBuilder, op: WasmUnaryOp, x: number, e: ExpLocals | null, t: number): void {
  switch (op) {
    case 'neg': f.get(x).op('f32x4.neg'); break;
    case 'abs': f.get(x).op('f32x4.abs'); break;
    case 'sqrt': f.get(x).op('f32x4.sqrt'); break;
    case 'square': f.get(x).get(x).op('f32x4.mul'); break;
    case 'reciprocal': f.f32x4(1).get(x).op('f32x4.div'); break;
    // NOTE: wasm max gives +0 for -0 and keeps NaN, as the plain relu does.
    case 'relu': f.get(x).i32x4(0).op('f32x4.max'); break;
    case 'exp': f.get(x); expF32x4(f, e!); break;
    case 'sigmoid':
      // e = exp(-|x|); x >= 0: 1 / (1 + e), else e / (1 + e): never overflows.
      f.get(x).op('f32x4.abs', 'f32x4.neg');
      expF32x4(f, e!);
      f.set(t);
      f.f32x4(1).get(t).get(x).i32x4(0).op('f32x4.ge', 'v128.bitselect');
      f.get(t).f32x4(1).op('f32x4.add', 'f32x4.div');
      break;
  }
}

/**
 * Emit `un_<op>(src, dst, n)` for every unary op and `bin_<op>_<pattern>[_swap]` for binaries.
 * @example
 * const m = new ModuleBuilder();
 * emitElementwise(m); // exports un_exp, bin_add_vv, bin_sub_col_swap, ...
 */
export function emitElementwise(m: ModuleBuilder): void {
  for (const op of WASM_UNARY) {
    m.fn(`un_${op}`, ['i32', 'i32', 'i32'], [], (f) => {
      const [src, dst, n] = [0, 1, 2];
      const end = f.local('i32');
      const x = f.local('v128');
      const t = f.local('v128');
      const e = op === 'exp' || op === 'sigmoid' ? expLocals(f) : null;
      f.get(src).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
      f.get(src).get(end).op('i32.lt_u').if(() => f.loop(() => {
        f.get(dst);
        f.get(src).mem('v128.load').set(x);
        unaryBody(f, op, x, e, t);
        f.mem('v128.store');
        f.inc(src, 16).inc(dst, 16);
        f.get(src).get(end).op('i32.lt_u').brIf(0);
      }));
    });
  }
  for (const op of WASM_BINARY) {
    for (const swap of [false, true]) {
      const suffix = swap ? '_swap' : '';
      // Combine the streamed operand (on the stack first) with the broadcast one in local `y`.
      const combine = (f: FnBuilder, y: number) => {
        if (swap) {
          const t = f.local('v128');
          f.set(t).get(y).get(t).op(BIN_SIMD[op]);
        } else f.get(y).op(BIN_SIMD[op]);
      };
      if (!swap) emitVV(m, op);
      emitScalar(m, op, suffix, combine);
      emitRowCol(m, op, 'row', suffix, combine);
      emitRowCol(m, op, 'col', suffix, combine);
    }
  }
  emitThresholdBackward(m);
}

/**
 * threshold_bwd(g, x, dst, n, threshold): dst = x <= threshold ? 0 : g (PyTorch's
 * threshold_backward, relu's gradient; a NaN in x passes g through, as the comparison is false).
 */
function emitThresholdBackward(m: ModuleBuilder): void {
  m.fn('threshold_bwd', ['i32', 'i32', 'i32', 'i32', 'f32'], [], (f) => {
    const [g, x, dst, n, thr] = [0, 1, 2, 3, 4];
    const end = f.local('i32');
    const t = f.local('v128');
    f.get(thr).op('f32x4.splat').set(t);
    f.get(g).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(g).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(dst).get(g).mem('v128.load').get(x).mem('v128.load').get(t).op('f32x4.le', 'v128.andnot').mem('v128.store');
      f.inc(g, 16).inc(x, 16).inc(dst, 16);
      f.get(g).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}

/** bin_<op>_vv(a, b, dst, n): dst = a op b. */
function emitVV(m: ModuleBuilder, op: WasmBinaryOp): void {
  m.fn(`bin_${op}_vv`, ['i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [a, b, dst, n] = [0, 1, 2, 3];
    const end = f.local('i32');
    f.get(a).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(a).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(dst).get(a).mem('v128.load').get(b).mem('v128.load').op(BIN_SIMD[op]).mem('v128.store');
      f.inc(a, 16).inc(b, 16).inc(dst, 16);
      f.get(a).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}

/** bin_<op>_vs[_swap](a, s, dst, n): dst = a op s (or s op a), s an f32. */
function emitScalar(m: ModuleBuilder, op: WasmBinaryOp, suffix: string, combine: (f: FnBuilder, y: number) => void): void {
  m.fn(`bin_${op}_vs${suffix}`, ['i32', 'f32', 'i32', 'i32'], [], (f) => {
    const [a, s, dst, n] = [0, 1, 2, 3];
    const end = f.local('i32');
    const y = f.local('v128');
    f.get(s).op('f32x4.splat').set(y);
    f.get(a).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(a).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(dst).get(a).mem('v128.load');
      combine(f, y);
      f.mem('v128.store');
      f.inc(a, 16).inc(dst, 16);
      f.get(a).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}

/**
 * bin_<op>_row[_swap](a, b, dst, rows, len): dst[r, j] = a[r, j] op b[j];
 * bin_<op>_col[_swap](a, b, dst, rows, len): dst[r, j] = a[r, j] op b[r].
 */
function emitRowCol(m: ModuleBuilder, op: WasmBinaryOp, pattern: 'row' | 'col', suffix: string, combine: (f: FnBuilder, y: number) => void): void {
  m.fn(`bin_${op}_${pattern}${suffix}`, ['i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [a, b, dst, rows, len] = [0, 1, 2, 3, 4];
    const [r, j, pa, pd, pb] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    const y = f.local('v128');
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.get(a).get(r).get(len).op('i32.mul').i32(4).op('i32.mul', 'i32.add').set(pa);
      f.get(dst).get(r).get(len).op('i32.mul').i32(4).op('i32.mul', 'i32.add').set(pd);
      if (pattern === 'col') f.get(b).get(r).i32(4).op('i32.mul', 'i32.add').mem('v128.load32_splat').set(y);
      else f.get(b).set(pb);
      f.forRange(j, () => f.i32(0), () => f.get(len), 4, () => {
        if (pattern === 'row') f.get(pb).mem('v128.load').set(y);
        f.get(pd).get(pa).mem('v128.load');
        combine(f, y);
        f.mem('v128.store');
        f.inc(pa, 16).inc(pd, 16);
        if (pattern === 'row') f.inc(pb, 16);
      });
    });
  });
}
