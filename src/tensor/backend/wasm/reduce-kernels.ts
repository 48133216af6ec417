/**
 * Reductions and fused row kernels in WebAssembly SIMD: row sums and maxima, column sums, the
 * row statistics behind (log-)softmax, and the fused Adam step.
 *
 * Sums accumulate in float64 (f64x2 lanes), as the plain TypeScript path accumulates in JS
 * numbers, so float32 sums round once at the end and match the reference to the last bit in
 * nearly every case.
 */
import type { FnBuilder, ModuleBuilder } from './emit.js';
import { expF32x4, expLocals } from './elementwise-kernels.js';

/** Push the high two f32 lanes of local `v` promoted to f64x2. */
function promoteHigh(f: FnBuilder, v: number): void {
  f.get(v).get(v).shuffle32([2, 3, 2, 3]).op('f64x2.promote_low_f32x4');
}

/** Push the sum of local f64x2 `acc`'s two lanes (an f64). */
function hsum64(f: FnBuilder, acc: number): void {
  f.get(acc).lane('f64x2.extract_lane', 0).get(acc).lane('f64x2.extract_lane', 1).op('f64.add');
}

/**
 * Emit sum_rows, max_rows, sum_cols, cols_to_f32, softmax_stats, (log_)softmax_apply and adam.
 * @example
 * const m = new ModuleBuilder();
 * emitReductions(m);
 */
export function emitReductions(m: ModuleBuilder): void {
  emitSumRows(m);
  emitMaxRows(m);
  emitSumCols(m);
  emitSoftmaxStats(m);
  emitSoftmaxApply(m);
  emitAdam(m);
}

/** sum_rows(x, out, rows, len): out[r] = Σ_j x[r, j], accumulated in f64. */
function emitSumRows(m: ModuleBuilder): void {
  m.fn('sum_rows', ['i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [x, out, rows, len] = [0, 1, 2, 3];
    const [r, end8, end] = [f.local('i32'), f.local('i32'), f.local('i32')];
    const v = f.local('v128');
    const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
    const s = f.local('f64');
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.get(x).get(len).i32(-8).op('i32.and').i32(4).op('i32.mul', 'i32.add').set(end8);
      f.get(x).get(len).i32(4).op('i32.mul', 'i32.add').set(end);
      for (const a of acc) f.i32x4(0).set(a);
      f.get(x).get(end8).op('i32.lt_u').if(() => f.loop(() => {
        for (let h = 0; h < 2; h++) {
          f.get(x).mem('v128.load', h * 16).set(v);
          f.get(acc[2 * h]!).get(v).op('f64x2.promote_low_f32x4', 'f64x2.add').set(acc[2 * h]!);
          f.get(acc[2 * h + 1]!);
          promoteHigh(f, v);
          f.op('f64x2.add').set(acc[2 * h + 1]!);
        }
        f.inc(x, 32);
        f.get(x).get(end8).op('i32.lt_u').brIf(0);
      }));
      f.get(acc[0]!).get(acc[1]!).op('f64x2.add').get(acc[2]!).get(acc[3]!).op('f64x2.add', 'f64x2.add').set(acc[0]!);
      hsum64(f, acc[0]!);
      f.set(s);
      f.get(x).get(end).op('i32.lt_u').if(() => f.loop(() => {
        f.get(s).get(x).mem('f32.load').op('f64.promote_f32', 'f64.add').set(s);
        f.inc(x, 4);
        f.get(x).get(end).op('i32.lt_u').brIf(0);
      }));
      f.get(out).get(s).op('f32.demote_f64').mem('f32.store');
      f.inc(out, 4);
    });
  });
}

/** Push the horizontal max of local f32x4 `v` (an f32; NaN propagates). */
function hmax32(f: FnBuilder, v: number): void {
  f.get(v).lane('f32x4.extract_lane', 0).get(v).lane('f32x4.extract_lane', 1).op('f32.max');
  f.get(v).lane('f32x4.extract_lane', 2).get(v).lane('f32x4.extract_lane', 3).op('f32.max', 'f32.max');
}

/** v128 locals for {@link rowMax}. */
interface RowMaxLocals {
  readonly acc0: number;
  readonly acc1: number;
  readonly nan: number;
  readonly v: number;
  readonly end: number;
}

function rowMaxLocals(f: FnBuilder): RowMaxLocals {
  return { acc0: f.local('v128'), acc1: f.local('v128'), nan: f.local('v128'), v: f.local('v128'), end: f.local('i32') };
}

