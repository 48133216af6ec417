/**
 * The float32 GEMM in WebAssembly SIMD, written as emitter calls: BLIS-style packing of A and B
 * panels from arbitrary strides (so transposed operands cost nothing extra) and an MR×8 register
 * micro-kernel that keeps the C tile in v128 locals while it broadcasts A along k.
 *
 * Loop nest (BLIS): for each k block (KC) pack B[kc × n] into 8-column panels; for each row
 * block (MC) pack A[mc × kc] into MR-row panels; then for every (8-col, MR-row) tile call the
 * micro-kernel, which accumulates kc rank-1 updates and adds the tile into C.
 */
import type { FnBuilder, ModuleBuilder } from './emit.js';

/**
 * Register tile rows (A broadcasts per k step): 4 rows × 2 vectors = 8 accumulators.
 * NOTE: V8 keeps xmm15 as scratch, leaving 15 vector registers; a 6×8 tile (12 accumulators +
 * 2 B vectors + a splat + a product) spills every k step, and 4×8 ran 30-40% faster (measured).
 */
export const MR = 4;
/** Register tile columns: two f32x4 per row. */
export const NR = 8;
/** k block: a B micro-panel (KC×8 floats = 8 KiB) stays in L1 while the A block streams from L2. */
export const KC = 256;
/** Row block: a packed A block of MC×KC floats (128 KiB) stays in L2. */
export const MC = 128;
/**
 * k steps per micro-kernel loop trip. NOTE: unrolling hurts on V8: each distinct memarg offset
 * becomes a hoisted `base + offset` register, and 24 of them spill inside the loop.
 */
const K_UNROLL = 1;

/**
 * Micro-kernel shape and blocking; the defaults are the measured best on x86-64 V8 (MR 4/5/6,
 * unroll 1/2/4/8, MC 64-256 and KC 128-512 were compared by process CPU time against tfjs-wasm
 * in the same process: MR 4, unroll 1 reached 35-38 GFLOP/s where 6×8 unrolled by 4 gave 26).
 */
export interface GemmOptions {
  /** Use relaxed-SIMD fused multiply-add (only when the engine validates it). */
  readonly fma: boolean;
  readonly mr?: number;
  readonly unroll?: number;
  readonly mc?: number;
  readonly kc?: number;
}

/**
 * Emit `gemm` (exported) and its helpers `gemm_ukernel`, `gemm_pack_a`, `gemm_pack_b` into `m`.
 * @example
 * const m = new ModuleBuilder({ initial: 1, maximum: 65536, shared: true });
 * emitGemm(m, { fma: false }); // exports gemm(a, ars, acs, b, bks, bns, c, ldc, m, n, k, pa, pb)
 */
export function emitGemm(m: ModuleBuilder, { fma, mr = MR, unroll = K_UNROLL, mc = MC, kc: kcMax = KC }: GemmOptions): void {
  if ((mr !== 4 && mr !== 6) || mc % mr !== 0) throw new Error(`internal: unsupported GEMM tile (MR ${mr}, MC ${mc})`);
  // ukernel(a, b, c, ldc, kc, accumulate): C[mr×8] (+)= Apanel[kc×mr] · Bpanel[kc×8].
  const uk = m.fn('gemm_ukernel', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [a, b, c, ldc, kc, accumulate] = [0, 1, 2, 3, 4, 5];
    const acc = Array.from({ length: mr * 2 }, () => f.local('v128'));
    const b0 = f.local('v128');
    const b1 = f.local('v128');
    const av = f.local('v128');
    const kEnd = f.local('i32');
    const row = f.local('i32');
    for (const l of acc) f.i32x4(0).set(l);
    // Full unrolled trips, then single steps for the remainder.
    const step = (kOff: number) => {
      f.get(b).mem('v128.load', kOff * 32).set(b0);
      f.get(b).mem('v128.load', kOff * 32 + 16).set(b1);
      for (let r = 0; r < mr; r++) {
        f.get(a).mem('v128.load32_splat', (kOff * mr + r) * 4).set(av);
        for (let j = 0; j < 2; j++) {
          const l = acc[r * 2 + j]!;
          if (fma) f.get(av).get(j ? b1 : b0).get(l).op('f32x4.relaxed_madd').set(l);
          else f.get(l).get(av).get(j ? b1 : b0).op('f32x4.mul', 'f32x4.add').set(l);
        }
      }
    };
    // kEnd = a + (kc - kc % unroll) * mr * 4: loop while a < kEnd.
    f.get(a).get(kc).get(kc).i32(unroll).op('i32.rem_u', 'i32.sub').i32(mr * 4).op('i32.mul', 'i32.add').set(kEnd);
    f.get(a).get(kEnd).op('i32.lt_u').if(() => f.loop(() => {
      for (let u = 0; u < unroll; u++) step(u);
      f.inc(a, unroll * mr * 4).inc(b, unroll * 32);
      f.get(a).get(kEnd).op('i32.lt_u').brIf(0);
    }));
    f.get(kc).i32(unroll).op('i32.rem_u').set(kEnd);
    f.get(kEnd).if(() => f.loop(() => {
      step(0);
      f.inc(a, mr * 4).inc(b, 32);
      f.get(kEnd).i32(1).op('i32.sub').tee(kEnd).brIf(0);
    }));
    // Write the tile: C = acc, or C += acc when accumulating over k blocks.
    const tileRow = (r: number) => {
      f.get(c);
      if (r > 0) f.get(ldc).i32(r).op('i32.mul', 'i32.add');
      f.set(row);
    };
    f.get(accumulate).if(() => {
      for (let r = 0; r < mr; r++) {
        tileRow(r);
        for (let j = 0; j < 2; j++) f.get(acc[r * 2 + j]!).get(row).mem('v128.load', j * 16).op('f32x4.add').set(acc[r * 2 + j]!);
      }
    });
    for (let r = 0; r < mr; r++) {
      tileRow(r);
      for (let j = 0; j < 2; j++) f.get(row).get(acc[r * 2 + j]!).mem('v128.store', j * 16);
    }
  }, false);
  const packA = emitPackA(m, mr);
  const packB = emitPackB(m);
  emitDriver(m, mr, mc, kcMax, uk, packA, packB);
}

