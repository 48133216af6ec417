// sgdStepF32: the SIMD kernel and the plain float32 fallback agree bit for bit across the option
// grid (lengths off the vector width and past one 16,384-element chunk), both follow
// torch.optim.SGD's update (float64 reference, 1e-5 relative: float32 rounding over 5 steps),
// and optim.SGD on float32 parameters routes through them.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { sgdStepF32, type SGDStepOptions } from '../../src/tensor/backend/wasm/sgd.js';
import { setWasmEnabled } from '../../src/tensor/backend/wasm/runtime.js';

beforeAll(() => setWasmEnabled(true));
afterEach(() => setWasmEnabled(true));

type Opts = Omit<SGDStepOptions, 'first'>;

function init(n: number, seed: number): { p: Float32Array; g: Float32Array; buf: Float32Array } {
  tg.manualSeed(seed);
  return { p: Float32Array.from(tg.randn([n]).dataSync()), g: Float32Array.from(tg.randn([n]).dataSync()), buf: new Float32Array(n) };
}

function run(s: { p: Float32Array; g: Float32Array; buf: Float32Array }, steps: number, o: Opts): void {
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < s.g.length; i++) s.g[i] = Math.fround(s.g[i]! * -0.7 + 0.01 * t);
    sgdStepF32(s.p, s.g, (o.momentum ?? 0) !== 0 ? s.buf : null, { ...o, first: t === 1 });
  }
}

/** torch.optim.SGD's single-tensor update in float64. */
function reference(p0: Float32Array, g0: Float32Array, steps: number, o: Opts): Float64Array {
  const p = Float64Array.from(p0);
  const g = Float64Array.from(g0);
  const buf = new Float64Array(p.length);
  const [mom, damp, wd] = [o.momentum ?? 0, o.dampening ?? 0, o.weightDecay ?? 0];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < p.length; i++) {
      g[i] = Math.fround(g[i]! * -0.7 + 0.01 * t);
      let d = (o.maximize ? -g[i]! : g[i]!) + wd * p[i]!;
      if (mom !== 0) {
        buf[i] = t === 1 ? d : buf[i]! * mom + (1 - damp) * d;
        d = o.nesterov ? d + mom * buf[i]! : buf[i]!;
      }
      p[i] = p[i]! - o.lr * d;
    }
  }
  return p;
}

const GRID: Opts[] = [
  { lr: 0.1 },
  { lr: 0.05, momentum: 0.9 },
  { lr: 0.05, momentum: 0.9, dampening: 0.3 },
  { lr: 0.05, momentum: 0.9, nesterov: true },
  { lr: 0.05, momentum: 0.5, weightDecay: 0.01, maximize: true },
  { lr: 0.02, weightDecay: 0.1, nesterov: false, maximize: true },
  { lr: 0.02, momentum: 0.8, weightDecay: 0.05, nesterov: true },
];

describe('sgdStepF32', () => {
  for (const o of GRID) {
    for (const n of [7, 1000, 16384 + 5]) {
      test(`${JSON.stringify(o)} n=${n}: SIMD = plain bit for bit, both match float64 (1e-5)`, () => {
        const a = init(n, n);
        const b = init(n, n);
        const p0 = Float32Array.from(a.p);
        const g0 = Float32Array.from(a.g);
        run(a, 5, o);
        setWasmEnabled(false);
        run(b, 5, o);
        setWasmEnabled(true);
        expect(Array.from(a.p)).toEqual(Array.from(b.p));
        expect(Array.from(a.buf)).toEqual(Array.from(b.buf));
        const ref = reference(p0, g0, 5, o);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a.p[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!)));
        expect(worst).toBeLessThan(1e-5);
      });
    }
  }

  test('checks lengths and the momentum buffer', () => {
    const p = new Float32Array(4);
    expect(() => sgdStepF32(p, new Float32Array(3), null, { lr: 0.1 })).toThrow('sgdStepF32: grad has 3 elements but param has 4');
    expect(() => sgdStepF32(p, new Float32Array(4), null, { lr: 0.1, momentum: 0.9 })).toThrow('needs a momentum buffer of 4 elements, got none');
  });

  test('optim.SGD on float32 parameters follows the kernel (and float64 within 1e-5)', () => {
    tg.manualSeed(3);
    const w32 = tg.randn([300, 70]).requiresGrad_();
    const w64 = w32.detach().double().requiresGrad_();
    const opts = { lr: 0.03, momentum: 0.9, nesterov: true, weightDecay: 1e-3 };
    const o32 = new tg.optim.SGD([w32], opts);
    const o64 = new tg.optim.SGD([w64], opts);
    for (let t = 0; t < 6; t++) {
      for (const [w, o] of [[w32, o32], [w64, o64]] as const) {
        o.zeroGrad();
        w.square().sum().mul(0.01).add(w.sin().sum()).backward();
        o.step();
      }
    }
    const a = w32.dataSync();
    const b = w64.dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
    expect(worst).toBeLessThan(1e-5);
    expect(worst).toBeGreaterThan(0); // float32 really ran float32 arithmetic
  });
});
