// adamStepF32: the SIMD kernel and the plain float32 fallback agree bit for bit across the option
// grid, and both follow torch.optim.Adam's update (checked against a float64 reference, 1e-5).
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import { adamStepF32, type AdamStepOptions } from '../../src/tensor/backend/wasm/adam.js';
import { setWasmEnabled } from '../../src/tensor/backend/wasm/runtime.js';

// Turn the fast path on even where TENSORGRAD_WASM=0 turned it off for the rest of the suite.
beforeAll(() => setWasmEnabled(true));
afterEach(() => setWasmEnabled(true));

interface State { p: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array; vmax: Float32Array }

function init(n: number, seed: number): State {
  tg.manualSeed(seed);
  const p = Float32Array.from(tg.randn([n]).dataSync());
  const g = Float32Array.from(tg.randn([n]).dataSync());
  return { p, g, m: new Float32Array(n), v: new Float32Array(n), vmax: new Float32Array(n) };
}

function run(s: State, steps: number, o: Omit<AdamStepOptions, 'step' | 'maxExpAvgSq'>, amsgrad: boolean): State {
  for (let t = 1; t <= steps; t++) {
    // vary the gradient per step so the moments move
    for (let i = 0; i < s.g.length; i++) s.g[i] = Math.fround(s.g[i]! * -0.7 + 0.01 * t);
    adamStepF32(s.p, s.g, s.m, s.v, { ...o, step: t, ...(amsgrad && { maxExpAvgSq: s.vmax }) });
  }
  return s;
}

/** torch.optim.Adam's single-tensor update in float64. */
function reference(s: State, steps: number, o: Omit<AdamStepOptions, 'step' | 'maxExpAvgSq'>, amsgrad: boolean): Float64Array {
  const p = Float64Array.from(s.p);
  const g0 = Float64Array.from(s.g);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const vmax = new Float64Array(p.length);
  const wd = o.weightDecay ?? 0;
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < p.length; i++) {
      g0[i] = Math.fround(g0[i]! * -0.7 + 0.01 * t);
      let g = o.maximize ? -g0[i]! : g0[i]!;
      if (wd !== 0 && !o.decoupledWeightDecay) g += wd * p[i]!;
      if (wd !== 0 && o.decoupledWeightDecay) p[i] = p[i]! * (1 - o.lr * wd);
      m[i] = m[i]! + (g - m[i]!) * (1 - o.beta1);
      v[i] = v[i]! * o.beta2 + (1 - o.beta2) * g * g;
      vmax[i] = Math.max(vmax[i]!, v[i]!);
      const denom = Math.sqrt(amsgrad ? vmax[i]! : v[i]!) / Math.sqrt(1 - o.beta2 ** t) + o.eps;
      p[i] = p[i]! - (o.lr / (1 - o.beta1 ** t)) * (m[i]! / denom);
    }
  }
  return p;
}

const base = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const grid: [string, Omit<AdamStepOptions, 'step' | 'maxExpAvgSq'>, boolean][] = [
  ['plain', base, false],
  ['weight decay (L2)', { ...base, weightDecay: 0.1 }, false],
  ['AdamW', { ...base, weightDecay: 0.1, decoupledWeightDecay: true }, false],
  ['AMSGrad', base, true],
  ['maximize', { ...base, maximize: true, beta1: 0.8, beta2: 0.99 }, false],
];

describe('adamStepF32', () => {
  test.each(grid)('%s: SIMD kernel and plain fallback agree bit for bit', (_name, o, amsgrad) => {
    const n = 40_003; // several chunks plus a ragged tail
    const wasm = run(init(n, 1), 4, o, amsgrad);
    setWasmEnabled(false);
    const plain = run(init(n, 1), 4, o, amsgrad);
    setWasmEnabled(true);
    expect(wasm.p).toEqual(plain.p);
    expect(wasm.m).toEqual(plain.m);
    expect(wasm.v).toEqual(plain.v);
    if (amsgrad) expect(wasm.vmax).toEqual(plain.vmax);
  });

  test.each(grid)('%s: follows torch.optim.Adam (float64 reference, rel 1e-5)', (_name, o, amsgrad) => {
    const n = 1001;
    const want = reference(init(n, 2), 5, o, amsgrad);
    const got = run(init(n, 2), 5, o, amsgrad).p;
    for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!)));
  });

  test('rejects arrays of different lengths', () => {
    const a = new Float32Array(4);
    expect(() => adamStepF32(a, new Float32Array(3), a.slice(), a.slice(), { ...base, step: 1 })).toThrow(/grad has 3 elements but param has 4/);
    expect(() => adamStepF32(a, a.slice(), a.slice(), a.slice(), { ...base, step: 1, maxExpAvgSq: new Float32Array(5) })).toThrow(/maxExpAvgSq has 5/);
  });
});