/** `min(a, b)` of two i32 locals/constants pushed by the callbacks. */
function minI32(f: FnBuilder, a: () => void, b: () => void): void {
  a(); b(); a(); b(); f.op('i32.lt_s', 'select');
}

/**
 * packA(src, rs, cs, rows, kc, dst): A[rows × kc] with byte strides (rs, cs) into MR-row panels,
 * each laid out [kc][MR] (rows past `rows` are zero).
 */
function emitPackA(m: ModuleBuilder, mr: number): number {
  return m.fn('gemm_pack_a', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [src, rs, cs, rows, kc, dst] = [0, 1, 2, 3, 4, 5];
    const [i0, s, d, p] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    const r = Array.from({ length: 8 }, () => f.local('v128'));
    const kc4 = f.local('i32');
    f.get(kc).i32(-4).op('i32.and').set(kc4);
    f.forRange(i0, () => f.i32(0), () => f.get(rows), mr, () => {
      // Row-major A, whole panel: four k at a time, transposed in registers.
      f.get(cs).i32(4).op('i32.eq').get(i0).i32(mr).op('i32.add').get(rows).op('i32.le_s', 'i32.and').if(() => {
        f.get(src).get(i0).get(rs).op('i32.mul', 'i32.add').set(s);
        f.get(dst).set(d);
        f.forRange(p, () => f.i32(0), () => f.get(kc4), 4, () => {
          for (let q = 0; q < mr; q++) {
            f.get(s);
            if (q > 0) f.get(rs).i32(q).op('i32.mul', 'i32.add');
            f.mem('v128.load').set(r[q]!);
          }
          for (let g = 0; g < mr; g += 4) storeTransposed(f, r.slice(g, g + 4), Math.min(4, mr - g), d, mr * 4, g * 4, r[6]!, r[7]!);
          f.inc(s, 16).inc(d, mr * 16);
        });
        // k % 4 leftovers, one column at a time.
        f.get(kc4).get(kc).op('i32.lt_s').if(() => f.loop(() => {
          for (let q = 0; q < mr; q++) {
            f.get(d).get(s);
            if (q > 0) f.get(rs).i32(q).op('i32.mul', 'i32.add');
            f.mem('f32.load').mem('f32.store', q * 4);
          }
          f.inc(s, 4).inc(d, mr * 4).inc(p, 1);
          f.get(p).get(kc).op('i32.lt_s').brIf(0);
        }));
      }, () => {
        for (let q = 0; q < mr; q++) {
          f.get(dst).i32(q * 4).op('i32.add').set(d);
          f.get(i0).i32(q).op('i32.add').get(rows).op('i32.lt_s').if(() => {
            f.get(src).get(i0).i32(q).op('i32.add').get(rs).op('i32.mul', 'i32.add').set(s);
            f.forRange(p, () => f.i32(0), () => f.get(kc), 1, () => {
              f.get(d).get(s).mem('f32.load').mem('f32.store');
              f.get(s).get(cs).op('i32.add').set(s).inc(d, mr * 4);
            });
          }, () => {
            f.forRange(p, () => f.i32(0), () => f.get(kc), 1, () => {
              f.get(d).f32(0).mem('f32.store').inc(d, mr * 4);
            });
          });
        }
      });
      f.get(dst).get(kc).i32(mr * 4).op('i32.mul', 'i32.add').set(dst);
    });
  }, false);
}