/**
 * Emit a row-max loop over `len` floats at local `p` (advanced past the row), leaving the max as
 * an f32 in local `mx`: NaN if the row has one, `-Infinity` for an empty row.
 * NOTE: f32x4.max's exact NaN/±0 rules cost V8 eight dependent x86 instructions, which made the
 * loop-carried max latency-bound; pmax (one maxps) on two accumulators, with NaN tracked in a
 * separate mask, runs about 3x faster. pmax keeps the earlier value on ties, as the plain path.
 */
function rowMax(f: FnBuilder, p: number, len: number, mx: number, l: RowMaxLocals): void {
  const { acc0, acc1, nan, v, end } = l;
  const absorb = (acc: number, offset: number) => {
    f.get(p).mem('v128.load', offset).set(v);
    f.get(nan).get(v).get(v).op('f32x4.ne', 'v128.or').set(nan);
    f.get(acc).get(v).op('f32x4.pmax').set(acc);
  };
  f.get(p).get(len).i32(-8).op('i32.and').i32(4).op('i32.mul', 'i32.add').set(end);
  f.f32x4(-Infinity).tee(acc0).set(acc1);
  f.i32x4(0).set(nan);
  f.get(p).get(end).op('i32.lt_u').if(() => f.loop(() => {
    absorb(acc0, 0);
    absorb(acc1, 16);
    f.inc(p, 32);
    f.get(p).get(end).op('i32.lt_u').brIf(0);
  }));
  f.get(len).i32(4).op('i32.and').if(() => {
    absorb(acc0, 0);
    f.inc(p, 16);
  });
  f.get(acc0).get(acc1).op('f32x4.pmax').set(acc0);
  hmax32(f, acc0);
  f.set(mx);
  f.get(nan).op('v128.any_true').if(() => void f.f32(NaN).set(mx));
  f.get(p).get(len).i32(3).op('i32.and').i32(4).op('i32.mul', 'i32.add').set(end);
  f.get(p).get(end).op('i32.lt_u').if(() => f.loop(() => {
    f.get(mx).get(p).mem('f32.load').op('f32.max').set(mx);
    f.inc(p, 4);
    f.get(p).get(end).op('i32.lt_u').brIf(0);
  }));
}

/** max_rows(x, out, rows, len): out[r] = max_j x[r, j]. */
function emitMaxRows(m: ModuleBuilder): void {
  m.fn('max_rows', ['i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [x, out, rows, len] = [0, 1, 2, 3];
    const r = f.local('i32');
    const rm = rowMaxLocals(f);
    const mx = f.local('f32');
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      rowMax(f, x, len, mx, rm);
      f.get(out).get(mx).mem('f32.store');
      f.inc(out, 4);
    });
  });
}

/**
 * sum_cols(x, acc, rows, len, first): acc[j] (f64) = (first ? 0 : acc[j]) + Σ_r x[r, j];
 * cols_to_f32(acc, out, len): out[j] = f32(acc[j]). Rows are walked in order, so a chunked
 * caller adds the same numbers in the same order as one call would.
 */
