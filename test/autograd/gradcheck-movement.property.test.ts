// Property-based gradient checks for movement (view) ops, concatenation and index ops, in
// float64 against central differences (tg.gradcheck), plus second derivatives
// (tg.gradgradcheck). Elementwise/reduction/linalg ops: gradcheck.property.test.ts.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { leaf, numel, real, shapeArb, shapeWithDimArb, tensorArb, valuesArb, type TensorSpec } from '../helpers/arbitraries.js';

const SEED = 20240608;
const RUNS = 40;
const GG_RUNS = 15;

type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

function prop<T>(name: string, arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns = RUNS): void {
  test(name, () => {
    fc.assert(fc.property(arb, (v) => { body(v); }), { numRuns, seed: SEED });
  });
}
const gc = (fn: Fn, ...inputs: Tensor[]): void => void expect(tg.gradcheck(fn, inputs)).toBe(true);
const ggc = (fn: Fn, ...inputs: Tensor[]): void => void expect(tg.gradgradcheck(fn, inputs)).toBe(true);

const norm = (dim: number, rank: number): number => (dim < 0 ? dim + Math.max(rank, 1) : dim);

/** Every shape of rank 0..3 with `n` elements. */
function factorizations(n: number): number[][] {
  const out: number[][] = n === 1 ? [[]] : [];
  const rec = (rest: number, prefix: number[]) => {
    if (prefix.length > 0 && rest === 1) out.push(prefix);
    if (prefix.length === 3) return;
    for (let d = 1; d <= rest; d++) if (rest % d === 0 && (d > 1 || prefix.length < 2)) rec(rest / d, [...prefix, d]);
  };
  rec(n, []);
  return out;
}

const anyT = tensorArb(shapeArb());
const rank1T = tensorArb(shapeArb({ minRank: 1 }));
const rank2T = tensorArb(shapeArb({ minRank: 2 }));
/** A spec plus a valid dim of it (rank >= 1). */
const withDim = shapeWithDimArb({ minRank: 1 }).chain(({ shape, dim }) => tensorArb(fc.constant(shape)).map((s) => ({ s, dim, d: norm(dim, shape.length) })));

describe('reshape family', () => {
  const reshapeCase = anyT.chain((s) => fc.constantFrom(...factorizations(s.data.length)).map((target) => ({ s, target })));
  prop('reshape (view path)', reshapeCase, ({ s, target }) => gc((x) => x.reshape(target), leaf(s)));
  prop('reshape with -1', reshapeCase, ({ s, target }) => {
    fc.pre(target.length > 0);
    gc((x) => tg.reshape(x, target.map((d, i) => (i === 0 ? -1 : d))), leaf(s));
  });
  prop('reshape of a transposed tensor (copy path)', reshapeCase, ({ s, target }) => {
    gc((x) => x.transpose(0, -1).reshape(target), leaf(s));
  });
  prop('view (contiguous)', reshapeCase, ({ s, target }) => gc((x) => x.view(target), leaf(s)));
  prop('reshape/view (gradgrad)', reshapeCase, ({ s, target }) => ggc((x) => x.mul(x).view(target).transpose(0, -1).reshape([-1]), leaf(s)), GG_RUNS);
  prop('flatten(start, end)', rank1T.chain((s) => fc.tuple(fc.nat(s.shape.length - 1), fc.nat(s.shape.length - 1)).map(([a, b]) => ({ s, a: Math.min(a, b), b: Math.max(a, b) }))),
    ({ s, a, b }) => {
      gc((x) => x.flatten(a, b), leaf(s));
      gc((x) => tg.flatten(x), leaf(s));
    });
  prop('unflatten(dim, sizes)', withDim.chain((c) => fc.constantFrom(...factorizations(c.s.shape[c.d]!).filter((f) => f.length > 0)).map((sizes) => ({ ...c, sizes }))),
    ({ s, dim, sizes }) => gc((x) => x.unflatten(dim, sizes), leaf(s)));
  prop('squeeze() / squeeze(dim)', withDim, ({ s, dim }) => {
    gc((x) => x.squeeze(), leaf(s));
    gc((x) => tg.squeeze(x, dim), leaf(s));
  });
  prop('unsqueeze(dim)', anyT.chain((s) => fc.integer({ min: -s.shape.length - 1, max: s.shape.length }).map((dim) => ({ s, dim }))),
    ({ s, dim }) => gc((x) => x.unsqueeze(dim), leaf(s)));
  prop('contiguous / clone', rank2T, (s) => {
    gc((x) => x.transpose(0, 1).contiguous(), leaf(s));
    gc((x) => tg.clone(x.permute([...s.shape.keys()].reverse())), leaf(s));
  });
});

