// Layers as modules judged by PyTorch (fixtures: test/fixtures/nn/modules.json, recorded by
// scripts/torch_fixtures_nn.py): the recorded weights are loaded with loadStateDict, then each
// step (train or eval) compares outputs, input and parameter gradients, and the state dict after
// the step (BatchNorm running stats and numBatchesTracked included).
import * as nn from '../../src/nn/index.js';
import type { Size2 } from '../../src/nn/functional.js';
import { replayModules, type Options } from './nn-fixtures.js';

const size2 = (v: unknown): Size2 => (typeof v === 'number' ? v : [Number((v as unknown[])[0]), Number((v as unknown[])[1])]);
const int = (v: unknown): number => Number(v);
const opts = (o: Options): Options => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? size2(v) : v]));

replayModules({
  Linear: ([i, o], op) => new nn.Linear(int(i), int(o), { dtype: 'float64', ...opts(op) }),
  Conv2d: ([i, o, k], op) => new nn.Conv2d(int(i), int(o), size2(k), { dtype: 'float64', ...opts(op) }),
  MaxPool2d: ([k], op) => new nn.MaxPool2d(size2(k), opts(op)),
  AvgPool2d: ([k], op) => new nn.AvgPool2d(size2(k), opts(op)),
  BatchNorm1d: ([n], op) => new nn.BatchNorm1d(int(n), { dtype: 'float64', ...op }),
  BatchNorm2d: ([n], op) => new nn.BatchNorm2d(int(n), { dtype: 'float64', ...op }),
  LayerNorm: ([shape]) => new nn.LayerNorm(shape as number[], { dtype: 'float64' }),
  Embedding: ([n, d], op) => new nn.Embedding(int(n), int(d), { dtype: 'float64', ...op }),
  MLP: () => new nn.Sequential(
    new nn.Linear(4, 5, { dtype: 'float64' }), new nn.Tanh(), new nn.Linear(5, 2, { dtype: 'float64' }), new nn.GELU(),
  ),
});