/**
 * Transpose up to four loaded vectors `rows` (each four consecutive k of one row or column) and
 * store column q (one k) at `d + q * stride + byteOff`: 4 lanes as a v128, 2 lanes as 64 bits.
 */
function storeTransposed(f: FnBuilder, rows: readonly number[], n: number, d: number, stride: number, byteOff: number, t0: number, t1: number): void {
  if (n === 4) {
    const [r0, r1, r2, r3] = rows as [number, number, number, number];
    // (r0[0] r1[0] r0[1] r1[1]), (r0[2] r1[2] r0[3] r1[3]), then the same for r2/r3 into r0/r1's slots.
    f.get(r0).get(r1).shuffle32([0, 4, 1, 5]).set(t0);
    f.get(r0).get(r1).shuffle32([2, 6, 3, 7]).set(t1);
    f.get(r2).get(r3).shuffle32([0, 4, 1, 5]).set(r0);
    f.get(r2).get(r3).shuffle32([2, 6, 3, 7]).set(r1);
    f.get(d).get(t0).get(r0).shuffle32([0, 1, 4, 5]).mem('v128.store', byteOff);
    f.get(d).get(t0).get(r0).shuffle32([2, 3, 6, 7]).mem('v128.store', stride + byteOff);
    f.get(d).get(t1).get(r1).shuffle32([0, 1, 4, 5]).mem('v128.store', 2 * stride + byteOff);
    f.get(d).get(t1).get(r1).shuffle32([2, 3, 6, 7]).mem('v128.store', 3 * stride + byteOff);
  } else if (n === 2) {
    const [r0, r1] = rows as [number, number];
    f.get(r0).get(r1).shuffle32([0, 4, 1, 5]).set(t0);
    f.get(r0).get(r1).shuffle32([2, 6, 3, 7]).set(t1);
    f.get(d).get(t0).memLane('v128.store64_lane', byteOff, 0);
    f.get(d).get(t0).memLane('v128.store64_lane', stride + byteOff, 1);
    f.get(d).get(t1).memLane('v128.store64_lane', 2 * stride + byteOff, 0);
    f.get(d).get(t1).memLane('v128.store64_lane', 3 * stride + byteOff, 1);
  } else {
    throw new Error(`internal: cannot transpose ${n} rows`);
  }
}

/**
 * packB(src, ks, ns, kc, cols, dst): B[kc × cols] with byte strides (ks, ns) into 8-column panels
 * laid out [kc][8] (columns past `cols` are zero). Row-major full panels copy two v128 per k.
 */
