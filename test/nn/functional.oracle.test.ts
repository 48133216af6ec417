// Functional layers judged by PyTorch (fixtures: test/fixtures/nn/functional.json, recorded by
// scripts/torch_fixtures_nn.py): linear, conv2d (stride/padding/dilation/groups/'same'),
// pooling (ceilMode, countIncludePad, ties), pad modes, unfold, embedding (paddingIdx),
// batch/layer norm (running stats after the step), oneHot and dropout (p = 0, eval).
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type { PadMode, Size2 } from '../../src/nn/functional.js';
import { replayFunctional, type FunctionalImpl, type Options } from './nn-fixtures.js';

const F = nn.functional;
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const size2 = (v: unknown, fallback: Size2): Size2 =>
  typeof v === 'number' ? v : Array.isArray(v) ? [Number(v[0]), Number(v[1])] : fallback;
const opt = <T>(o: Options, key: string, f: (v: unknown) => T): { [k: string]: T } => (key in o && o[key] !== null ? { [key]: f(o[key]) } : {});

const impls: Record<string, FunctionalImpl> = {
  linear: ({ input, weight, bias }) => F.linear(input!, weight!, bias ?? null),
  conv2d: ({ input, weight, bias }, o) =>
    F.conv2d(input!, weight!, bias ?? null, {
      stride: size2(o.stride, 1),
      padding: o.padding === 'same' || o.padding === 'valid' ? o.padding : size2(o.padding, 0),
      dilation: size2(o.dilation, 1),
      groups: num(o.groups, 1),
    }),
  max_pool2d: ({ input }, o) =>
    F.maxPool2d(input!, size2(o.kernelSize, 1), {
      ...opt(o, 'stride', (v) => size2(v, 1)), padding: size2(o.padding, 0), dilation: size2(o.dilation, 1), ceilMode: o.ceilMode === true,
    }),
  avg_pool2d: ({ input }, o) =>
    F.avgPool2d(input!, size2(o.kernelSize, 1), {
      ...opt(o, 'stride', (v) => size2(v, 1)), padding: size2(o.padding, 0), ceilMode: o.ceilMode === true,
      countIncludePad: o.countIncludePad !== false, ...opt(o, 'divisorOverride', Number),
    }),
  pad: ({ input }, o) => F.pad(input!, o.pad as number[], { mode: (o.mode ?? 'constant') as PadMode, value: num(o.value, 0) }),
  unfold: ({ input }, o) =>
    F.unfold(input!, size2(o.kernelSize, 1), { padding: size2(o.padding, 0), dilation: size2(o.dilation, 1), stride: size2(o.stride, 1) }),
  embedding: ({ input, weight }, o) => F.embedding(input!, weight!, { paddingIdx: typeof o.paddingIdx === 'number' ? o.paddingIdx : null }),
  batch_norm: ({ input, weight, bias, runningMean, runningVar }, o) => {
    const rm = runningMean?.clone() ?? null;
    const rv = runningVar?.clone() ?? null;
    const y = F.batchNorm(input!, rm, rv, {
      weight: weight ?? null, bias: bias ?? null, training: o.training === true, momentum: num(o.momentum, 0.1), eps: num(o.eps, 1e-5),
    });
    return [y, ...[rm, rv].filter((t): t is Tensor => t !== null)];
  },
  layer_norm: ({ input, weight, bias }, o) =>
    F.layerNorm(input!, o.normalizedShape as number[], { weight: weight ?? null, bias: bias ?? null, eps: num(o.eps, 1e-5) }),
  one_hot: ({ input }, o) => F.oneHot(input!, num(o.numClasses, -1)),
  dropout: ({ input }, o) => F.dropout(input!, { p: num(o.p, 0.5), training: o.training !== false }),
};

replayFunctional('functional', impls);
