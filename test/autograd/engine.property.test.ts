// The engine on random graphs: DAGs whose nodes reuse earlier nodes (diamonds, fan-out, the
// same tensor on both sides of an op) must pass gradcheck, and backward(), autograd.grad() and
// functional.vjp() must agree on them, as must a second backward with retainGraph.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { leaf, real, shapeArb, tensorArb } from '../helpers/arbitraries.js';
import { expectClose } from '../helpers/close.js';

const UNARY: ((x: Tensor) => Tensor)[] = [(x) => x.sin(), (x) => x.mul(0.5).tanh(), (x) => x.mul(0.3).exp(), (x) => x.square().add(1).log(), (x) => x.neg()];
const BINARY: ((a: Tensor, b: Tensor) => Tensor)[] = [(a, b) => a.add(b), (a, b) => a.mul(b), (a, b) => a.sub(b.mul(0.5)), (a, b) => a.mul(b.sigmoid())];

/** A node: an op index plus the earlier nodes it reads (0 = the input). */
const dagArb = fc.array(fc.record({ unary: fc.boolean(), op: fc.nat(20), a: fc.nat(100), b: fc.nat(100) }), { minLength: 1, maxLength: 12 });

function build(dag: { unary: boolean; op: number; a: number; b: number }[], x: Tensor, w: Tensor): Tensor {
  const nodes = [x, w];
  for (const n of dag) {
    const a = nodes[n.a % nodes.length]!;
    const b = nodes[n.b % nodes.length]!;
    nodes.push(n.unary ? UNARY[n.op % UNARY.length]!(a) : BINARY[n.op % BINARY.length]!(a, b));
  }
  // sum several nodes so intermediate results fan out to the output more than once
  return nodes.slice(2).reduce((s, t, i) => (i % 2 === 0 ? s.add(t) : s), nodes[nodes.length - 1]!).sum();
}

const caseArb = fc.tuple(dagArb, tensorArb(shapeArb({ maxRank: 2 }), real(-1, 1))).chain(([dag, s]) =>
  tensorArb(fc.constant(s.shape), real(-1, 1)).map((ws) => ({ dag, s, ws })));

test('random DAGs pass gradcheck', () => {
  fc.assert(fc.property(caseArb, ({ dag, s, ws }) => {
    expect(tg.gradcheck((x, w) => build(dag, x, w), [leaf(s), leaf(ws)])).toBe(true);
  }), { numRuns: 40, seed: 5 });
});

test('backward(), autograd.grad(), vjp() and a retained second backward agree', () => {
  fc.assert(fc.property(caseArb, ({ dag, s, ws }) => {
    const x = leaf(s);
    const w = leaf(ws);
    const out = build(dag, x, w);
    const [gx, gw] = tg.autograd.grad(out, [x, w], { retainGraph: true, allowUnused: true });
    out.backward(null, { retainGraph: true });
    // an input the DAG never reads keeps a null .grad, as in PyTorch
    expect(w.grad === null).toBe(gw === null);
    const first = [x.grad?.clone() ?? tg.zerosLike(x), w.grad?.clone() ?? tg.zerosLike(w)];
    expectClose(first[0]!, gx ?? tg.zerosLike(x), { atol: 1e-12, rtol: 1e-12 });
    expectClose(first[1]!, gw ?? tg.zerosLike(w), { atol: 1e-12, rtol: 1e-12 });
    out.backward();
    expectClose(x.grad ?? tg.zerosLike(x), first[0]!.mul(2), { atol: 1e-12, rtol: 1e-12 });
    const [, v] = tg.autograd.functional.vjp((a, b) => build(dag, a, b), [x.detach(), w.detach()]);
    expectClose((v as Tensor[])[0]!, first[0]!, { atol: 1e-12, rtol: 1e-12 });
  }), { numRuns: 40, seed: 6 });
});