describe('permutations and broadcasting views', () => {
  prop('permute', anyT.chain((s) => fc.shuffledSubarray([...s.shape.keys()], { minLength: s.shape.length, maxLength: s.shape.length }).map((p) => ({ s, p }))),
    ({ s, p }) => gc((x) => x.permute(p), leaf(s)));
  prop('transpose(d0, d1) with negative dims', withDim.chain((c) => fc.integer({ min: -c.s.shape.length, max: c.s.shape.length - 1 }).map((d1) => ({ ...c, d1 }))),
    ({ s, dim, d1 }) => gc((x) => x.transpose(dim, d1), leaf(s)));
  prop('t()', tensorArb(shapeArb({ maxRank: 2 })), (s) => gc((x) => tg.t(x), leaf(s)));
  prop('permute/transpose (gradgrad)', rank2T, (s) => ggc((x) => x.transpose(0, -1).mul(x.transpose(0, -1)).permute([...s.shape.keys()].reverse()), leaf(s)), GG_RUNS);
  // expand: target = x's shape with new leading dims, size-1 dims broadcast, -1 kept
  const expandCase = shapeArb().chain((out) =>
    fc.tuple(fc.nat(out.length), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), fc.boolean())
      .chain(([drop, ones, minusOne]) => {
        const xs = out.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
        const target = out.map((d, i) => (minusOne && i >= drop && !ones[i] ? -1 : d));
        return tensorArb(fc.constant(xs)).map((s) => ({ s, target }));
      }));
  prop('expand', expandCase, ({ s, target }) => gc((x) => x.expand(target), leaf(s)));
  prop('expand (gradgrad)', expandCase, ({ s, target }) => ggc((x) => x.mul(x).expand(target), leaf(s)), GG_RUNS);
  prop('expandAs', expandCase, ({ s, target }) => {
    const like = tg.zeros(target.map((d, i) => (d === -1 ? s.shape[i - (target.length - s.shape.length)]! : d)));
    gc((x) => x.expandAs(like), leaf(s));
  });
});