function emitSumCols(m: ModuleBuilder): void {
  m.fn('sum_cols', ['i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [x, acc, rows, len, first] = [0, 1, 2, 3, 4];
    const [r, pa, end] = [f.local('i32'), f.local('i32'), f.local('i32')];
    const v = f.local('v128');
    f.get(first).if(() => {
      f.get(acc).set(pa);
      f.get(acc).get(len).i32(3).op('i32.add').i32(-4).op('i32.and').i32(8).op('i32.mul', 'i32.add').set(end);
      f.loop(() => {
        f.get(pa).i32x4(0).mem('v128.store').inc(pa, 16);
        f.get(pa).get(end).op('i32.lt_u').brIf(0);
      });
    });
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.get(acc).set(pa);
      f.get(x).get(len).i32(4).op('i32.mul', 'i32.add').set(end);
      // NOTE: the last vector of a row may read into the next row; those lanes land in
      // accumulator slots past `len`, which are never read back.
      f.get(x).get(end).op('i32.lt_u').if(() => f.loop(() => {
        f.get(x).mem('v128.load').set(v);
        f.get(pa).get(pa).mem('v128.load').get(v).op('f64x2.promote_low_f32x4', 'f64x2.add').mem('v128.store');
        f.get(pa).get(pa).mem('v128.load', 16);
        promoteHigh(f, v);
        f.op('f64x2.add').mem('v128.store', 16);
        f.inc(x, 16).inc(pa, 32);
        f.get(x).get(end).op('i32.lt_u').brIf(0);
      }));
      f.get(end).set(x);
    });
  });
  m.fn('cols_to_f32', ['i32', 'i32', 'i32'], [], (f) => {
    const [acc, out, len] = [0, 1, 2];
    const end = f.local('i32');
    f.get(out).get(len).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(out).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(out);
      f.get(acc).mem('v128.load').op('f32x4.demote_f64x2_zero');
      f.get(acc).mem('v128.load', 16).op('f32x4.demote_f64x2_zero');
      f.shuffle32([0, 1, 4, 5]).mem('v128.store');
      f.inc(acc, 32).inc(out, 16);
      f.get(out).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}

/**
 * softmax_stats(x, shift, sum, rows, len): per row, shift[r] = max_j x[r, j] (0 when the max is
 * infinite, as the composite softmax does) and sum[r] = Σ_j exp(x[r, j] - shift[r]) (f64
 * accumulation, stored as f32). With these, logSoftmax is x - (shift + log sum).
 */
function emitSoftmaxStats(m: ModuleBuilder): void {
  m.fn('softmax_stats', ['i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [x, shift, sum, rows, len] = [0, 1, 2, 3, 4];
    const [r, p, end] = [f.local('i32'), f.local('i32'), f.local('i32')];
    const [v, sv, acc0, acc1] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
    const mx = f.local('f32');
    const s = f.local('f64');
    const rm = rowMaxLocals(f);
    const e = expLocals(f);
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.get(x).set(p);
      rowMax(f, p, len, mx, rm);
      // shift = isfinite(max) ? max : 0 (NaN stays NaN, and so does the row).
      f.get(mx).f32(0).get(mx).op('f32.abs').f32(Infinity).op('f32.ne', 'select').set(mx);
      f.get(shift).get(mx).mem('f32.store');
      f.get(mx).op('f32x4.splat').set(sv);
      f.i32x4(0).set(acc0);
      f.i32x4(0).set(acc1);
      f.get(x).get(len).i32(-4).op('i32.and').i32(4).op('i32.mul', 'i32.add').set(end);
      f.get(x).set(p);
      f.get(p).get(end).op('i32.lt_u').if(() => f.loop(() => {
        f.get(p).mem('v128.load').get(sv).op('f32x4.sub');
        expF32x4(f, e);
        f.set(v);
        f.get(acc0).get(v).op('f64x2.promote_low_f32x4', 'f64x2.add').set(acc0);
        f.get(acc1);
        promoteHigh(f, v);
        f.op('f64x2.add').set(acc1);
        f.inc(p, 16);
        f.get(p).get(end).op('i32.lt_u').brIf(0);
      }));
      // Tail: up to three values, padded with -Infinity (exp gives 0) in one last vector.
      f.get(len).i32(3).op('i32.and').if(() => {
        f.f32x4(-Infinity).set(v);
        for (let t = 0; t < 3; t++) {
          f.get(len).i32(3).op('i32.and').i32(t).op('i32.gt_u').if(() => {
            f.get(v).get(p).mem('f32.load', t * 4).lane('f32x4.replace_lane', t).set(v);
          });
        }
        f.get(v).get(sv).op('f32x4.sub');
        expF32x4(f, e);
        f.set(v);
        f.get(acc0).get(v).op('f64x2.promote_low_f32x4', 'f64x2.add').set(acc0);
        f.get(acc1);
        promoteHigh(f, v);
        f.op('f64x2.add').set(acc1);
      });
      f.get(acc0).get(acc1).op('f64x2.add').set(acc0);
      hsum64(f, acc0);
      f.set(s);
      f.get(sum).get(s).op('f32.demote_f64').mem('f32.store');
      f.inc(shift, 4).inc(sum, 4);
      f.get(x).get(len).i32(4).op('i32.mul', 'i32.add').set(x);
    });
  });
}

/**
 * log_softmax_apply(x, shift, logsum, out, rows, len): out[r, j] = (x[r, j] - shift[r]) - logsum[r];
 * softmax_apply(x, shift, sum, out, rows, len): out[r, j] = exp(x[r, j] - shift[r]) / sum[r].
 * The same float32 steps as the composite (subtract, then subtract or divide), each rounded.
 */
