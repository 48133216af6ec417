/**
 * optim.swaUtils against torch.optim.swa_utils (fixtures: scripts/torch_fixtures_optim.py):
 * AveragedModel with the SWA mean, EMA (`getEmaAvgFn`), the in-place EMA (`getEmaMultiAvgFn`,
 * recorded with torch.lerp) and `useBuffers`, fed the recorded states of a trained
 * Linear-BatchNorm-Tanh-Linear model; then `updateBn` and the averaged model's output.
 * Buffers without `useBuffers` follow PyTorch 2.x (kept in sync with the model).
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type { Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { expectRelClose, loadFixture } from './helpers.js';

const { AveragedModel, getEmaAvgFn, getEmaMultiAvgFn, updateBn } = optim.swaUtils;

interface Rec {
  shape: number[];
  dtype: string;
  data: number[];
}
type State = Record<string, Rec>;

interface SwaFixture {
  init: State;
  states: State[];
  X: number[][];
  Xtest: number[][];
  configs: {
    name: string;
    options: { avgFn?: 'ema'; multiAvgFn?: 'ema'; decay?: number; useBuffers?: boolean };
    averaged: { state: State; nAveraged: number }[];
    afterUpdateBn: State;
    output: Rec;
  }[];
}

const fx = loadFixture<SwaFixture>('swa');

function toTensors(state: State): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, r] of Object.entries(state)) out[k] = tg.tensor(r.data, { dtype: r.dtype === 'float64' ? 'float64' : 'int32', shape: r.shape });
  return out;
}

function makeModel(): InstanceType<typeof nn.Sequential> {
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.Tanh(), new nn.Linear(4, 2)).to('float64');
  model.loadStateDict(toTensors(fx.init));
  return model;
}

// Tolerance: float64, 1e-12 relative (a few operations per value).
function expectState(actual: Record<string, Tensor>, expected: State, what: string): void {
  expect(Object.keys(actual).sort(), what).toEqual(Object.keys(expected).sort());
  for (const [k, r] of Object.entries(expected)) expectRelClose(Array.from(actual[k]!.dataSync(), Number), r.data, 1e-12, 1e-14, `${what}: ${k}`);
}

describe('AveragedModel and updateBn match torch.optim.swa_utils', () => {
  for (const c of fx.configs) {
    test(c.name, () => {
      const model = makeModel();
      const { decay = 0.999 } = c.options;
      const swa = new AveragedModel(model, {
        ...(c.options.avgFn && { avgFn: getEmaAvgFn(decay) }),
        ...(c.options.multiAvgFn && { multiAvgFn: getEmaMultiAvgFn(decay) }),
        ...(c.options.useBuffers && { useBuffers: true }),
      });
      expect(swa.module).not.toBe(model);
      expect(swa.parameters().every((p, i) => p !== model.parameters()[i])).toBe(true);
      fx.states.forEach((st, i) => {
        model.loadStateDict(toTensors(st));
        swa.updateParameters(model);
        const exp = c.averaged[i]!;
        expect(swa.nAveraged.item()).toBe(exp.nAveraged);
        expectState(swa.module.stateDict(), exp.state, `after update ${i + 1}`);
      });
      const X = tg.tensor(fx.X, { dtype: 'float64' });
      updateBn([X.narrow(0, 0, 8), [X.narrow(0, 8, 8)]], swa);
      expectState(swa.module.stateDict(), c.afterUpdateBn, 'after updateBn');
      expect(swa.training).toBe(true);
      swa.eval();
      const out = tg.noGrad(() => swa.call(tg.tensor(fx.Xtest, { dtype: 'float64' })));
      expectRelClose(Array.from(out.dataSync()), c.output.data, 1e-12, 1e-14, 'output');
    });
  }

  test('the copy keeps the model structure and parameter flags; stateDict has nAveraged', () => {
    const model = makeModel();
    const swa = new AveragedModel(model);
    // As PyTorch: the root's own buffer first, then the children's entries.
    expect(Object.keys(swa.stateDict())).toEqual(['nAveraged', ...Object.keys(model.stateDict()).map((k) => `module.${k}`)]);
    expect(swa.module).toBeInstanceOf(nn.Sequential);
    expect(swa.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad)).toBe(true);
    const bn = swa.module.at(1) as InstanceType<typeof nn.BatchNorm1d>;
    expect(bn.momentum).toBe(0.1);
    updateBn([], swa);
    expect(bn.momentum).toBe(0.1);
  });
});