function emitPackB(m: ModuleBuilder): number {
  return m.fn('gemm_pack_b', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [src, ks, ns, kc, cols, dst] = [0, 1, 2, 3, 4, 5];
    const [j0, s, d, p] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    const r = Array.from({ length: 10 }, () => f.local('v128'));
    const kc4 = f.local('i32');
    const full = f.local('i32');
    f.get(kc).i32(-4).op('i32.and').set(kc4);
    f.forRange(j0, () => f.i32(0), () => f.get(cols), NR, () => {
      f.get(j0).i32(NR).op('i32.add').get(cols).op('i32.le_s').set(full);
      f.get(src).get(j0).get(ns).op('i32.mul', 'i32.add').set(s);
      f.get(dst).set(d);
      f.get(full).get(ns).i32(4).op('i32.eq', 'i32.and').if(() => {
        // Row-major B: each k row of the panel is two contiguous v128.
        f.forRange(p, () => f.i32(0), () => f.get(kc), 1, () => {
          f.get(d).get(s).mem('v128.load').mem('v128.store');
          f.get(d).get(s).mem('v128.load', 16).mem('v128.store', 16);
          f.get(s).get(ks).op('i32.add').set(s).inc(d, 32);
        });
      }, () => f.get(full).get(ks).i32(4).op('i32.eq', 'i32.and').if(() => {
        // Column-major B (a transposed row-major matrix, as in x @ w.t()): four k at a time from
        // each of the 8 columns, transposed in registers.
        f.forRange(p, () => f.i32(0), () => f.get(kc4), 4, () => {
          for (let q = 0; q < NR; q++) {
            f.get(s);
            if (q > 0) f.get(ns).i32(q).op('i32.mul', 'i32.add');
            f.mem('v128.load').set(r[q]!);
          }
          storeTransposed(f, r.slice(0, 4), 4, d, 32, 0, r[8]!, r[9]!);
          storeTransposed(f, r.slice(4, 8), 4, d, 32, 16, r[8]!, r[9]!);
          f.inc(s, 16).inc(d, 128);
        });
        f.get(kc4).get(kc).op('i32.lt_s').if(() => f.loop(() => {
          for (let q = 0; q < NR; q++) {
            f.get(d).get(s);
            if (q > 0) f.get(ns).i32(q).op('i32.mul', 'i32.add');
            f.mem('f32.load').mem('f32.store', q * 4);
          }
          f.inc(s, 4).inc(d, 32).inc(p, 1);
          f.get(p).get(kc).op('i32.lt_s').brIf(0);
        }));
      }, () => {
        // Any other strides, or the last partial panel: element by element, zero padded.
        for (let jj = 0; jj < NR; jj++) {
          f.get(dst).i32(jj * 4).op('i32.add').set(d);
          f.get(j0).i32(jj).op('i32.add').get(cols).op('i32.lt_s').if(() => {
            f.get(src).get(j0).i32(jj).op('i32.add').get(ns).op('i32.mul', 'i32.add').set(s);
            f.forRange(p, () => f.i32(0), () => f.get(kc), 1, () => {
              f.get(d).get(s).mem('f32.load').mem('f32.store');
              f.get(s).get(ks).op('i32.add').set(s).inc(d, 32);
            });
          }, () => {
            f.forRange(p, () => f.i32(0), () => f.get(kc), 1, () => {
              f.get(d).f32(0).mem('f32.store').inc(d, 32);
            });
          });
        }
      }));
      f.get(dst).get(kc).i32(32).op('i32.mul', 'i32.add').set(dst);
    });
  }, false);
}

/**
 * gemm(a, ars, acs, b, bks, bns, c, ldc, m, n, k, packedA, packedB): C[m × n] = A · B for A and B
 * given by byte strides; C is row-major with byte row stride `ldc`, and must have room for
 * m rounded up to MR rows and n rounded up to 8 columns (the tiles write whole registers).
 */
function emitDriver(m: ModuleBuilder, mr: number, mc: number, kcMax: number, uk: number, packA: number, packB: number): void {
  m.fn('gemm', Array<'i32'>(13).fill('i32'), [], (f) => {
    const [a, ars, acs, b, bks, bns, c, ldc, rows, cols, depth, pa, pb] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const [pc, kc, ic, mcur, jr, ir, nPad] = [0, 0, 0, 0, 0, 0, 0].map(() => f.local('i32')) as [number, number, number, number, number, number, number];
    f.get(cols).i32(NR - 1).op('i32.add').i32(-NR).op('i32.and').set(nPad);
    f.forRange(pc, () => f.i32(0), () => f.get(depth), kcMax, () => {
      minI32(f, () => f.i32(kcMax), () => f.get(depth).get(pc).op('i32.sub'));
      f.set(kc);
      f.get(b).get(pc).get(bks).op('i32.mul', 'i32.add').get(bks).get(bns).get(kc).get(cols).get(pb).call(packB);
      f.forRange(ic, () => f.i32(0), () => f.get(rows), mc, () => {
        minI32(f, () => f.i32(mc), () => f.get(rows).get(ic).op('i32.sub'));
        f.set(mcur);
        f.get(a).get(ic).get(ars).op('i32.mul', 'i32.add').get(pc).get(acs).op('i32.mul', 'i32.add');
        f.get(ars).get(acs).get(mcur).get(kc).get(pa).call(packA);
        f.forRange(jr, () => f.i32(0), () => f.get(nPad), NR, () => {
          f.forRange(ir, () => f.i32(0), () => f.get(mcur), mr, () => {
            f.get(pa).get(ir).get(kc).op('i32.mul').i32(4).op('i32.mul', 'i32.add');
            f.get(pb).get(jr).get(kc).op('i32.mul').i32(4).op('i32.mul', 'i32.add');
            f.get(c).get(ic).get(ir).op('i32.add').get(ldc).op('i32.mul', 'i32.add').get(jr).i32(4).op('i32.mul', 'i32.add');
            f.get(ldc).get(kc).get(pc).i32(0).op('i32.gt_s').call(uk);
          });
        });
      });
    });
  });
}