function emitSoftmaxApply(m: ModuleBuilder): void {
  for (const log of [true, false]) {
    m.fn(log ? 'log_softmax_apply' : 'softmax_apply', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
      const [x, shift, stat, out, rows, len] = [0, 1, 2, 3, 4, 5];
      const [r, end] = [f.local('i32'), f.local('i32')];
      const [sv, tv] = [f.local('v128'), f.local('v128')];
      const e = log ? null : expLocals(f);
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.get(shift).mem('v128.load32_splat').set(sv);
        f.get(stat).mem('v128.load32_splat').set(tv);
        f.get(x).get(len).i32(4).op('i32.mul', 'i32.add').set(end);
        // Whole vectors; the last may spill into the next row's output, which that row rewrites.
        f.loop(() => {
          f.get(out).get(x).mem('v128.load').get(sv).op('f32x4.sub');
          if (e) expF32x4(f, e);
          f.get(tv).op(log ? 'f32x4.sub' : 'f32x4.div').mem('v128.store');
          f.inc(x, 16).inc(out, 16);
          f.get(x).get(end).op('i32.lt_u').brIf(0);
        });
        // Realign to the next row (the loop may have run past this one).
        f.get(out).get(x).get(end).op('i32.sub').op('i32.sub').set(out);
        f.get(end).set(x);
        f.inc(shift, 4).inc(stat, 4);
      });
    });
  }
}

/**
 * adam(p, g, m, v, vmax, n, omb1, beta2, omb2, wd, decay, stepSize, bc2Sqrt, eps, gSign, flags):
 * one Adam/AdamW step over n floats in place, in torch.optim.Adam's order (see adam.ts). The
 * scalars arrive precomputed in float64 (`omb1 = 1 - β1`, `decay = 1 - lr·wd`, ...), as PyTorch
 * computes them in Python. flags: bit 0 amsgrad, bit 1 decoupled weight decay (AdamW), bit 2
 * coupled weight decay (Adam's L2 term added to the gradient).
 */
function emitAdam(m: ModuleBuilder): void {
  const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'i32'] as const;
  m.fn('adam', params, [], (f) => {
    const [p, g, mm, v, vmax, n] = [0, 1, 2, 3, 4, 5];
    const flags = 15;
    const [end, ams, dec, cpl] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    const [gv, pv, mv, vv, den] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
    // Splat the nine f32 parameters (6..14) into v128 locals, in order.
    const [omb1, b2, omb2, wdv, decay, step, bc2, epsv, sign] = Array.from({ length: 9 }, (_, i) => {
      const l = f.local('v128');
      f.get(6 + i).op('f32x4.splat').set(l);
      return l;
    }) as [number, number, number, number, number, number, number, number, number];
    f.get(flags).i32(1).op('i32.and').set(ams);
    f.get(flags).i32(2).op('i32.and').set(dec);
    f.get(flags).i32(4).op('i32.and').set(cpl);
    f.get(p).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(p).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(g).mem('v128.load').get(sign).op('f32x4.mul').set(gv);
      f.get(p).mem('v128.load').set(pv);
      f.get(cpl).if(() => f.get(gv).get(pv).get(wdv).op('f32x4.mul', 'f32x4.add').set(gv));
      f.get(dec).if(() => f.get(pv).get(decay).op('f32x4.mul').set(pv));
      // m += (g - m)·(1 - β1)  (torch lerp_);  v = v·β2 + (1 - β2)·g·g  (mul_ then addcmul_)
      f.get(mm).mem('v128.load').tee(mv).get(gv).get(mv).op('f32x4.sub').get(omb1).op('f32x4.mul', 'f32x4.add').set(mv);
      f.get(v).mem('v128.load').get(b2).op('f32x4.mul').get(omb2).get(gv).op('f32x4.mul').get(gv).op('f32x4.mul', 'f32x4.add').set(vv);
      f.get(mm).get(mv).mem('v128.store');
      f.get(v).get(vv).mem('v128.store');
      f.get(ams).if(() => {
        f.get(vmax).mem('v128.load').get(vv).op('f32x4.max').set(vv);
        f.get(vmax).get(vv).mem('v128.store');
        f.inc(vmax, 16);
      });
      // p -= stepSize · m / (sqrt(v) / sqrt(bc2) + eps)
      f.get(vv).op('f32x4.sqrt').get(bc2).op('f32x4.div').get(epsv).op('f32x4.add').set(den);
      f.get(p).get(pv).get(step).get(mv).get(den).op('f32x4.div', 'f32x4.mul', 'f32x4.sub').mem('v128.store');
      f.inc(p, 16).inc(g, 16).inc(mm, 16).inc(v, 16);
      f.get(p).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}