describe('slicing views', () => {
  prop('narrow(dim, start, length)', withDim.chain((c) => {
    const size = c.s.shape[c.d]!;
    return fc.integer({ min: 0, max: size }).chain((start) => fc.integer({ min: 0, max: size - start }).map((length) => ({ ...c, start, length })));
  }), ({ s, dim, start, length }) => gc((x) => x.narrow(dim, start, length), leaf(s)));
  prop('select(dim, index) incl. negative index', withDim.chain((c) => fc.integer({ min: -c.s.shape[c.d]!, max: c.s.shape[c.d]! - 1 }).map((i) => ({ ...c, i }))),
    ({ s, dim, i }) => gc((x) => tg.select(x, dim, i), leaf(s)));
  // Python slice semantics: negative and out-of-range bounds clamp, step > 1
  const sliceCase = withDim.chain((c) => fc.record({
    start: fc.option(fc.integer({ min: -4, max: 4 })), end: fc.option(fc.integer({ min: -4, max: 4 })), step: fc.integer({ min: 1, max: 3 }),
  }).map((r) => ({ ...c, ...r })));
  prop('slice(dim, start, end, step)', sliceCase, ({ s, dim, start, end, step }) => gc((x) => x.slice(dim, start, end, step), leaf(s)));
  prop('slice (gradgrad)', sliceCase, ({ s, dim, start, end, step }) => ggc((x) => x.mul(x).slice(dim, start, end, step), leaf(s)), GG_RUNS);
  prop('slice of a slice of a transpose', rank2T, (s) =>
    gc((x) => x.transpose(0, 1).slice(0, 1, null, 2).slice(-1, null, -1).mul(2), leaf(s)));
  prop('split(size) / split(sections) / chunk / unbind', withDim.chain((c) => {
    const size = c.s.shape[c.d]!;
    return fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: size }), fc.integer({ min: 1, max: 4 }))
      .map(([splitSize, cut, chunks]) => ({ ...c, splitSize, sections: [cut, size - cut], chunks }));
  }), ({ s, dim, splitSize, sections, chunks }) => {
    gc((x) => x.split(splitSize, dim), leaf(s));
    gc((x) => tg.split(x, sections, dim), leaf(s));
    gc((x) => x.chunk(chunks, dim), leaf(s));
    gc((x) => tg.unbind(x, dim), leaf(s));
  });
  prop('split/unbind (gradgrad)', withDim, ({ s, dim }) => ggc((x) => x.mul(x).unbind(dim), leaf(s)), GG_RUNS);
});

describe('cat / stack', () => {
  // 1..3 tensors equal except along `dim`
  const catCase = withDim.chain(({ s, dim, d }) =>
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }).chain((sizes) =>
      fc.tuple(...sizes.map((n) => tensorArb(fc.constant(s.shape.map((v, i) => (i === d ? n : v))))))
        .map((others) => ({ parts: [s, ...others], dim }))));
  prop('cat(dim)', catCase, ({ parts, dim }) => gc((...xs) => tg.cat(xs, dim), ...parts.map((p) => leaf(p))));
  prop('cat (gradgrad)', catCase, ({ parts, dim }) => ggc((...xs) => tg.cat(xs.map((x) => x.mul(x)), dim), ...parts.map((p) => leaf(p))), GG_RUNS);
  prop('cat with a constant part', catCase, ({ parts, dim }) => {
    const [first, ...rest] = parts;
    gc((x) => tg.cat([x, ...rest.map((p) => leaf(p, 'float64', false))], dim), leaf(first!));
  });
  const stackCase = shapeArb().chain((shape) =>
    fc.tuple(fc.array(tensorArb(fc.constant(shape)), { minLength: 1, maxLength: 3 }), fc.integer({ min: -shape.length - 1, max: shape.length })));
  prop('stack(dim)', stackCase, ([parts, dim]) => gc((...xs) => tg.stack(xs, dim), ...parts.map((p) => leaf(p))));
  prop('stack (gradgrad)', stackCase, ([parts, dim]) => ggc((...xs) => tg.stack(xs.map((x) => x.mul(x)), dim), ...parts.map((p) => leaf(p))), GG_RUNS);
});

