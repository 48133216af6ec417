import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BatchSampler,
  distinctCount,
  multinomial,
  RandomSampler,
  range,
  Sampler,
  SequentialSampler,
  SubsetRandomSampler,
  WeightedRandomSampler,
} from '../../src/data/sampler.js';
import { Generator, manualSeed, rand, randperm } from '../../src/index.js';

/** Indices PyTorch 1.13 drew (scripts/data_fixtures.py). */
interface SamplerFixtures {
  randperm: { n: number; seed: number; perm: number[] }[];
  random_sampler: { n: number; replacement: boolean; numSamples: number | null; seed: number; epochs: number[][] }[];
  random_sampler_default: { n: number; replacement: boolean; numSamples: number | null; seed: number; epochs: number[][]; randAfter: number[] }[];
  subset_random_sampler: { indices: number[]; seed: number; order: number[] }[];
  multinomial: { weights: number[]; numSamples: number; replacement: boolean; seed: number; samples: number[] }[];
  batch_sampler: { n: number; batchSize: number; batches: number[][]; dropLast: number[][] };
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/data/sampler.json', import.meta.url), 'utf8')) as SamplerFixtures;

const numSamplesOpt = (n: number | null) => (n === null ? {} : { numSamples: n });

describe('PyTorch parity (recorded draws)', () => {
  it('tg.randperm matches torch.randperm for the same generator seed', () => {
    for (const c of fx.randperm) {
      expect(Array.from(randperm(c.n, { generator: new Generator(c.seed) }).dataSync())).toEqual(c.perm);
    }
  });

  it('RandomSampler with a generator: two epochs, with and without replacement', () => {
    for (const c of fx.random_sampler) {
      const s = new RandomSampler(range(c.n), { replacement: c.replacement, ...numSamplesOpt(c.numSamples), generator: new Generator(c.seed) });
      expect([[...s], [...s]]).toEqual(c.epochs);
      expect(s.length).toBe(c.numSamples ?? c.n);
    }
  });

  it('RandomSampler without a generator seeds a fresh one from the default generator', () => {
    for (const c of fx.random_sampler_default) {
      manualSeed(c.seed);
      const s = new RandomSampler(range(c.n), { replacement: c.replacement, ...numSamplesOpt(c.numSamples) });
      expect([[...s], [...s]]).toEqual(c.epochs);
      // ...and leaves the default generator where PyTorch leaves it.
      expect(Array.from(rand(3, { dtype: 'float64' }).dataSync())).toEqual(c.randAfter);
    }
  });

  it('SubsetRandomSampler', () => {
    for (const c of fx.subset_random_sampler) {
      expect([...new SubsetRandomSampler(c.indices, { generator: new Generator(c.seed) })]).toEqual(c.order);
    }
  });

  it('multinomial and WeightedRandomSampler match torch.multinomial (both algorithms)', () => {
    for (const c of fx.multinomial) {
      expect(Array.from(multinomial(c.weights, c.numSamples, c.replacement, new Generator(c.seed)))).toEqual(c.samples);
      const s = new WeightedRandomSampler(c.weights, c.numSamples, { replacement: c.replacement, generator: new Generator(c.seed) });
      expect([...s]).toEqual(c.samples);
    }
  });

  it('BatchSampler', () => {
    const c = fx.batch_sampler;
    expect([...new BatchSampler(new SequentialSampler(range(c.n)), c.batchSize, false)]).toEqual(c.batches);
    expect([...new BatchSampler(new SequentialSampler(range(c.n)), c.batchSize, true)]).toEqual(c.dropLast);
  });
});

describe('samplers', () => {
  it('SequentialSampler yields 0..n-1 and follows the dataset length', () => {
    const data = [10, 20, 30];
    const s = new SequentialSampler(data);
    expect([...s]).toEqual([0, 1, 2]);
    expect(s.length).toBe(3);
    data.push(40);
    expect([...s]).toEqual([0, 1, 2, 3]);
  });

  it('RandomSampler without replacement is a permutation; numSamples > n chains permutations', () => {
    const s = new RandomSampler(range(50), { generator: new Generator(1) });
    expect([...s].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
    const long = [...new RandomSampler(range(10), { numSamples: 25, generator: new Generator(2) })];
    expect(long).toHaveLength(25);
    expect(long.slice(0, 10).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(long.slice(10, 20).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('the same seed gives the same order; epochs differ', () => {
    const a = new RandomSampler(range(20), { generator: new Generator(7) });
    const b = new RandomSampler(range(20), { generator: new Generator(7) });
    const a1 = [...a];
    expect([...b]).toEqual(a1);
    expect([...a]).not.toEqual(a1);
  });

  it('distinct counts: without replacement every index once, with replacement about 1 - 1/e', () => {
    const n = 2000;
    const without = new RandomSampler(range(n), { generator: new Generator(3) });
    [...without];
    expect(without.epochStats).toEqual({ drawn: n, distinct: n });
    const withRepl = new RandomSampler(range(n), { replacement: true, generator: new Generator(3) });
    const epoch = [...withRepl];
    expect(epoch).toHaveLength(n);
    expect(epoch.every((i) => Number.isInteger(i) && i >= 0 && i < n)).toBe(true);
    const { drawn, distinct } = withRepl.epochStats;
    expect(drawn).toBe(n);
    expect(distinct).toBe(new Set(epoch).size);
    // E[distinct] = n (1 - (1 - 1/n)^n) ≈ 0.632 n, sd ≈ 0.01 n at this size.
    expect(distinct / n).toBeGreaterThan(0.6);
    expect(distinct / n).toBeLessThan(0.66);
    // distinctCount runs a fresh epoch.
    const again = distinctCount(withRepl);
    expect(again / n).toBeGreaterThan(0.6);
    expect(again / n).toBeLessThan(0.66);
    expect(distinctCount(new BatchSampler(new SequentialSampler(range(10)), 3, true))).toBe(9);
  });

  it('epochStats tracks the current epoch while it runs', () => {
    const s = new BatchSampler(new SequentialSampler(range(10)), 4, false);
    const it = s[Symbol.iterator]();
    it.next();
    expect(s.epochStats).toEqual({ drawn: 4, distinct: 4 });
    it.next();
    it.next();
    expect(s.epochStats).toEqual({ drawn: 10, distinct: 10 });
  });

  it('draws lazily: nothing is drawn before the first index is taken', () => {
    const g = new Generator(5);
    const s = new RandomSampler(range(10), { generator: g });
    const before = g.getState();
    const it = s[Symbol.iterator]();
    expect(g.getState()).toEqual(before);
    it.next();
    expect(g.getState()).not.toEqual(before);
  });

  it('WeightedRandomSampler follows the weights (fixed seed)', () => {
    const weights = [1, 2, 7];
    const s = new WeightedRandomSampler(weights, 20000, { generator: new Generator(11) });
    const counts = [0, 0, 0];
    for (const i of s) counts[i]! += 1;
    expect(counts[0]! / 20000).toBeCloseTo(0.1, 1);
    expect(counts[1]! / 20000).toBeCloseTo(0.2, 1);
    expect(counts[2]! / 20000).toBeCloseTo(0.7, 1);
    expect(Math.abs(counts[2]! / 20000 - 0.7)).toBeLessThan(0.015);
    // Zero weight: never drawn with replacement.
    expect([...new WeightedRandomSampler([0, 1, 0, 1], 500, { generator: new Generator(1) })].every((i) => i === 1 || i === 3)).toBe(true);
  });

  it('WeightedRandomSampler without replacement gives distinct indices, heavy ones first', () => {
    const s = new WeightedRandomSampler([1e-6, 1, 1e6], 3, { replacement: false, generator: new Generator(0) });
    const drawn = [...s];
    expect(drawn).toEqual([2, 1, 0]);
    expect(s.epochStats).toEqual({ drawn: 3, distinct: 3 });
  });

  it('SubsetRandomSampler permutes exactly the given indices', () => {
    const idx = [4, 8, 15, 16, 23, 42];
    const out = [...new SubsetRandomSampler(idx, { generator: new Generator(9) })];
    expect([...out].sort((a, b) => a - b)).toEqual(idx);
  });

  it('BatchSampler length with and without dropLast, and over a plain index array', () => {
    expect(new BatchSampler([...Array(10).keys()], 3, false).length).toBe(4);
    expect(new BatchSampler(new SequentialSampler(range(10)), 3, true).length).toBe(3);
    expect(new BatchSampler(new SequentialSampler(range(9)), 3, true).length).toBe(3);
    expect([...new BatchSampler([5, 1, 4], 2, false)]).toEqual([[5, 1], [4]]);
  });

  it('a custom Sampler subclass gets epochStats', () => {
    class Evens extends Sampler {
      get length(): number {
        return 5;
      }
      protected *sample(): Iterator<number> {
        for (let i = 0; i < 10; i += 2) yield i;
      }
    }
    const s = new Evens();
    expect([...s]).toEqual([0, 2, 4, 6, 8]);
    expect(s.epochStats).toEqual({ drawn: 5, distinct: 5 });
  });
});

describe('errors (PyTorch wording)', () => {
  it('rejects bad sizes and options', () => {
    expect(() => new RandomSampler(range(0))).toThrow('num_samples should be a positive integer value, but got num_samples=0');
    expect(() => new RandomSampler(range(5), { numSamples: 1.5 })).toThrow('num_samples should be a positive integer value');
    expect(() => new WeightedRandomSampler([1, 2], 0)).toThrow('num_samples should be a positive integer value, but got num_samples=0');
    expect(() => new BatchSampler(new SequentialSampler(range(3)), 0, false)).toThrow('batch_size should be a positive integer value, but got batch_size=0');
    expect(() => range(-1)).toThrow(RangeError);
  });

  it('multinomial validates its distribution', () => {
    expect(() => multinomial([1, -1], 1)).toThrow('probability tensor contains either `inf`, `nan` or element < 0');
    expect(() => multinomial([1, NaN], 1)).toThrow('probability tensor contains either `inf`, `nan` or element < 0');
    expect(() => multinomial([1, Infinity], 1)).toThrow('probability tensor contains either `inf`, `nan` or element < 0');
    expect(() => multinomial([0, 0], 1)).toThrow('invalid multinomial distribution (sum of probabilities <= 0)');
    expect(() => multinomial([1, 2], 3, false)).toThrow('cannot sample n_sample > prob_dist.size(-1) samples without replacement');
    expect(() => multinomial([], 1)).toThrow(RangeError);
  });
});
