/**
 * Replays the nn fixtures recorded by scripts/torch_fixtures_nn.py (see its docstring for the
 * formats): functional cases (outputs and input gradients), module cases (steps with parameter
 * gradients and state after each step) and initialiser cases. Values are compared with
 * test/helpers/oracle.ts's `compareTensor` (float64: atol 1e-12 + rtol 1e-9; float32: 1e-6 + 1e-5).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { AnyModule } from '../../src/nn/index.js';
import { compareTensor, fromFixture, type FixtureTensor } from '../helpers/oracle.js';

export type Options = Record<string, unknown>;
export type Named = Record<string, Tensor>;
/** A tensorgrad implementation of a recorded functional op. */
export type FunctionalImpl = (inputs: Named, options: Options) => Tensor | readonly Tensor[];

interface FunctionalCase {
  fn: string;
  options: Options;
  inputNames: string[];
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  gradOutputs: (FixtureTensor | null)[];
  grads: (FixtureTensor | null)[];
}

export interface ModuleStep {
  train: boolean;
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  gradOutputs: FixtureTensor[];
  grads: (FixtureTensor | null)[];
  paramGrads: Record<string, FixtureTensor>;
  stateAfter: Record<string, FixtureTensor>;
}

export interface ModuleCase {
  module: string;
  args: unknown[];
  options: Options;
  state: Record<string, FixtureTensor>;
  steps: ModuleStep[];
}

export interface InitCase {
  seed: number;
  call?: string;
  module?: string;
  shape?: number[];
  dtype?: 'float32' | 'float64';
  args?: unknown[];
  options: Options;
  expected: FixtureTensor | Record<string, FixtureTensor>;
}

/** Parse a fixture family (test/fixtures/nn/<family>.json). */
export function loadNn<T>(family: string): Record<string, T> {
  const text = readFileSync(new URL(`../fixtures/nn/${family}.json`, import.meta.url), 'utf8');
  return JSON.parse(text) as Record<string, T>;
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

const asList = (out: Tensor | readonly Tensor[]): Tensor[] => (out instanceof tg.Tensor ? [out] : [...out]);

/** Compare outputs, then backward with the recorded gradOutputs and compare leaf gradients. */
function checkRun(leaves: Tensor[], outs: Tensor[], c: Pick<FunctionalCase, 'outputs' | 'gradOutputs' | 'grads'>, problems: string[]): void {
  if (outs.length !== c.outputs.length) problems.push(`op returned ${outs.length} outputs, expected ${c.outputs.length}`);
  const pairs: [Tensor, Tensor][] = [];
  c.outputs.forEach((exp, k) => {
    const out = outs[k];
    if (!out) return;
    problems.push(...compareTensor(`output ${k}`, out, exp));
    const g = c.gradOutputs[k] ?? null;
    if (out.requiresGrad !== (g !== null)) problems.push(`output ${k}: requiresGrad ${out.requiresGrad}, expected ${g !== null}`);
    if (g !== null && out.requiresGrad) pairs.push([out, fromFixture(g)]);
  });
  if (pairs.length === 0 || problems.length > 0) return;
  let total: Tensor | null = null;
  for (const [o, g] of pairs) total = total ? total.add(o.mul(g).sum()) : o.mul(g).sum();
  total!.backward();
  c.grads.forEach((exp, i) => {
    if (exp === null) return;
    const got = leaves[i]?.grad ?? null;
    if (got === null) problems.push(`grad of input ${i}: got null`);
    else problems.push(...compareTensor(`grad of input ${i}`, got, exp));
  });
}

/**
 * One test per case of a functional family, dispatched on the case's `fn`; a case whose `fn` has
 * no implementation fails.
 */
export function replayFunctional(family: string, impls: Record<string, FunctionalImpl>): void {
  for (const [name, c] of Object.entries(loadNn<FunctionalCase>(family))) {
    test(name, () => {
      const impl = impls[c.fn];
      if (!impl) throw new Error(`no implementation for fixture fn '${c.fn}'`);
      const leaves = c.inputs.map((t) => fromFixture(t, t.requiresGrad === true));
      const named: Named = Object.fromEntries(c.inputNames.map((n, i) => [n, leaves[i]!]));
      const problems: string[] = [];
      checkRun(leaves, asList(impl(named, c.options)), c, problems);
      fail(problems.map((p) => `${family}/${name} (${c.fn} ${JSON.stringify(c.options)}): ${p}`));
    });
  }
}

/** A state dict of fresh tensors from fixture tensors. */
export function stateFrom(state: Record<string, FixtureTensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [k, fromFixture(t)]));
}

/**
 * One test per module case: build the module, load the recorded state (strict), then for each
 * step set train/eval, zero grads, run `call`, backward, and compare outputs, input and
 * parameter gradients and the state after the step.
 */
export function replayModules(build: Record<string, (args: unknown[], options: Options) => AnyModule>): void {
  for (const [name, c] of Object.entries(loadNn<ModuleCase>('modules'))) {
    test(name, () => {
      const make = build[c.module];
      if (!make) throw new Error(`no builder for module '${c.module}'`);
      const m = make(c.args, c.options);
      const { missingKeys, unexpectedKeys } = m.loadStateDict(stateFrom(c.state));
      expect([missingKeys, unexpectedKeys]).toEqual([[], []]);
      c.steps.forEach((step, s) => {
        m.train(step.train);
        m.zeroGrad();
        const leaves = step.inputs.map((t) => fromFixture(t, t.requiresGrad === true));
        const problems: string[] = [];
        checkRun(leaves, asList(m.call(...leaves) as Tensor), step, problems);
        const params = new Map(m.namedParameters());
        for (const [k, exp] of Object.entries(step.paramGrads)) {
          const p = params.get(k);
          if (!p) problems.push(`no parameter ${k}`);
          else if (!p.grad) problems.push(`parameter ${k}: no grad`);
          else problems.push(...compareTensor(`grad of ${k}`, p.grad, exp));
        }
        const sd = m.stateDict();
        expect(Object.keys(sd)).toEqual(Object.keys(step.stateAfter));
        for (const [k, exp] of Object.entries(step.stateAfter)) problems.push(...compareTensor(`state ${k}`, sd[k]!, exp));
        fail(problems.map((p) => `modules/${name} step ${s}: ${p}`));
      });
    });
  }
}