describe('index ops', () => {
  const intSpec = (shape: number[], hi: number): fc.Arbitrary<TensorSpec> =>
    valuesArb(numel(shape), fc.integer({ min: 0, max: hi - 1 })).map((data) => ({ shape, data }));
  const idx = (s: TensorSpec): Tensor => tg.tensor(s.data, { dtype: 'int32', shape: s.shape });

  // gather: index no larger than x except along dim; repeats allowed
  const gatherCase = withDim.chain(({ s, dim, d }) =>
    fc.tuple(...s.shape.map((n, i) => (i === d ? fc.integer({ min: 1, max: 3 }) : fc.integer({ min: 1, max: n }))))
      .chain((ishape) => intSpec(ishape, s.shape[d]!)).map((index) => ({ s, dim, index })));
  prop('gather', gatherCase, ({ s, dim, index }) => gc((x) => x.gather(dim, idx(index)), leaf(s)));
  prop('gather (gradgrad)', gatherCase, ({ s, dim, index }) => ggc((x) => tg.gather(x.mul(x), dim, idx(index)), leaf(s)), GG_RUNS);

  // scatter: indices unique along dim for each line (duplicates are order-dependent, as in PyTorch)
  const scatterCase = withDim.chain(({ s, dim, d }) =>
    fc.tuple(...s.shape.map((n) => fc.integer({ min: 1, max: n })), fc.boolean()).chain((t) => {
      const ishape = t.slice(0, -1) as number[];
      const bigSrc = t[t.length - 1] as boolean;
      const lines = numel(ishape) / ishape[d]!;
      const perm = fc.shuffledSubarray([...Array(s.shape[d]!).keys()], { minLength: ishape[d]!, maxLength: ishape[d]! });
      const srcShape = ishape.map((n) => (bigSrc ? Math.min(n + 1, 3) : n));
      return fc.tuple(fc.array(perm, { minLength: lines, maxLength: lines }), tensorArb(fc.constant(srcShape))).map(([perms, src]) => {
        // assemble the index row-major: position p's line is p with coordinate d removed
        const data: number[] = [];
        const inner = numel(ishape.slice(d + 1));
        for (let p = 0; p < numel(ishape); p++) {
          const k = Math.floor(p / inner) % ishape[d]!;
          const line = Math.floor(p / (inner * ishape[d]!)) * inner + (p % inner);
          data.push(perms[line]![k]!);
        }
        return { s, dim, index: { shape: ishape, data }, src };
      });
    }));
  prop('scatter (self and src)', scatterCase, ({ s, dim, index, src }) => gc((x, y) => x.scatter(dim, idx(index), y), leaf(s), leaf(src)));
  prop('scatter with a scalar', scatterCase, ({ s, dim, index }) => gc((x) => tg.scatter(x, dim, idx(index), 0.5), leaf(s)));
  prop('scatterAdd (repeats allowed)', gatherCase.chain((c) => tensorArb(fc.constant(c.index.shape)).map((src) => ({ ...c, src }))),
    ({ s, dim, index, src }) => {
      fc.pre(index.shape.every((n, i) => n <= (s.shape[i] ?? 1)));
      gc((x, y) => x.scatterAdd(dim, idx(index), y), leaf(s), leaf(src));
    });
  prop('scatter (gradgrad)', scatterCase, ({ s, dim, index, src }) => ggc((x, y) => x.mul(x).scatter(dim, idx(index), y.mul(y)), leaf(s), leaf(src)), GG_RUNS);

  const indexSelectCase = withDim.chain(({ s, dim, d }) =>
    fc.integer({ min: 1, max: 4 }).chain((n) => intSpec([n], s.shape[d]!)).map((index) => ({ s, dim, index })));
  prop('indexSelect (repeats allowed)', indexSelectCase, ({ s, dim, index }) => gc((x) => x.indexSelect(dim, idx(index)), leaf(s)));
  prop('indexSelect (gradgrad)', indexSelectCase, ({ s, dim, index }) => ggc((x) => tg.indexSelect(x.mul(x), dim, idx(index)), leaf(s)), GG_RUNS);

  const triCase = rank2T.chain((s) => fc.integer({ min: -2, max: 2 }).map((k) => ({ s, k })));
  prop('tril / triu(diagonal)', triCase, ({ s, k }) => {
    gc((x) => x.tril(k), leaf(s));
    gc((x) => tg.triu(x, k), leaf(s));
  });
  prop('tril (gradgrad)', triCase, ({ s, k }) => ggc((x) => x.mul(x).tril(k), leaf(s)), GG_RUNS);
});

describe('a mixed chain of views and math', () => {
  prop('views feeding math feeding views', tensorArb(fc.constant([2, 3]), real()), (s) => {
    const f = (x: Tensor) => x.t().unsqueeze(0).expand([2, 3, 2]).mul(x.reshape([3, 2])).slice(1, 0, null, 2).flatten().softmax(0);
    gc(f, leaf(s));
    ggc(f, leaf(s));
  }, 10);
});
