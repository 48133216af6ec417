/**
 * The JavaScript side of the WebAssembly GEMM: copy operands into the wasm memory (keeping their
 * strides, so transposed views need no copy of their own), run the kernel per batch (rows split
 * across threads when the pool is on and the product is large), and copy C back.
 */
import { layoutOffsets, numel } from '../../shape.js';
import type { View } from '../backend.js';
import { KC, MC, MR, NR } from './gemm-kernels.js';
import { scopedF32 } from './resident-storage.js';
import { arenaOf, residentAddress, type Arena, type WasmRuntime } from './runtime.js';
import { getNumThreads, runParallel, threadsFor, type Job } from './threads.js';

/**
 * Below this many multiply-adds per batch (m·n·k) the plain TypeScript kernel wins (measured:
 * wasm's fixed cost is a few microseconds; it wins from about 12×12×12).
 * @example
 * tg.randn([16, 16]).matmul(tg.randn([16, 16])); // 4096 ≥ GEMM_MIN_WORK: wasm
 */
export const GEMM_MIN_WORK = 1024;
/**
 * Per-thread multiply-adds below which splitting rows across threads does not pay (waking a
 * worker costs tens of microseconds; 2·2^21 is about a 160³ product).
 * @example
 * tg.setNumThreads(2);
 * tg.randn([256, 256]).matmul(tg.randn([256, 256])); // 16.8M multiply-adds: two row bands
 */
export const GEMM_MIN_WORK_PER_THREAD = 1 << 21;

/** Where a strided operand landed in wasm memory: element (i, j) of batch t is at base + batchOff[t] + i·si + j·sj (bytes). */
interface Placed {
  readonly base: number;
  readonly batchOff: Int32Array;
  readonly si: number;
  readonly sj: number;
}

/**
 * Copy the elements a view can touch into the arena. A compact view (its storage span at most
 * twice its size: contiguous, transposed, broadcast) is copied as one block with its strides
 * kept; a sparse one (a strided slice of a large tensor) is gathered into row-major order first.
 */
function place(arena: Arena, x: View, batchShape: readonly number[]): Placed {
  const rank = x.shape.length;
  const n = numel(x.shape);
  let span = 1;
  for (let d = 0; d < rank; d++) span += (x.shape[d]! - 1) * x.strides[d]!;
  const data = x.storage.data as Float32Array;
  if (span <= 2 * n) {
    // A resident operand (a parameter in the wasm memory) is read where it lives.
    const resident = residentAddress(arena.runtime, data);
    const base = resident !== null ? resident + x.offset * 4 : arena.alloc(span * 4);
    if (resident === null) arena.f32.set(data.subarray(x.offset, x.offset + span), base / 4);
    const batchOff = layoutOffsets({ shape: batchShape, strides: x.strides.slice(0, rank - 2).map((s) => s * 4), offset: 0 });
    return { base, batchOff, si: x.strides[rank - 2]! * 4, sj: x.strides[rank - 1]! * 4 };
  }
  const base = arena.alloc(n * 4);
  const heap = arena.f32;
  const offs = layoutOffsets(x);
  const at = base / 4;
  for (let i = 0; i < n; i++) heap[at + i] = data[offs[i]!]!;
  const [r, c] = [x.shape[rank - 2]!, x.shape[rank - 1]!];
  const batchOff = layoutOffsets({ shape: batchShape, strides: batchShape.map((_, d) => numel(batchShape.slice(d + 1)) * r * c * 4), offset: 0 });
  return { base, batchOff, si: c * 4, sj: 4 };
}

/** True when every stride is non-negative (the kernels walk forwards). */
function forwardStrides(x: View): boolean {
  return x.strides.every((s) => s >= 0);
}

/**
 * `[..., m, k] @ [..., k, n]` (equal batch shapes, float32, any strides) on the wasm GEMM, or null
 * when the plain path should run (too small, negative strides). `force` skips the threshold.
 * @example
 * const c = matmulF32(wasmRuntime()!, a, b.t()); // Float32Array(m * n), row-major
 */
export function matmulF32(rt: WasmRuntime, a: View, b: View, force = false): Float32Array | null {
  const rank = a.shape.length;
  const m = a.shape[rank - 2]!;
  const k = a.shape[rank - 1]!;
  const n = b.shape[rank - 1]!;
  const batchShape = a.shape.slice(0, rank - 2);
  const batch = numel(batchShape);
  if (!force && m * n * k < GEMM_MIN_WORK) return null;
  if (!forwardStrides(a) || !forwardStrides(b)) return null;
  // NOTE: byte offsets are i32 on the wasm side; operands past 1 GiB stay on the plain path.
  if (Math.max(numel(a.shape), numel(b.shape), batch * m * n) > 1 << 28) return null;
  const nPad = Math.ceil(n / NR) * NR;
  const mPad = Math.ceil(m / MR) * MR;
  // Inside tg.scope() the result lives in wasm memory: with no column padding the tiles write it
  // in place (whole MR-row tiles run past the last row into the slack).
  const out = k === 0 ? new Float32Array(batch * m * n) : scopedF32(batch * m * n, (mPad - m) * n * 4);
  if (out.length === 0 || k === 0) return out;

  const arena = arenaOf(rt);
  arena.reset();
  const A = place(arena, a, batchShape);
  const B = place(arena, b, batchShape);
  const ldc = nPad * 4;
  const outAt = nPad === n ? residentAddress(rt, out) : null;
  const c = outAt ?? arena.alloc(mPad * ldc);
  // Split C into per-thread bands, each thread packing into its own scratch: bands of rows (whole
  // MR tiles) when C is tall, so each thread packs all of B but only its rows of A; bands of
  // columns (whole NR panels) when C is wide, so each packs all of A but only its part of B.
  const byCols = n > m;
  const tiles = byCols ? nPad / NR : mPad / MR;
  const wanted = Math.min(getNumThreads(), Math.floor((m * n * k) / GEMM_MIN_WORK_PER_THREAD), tiles);
  const threads = wanted > 1 ? Math.min(wanted, threadsFor(rt)) : 1;
  const band = Math.ceil(tiles / threads) * (byCols ? NR : MR);
  const panelCols = byCols ? band : nPad;
  const scratch = Array.from({ length: threads }, () => ({ pa: arena.alloc(MC * KC * 4), pb: arena.alloc(KC * panelCols * 4) }));
  const heap = arena.f32;
  for (let t = 0; t < batch; t++) {
    const aBase = A.base + A.batchOff[t]!;
    const bBase = B.base + B.batchOff[t]!;
    const ct = outAt === null ? c : outAt + t * m * n * 4;
    const jobs: Job[] = [];
    for (let i = 0; i < threads; i++) {
      const start = i * band;
      const size = Math.min(band, (byCols ? n : m) - start);
      if (size <= 0) break;
      const { pa, pb } = scratch[i]!;
      jobs.push({
        fn: 'gemm',
        args: byCols
          ? [aBase, A.si, A.sj, bBase + start * B.sj, B.si, B.sj, ct + start * 4, ldc, m, size, k, pa, pb]
          : [aBase + start * A.si, A.si, A.sj, bBase, B.si, B.sj, ct + start * ldc, ldc, size, n, k, pa, pb],
      });
    }
    runParallel(rt, jobs);
    if (outAt !== null) continue;
    const o = t * m * n;
    if (nPad === n) out.set(heap.subarray(c / 4, c / 4 + m * n), o);
    else for (let i = 0; i < m; i++) out.set(heap.subarray(c / 4 + i * nPad, c / 4 + i * nPad + n), o + i * n);
  }
  return out;
}
