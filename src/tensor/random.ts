/**
 * Seeded random numbers: a Mersenne Twister (mt19937) used the way PyTorch's CPU generator uses
 * it, so `manualSeed(s); rand(n)` gives PyTorch's numbers for the same seed.
 */

/** A random number generator state (`torch.Generator`). */
export class Generator {
  private mt = new Uint32Array(624);
  private index = 624;
  private seedValue = 0;
  /** Box-Muller's cached second sample (PyTorch's next_double_normal_sample). */
  nextDoubleNormal: number | null = null;

  constructor(seed = 67280421310721) {
    this.manualSeed(seed);
  }

  /** Reseed (`Generator.manual_seed`); returns this generator. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed expects a non-negative safe integer, got ${seed}`);
    this.seedValue = seed;
    const mt = this.mt;
    mt[0] = seed % 0x100000000;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i in 32-bit arithmetic
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = 624;
    this.nextDoubleNormal = null;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  /** The full state, to save and restore (`get_state`/`set_state`). */
  getState(): { mt: number[]; index: number; seed: number; nextDoubleNormal: number | null } {
    return { mt: Array.from(this.mt), index: this.index, seed: this.seedValue, nextDoubleNormal: this.nextDoubleNormal };
  }
  setState(s: { mt: readonly number[]; index: number; seed: number; nextDoubleNormal: number | null }): this {
    this.mt = Uint32Array.from(s.mt);
    this.index = s.index;
    this.seedValue = s.seed;
    this.nextDoubleNormal = s.nextDoubleNormal;
    return this;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
      let v = mt[(i + 397) % 624]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.index = 0;
  }

  /** A uniform 32-bit unsigned integer. */
  random(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform in [0, 1) with float32 resolution (24 bits), as PyTorch's float path. */
  uniformFloat(): number {
    return (this.random() & 0xffffff) * 2 ** -24;
  }

  /** Uniform in [0, 1) with 53 bits, from a 64-bit draw (hi word first), as PyTorch's double path. */
  uniformDouble(): number {
    const hi = this.random();
    const lo = this.random();
    // (hi << 32 | lo) & (2^53 - 1), scaled by 2^-53
    return ((hi & 0x1fffff) * 0x100000000 + lo) * 2 ** -53;
  }
}

/** The default generator behind `manualSeed` and every op without an explicit generator. */
export const defaultGenerator = new Generator();

/** Seed the default generator (`torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

/** Uniform numbers in [low, high) for a float32 (24-bit) or float64 (53-bit) tensor. */
export function uniformValues(n: number, low: number, high: number, double: boolean, gen: Generator = defaultGenerator): Float64Array {
  const out = new Float64Array(n);
  // NOTE: PyTorch casts the bounds to the tensor's dtype first (uniform_real_distribution<float>);
  // without this, float32 draws with bounds like 1/sqrt(3) differ from PyTorch's in the last bit.
  const lo = double ? low : Math.fround(low);
  const hi = double ? high : Math.fround(high);
  // NOTE: PyTorch's kernel `x * (to - from) + from` is compiled with FMA contraction (x86 AVX2,
  // aarch64), one rounding; in float64 that is observable, so it is emulated. (In float32 the
  // product of a 24-bit draw and a float range is exact in double, so plain arithmetic agrees.)
  for (let i = 0; i < n; i++) out[i] = double ? fma(gen.uniformDouble(), hi - lo, lo) : gen.uniformFloat() * (hi - lo) + lo;
  return out;
}

/** `a * b + c` with a single rounding (Dekker's exact product, then a compensated sum). */
function fma(a: number, b: number, c: number): number {
  const p = a * b;
  const split = 134217729; // 2^27 + 1
  let t = split * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = split * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  const s = p + c;
  const v = s - p;
  return s + ((p - (s - v)) + (c - v) + e);
}

/**
 * Normal samples as PyTorch's CPU `normal_` draws them: for 16 or more elements, uniforms are
 * drawn for the whole buffer and transformed 16 at a time by Box-Muller (the tail re-drawn as the
 * last 16); fewer elements draw pairs per element with a cached second sample.
 */
export function normalValues(n: number, mean: number, std: number, double: boolean, gen: Generator = defaultGenerator): Float64Array {
  const out = new Float64Array(n);
  if (n >= 16) {
    for (let i = 0; i < n; i++) out[i] = double ? gen.uniformDouble() : gen.uniformFloat();
    const fill16 = (base: number) => {
      for (let j = 0; j < 8; j++) {
        const u1 = 1 - out[base + j]!;
        const u2 = out[base + j + 8]!;
        const radius = Math.sqrt(-2 * Math.log(u1));
        const theta = 2 * Math.PI * u2;
        out[base + j] = radius * Math.cos(theta) * std + mean;
        out[base + j + 8] = radius * Math.sin(theta) * std + mean;
      }
    };
    for (let i = 0; i + 16 <= n; i += 16) fill16(i);
    if (n % 16 !== 0) {
      const base = n - 16;
      for (let i = 0; i < 16; i++) out[base + i] = double ? gen.uniformDouble() : gen.uniformFloat();
      fill16(base);
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (gen.nextDoubleNormal !== null) {
      out[i] = gen.nextDoubleNormal * std + mean;
      gen.nextDoubleNormal = null;
      continue;
    }
    const u1 = gen.uniformDouble();
    const u2 = gen.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    gen.nextDoubleNormal = r * Math.sin(theta);
    out[i] = r * Math.cos(theta) * std + mean;
  }
  return out;
}

/** Integers in [low, high) (`random_(from, to)`: `random() % range + from`). */
export function randintValues(n: number, low: number, high: number, gen: Generator = defaultGenerator): Float64Array {
  const range = high - low;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (range >= 2 ** 32 ? gen.uniformDouble() * range : gen.random() % range) + low;
  return out;
}

/** A random permutation of 0..n-1 (PyTorch's CPU randperm: forward Fisher-Yates). */
export function randpermValues(n: number, gen: Generator = defaultGenerator): Int32Array {
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  for (let i = 0; i < n - 1; i++) {
    const z = gen.random() % (n - i);
    const t = r[i]!;
    r[i] = r[z + i]!;
    r[z + i] = t;
  }
  return r;
}
