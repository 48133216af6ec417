// Activations judged by PyTorch (fixtures: test/fixtures/nn/activation.json, recorded by
// scripts/torch_fixtures_nn.py): values and input gradients, float64 1e-9 relative.
import * as nn from '../../src/nn/index.js';
import { replayFunctional, type FunctionalImpl } from './nn-fixtures.js';

const F = nn.functional;
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

const impls: Record<string, FunctionalImpl> = {
  relu: ({ x }) => F.relu(x!),
  relu6: ({ x }) => F.relu6(x!),
  leaky_relu: ({ x }, o) => F.leakyRelu(x!, num(o.negativeSlope, 0.01)),
  elu: ({ x }, o) => F.elu(x!, num(o.alpha, 1)),
  gelu: ({ x }, o) => F.gelu(x!, { approximate: o.approximate === 'tanh' ? 'tanh' : 'none' }),
  silu: ({ x }) => F.silu(x!),
  softplus: ({ x }, o) => F.softplus(x!, { beta: num(o.beta, 1), threshold: num(o.threshold, 20) }),
  logsigmoid: ({ x }) => F.logSigmoid(x!),
  sigmoid: ({ x }) => F.sigmoid(x!),
  tanh: ({ x }) => F.tanh(x!),
  hardtanh: ({ x }, o) => F.hardtanh(x!, num(o.minVal, -1), num(o.maxVal, 1)),
  softmax: ({ x }, o) => F.softmax(x!, num(o.dim, -1)),
  log_softmax: ({ x }, o) => F.logSoftmax(x!, num(o.dim, -1)),
  erf: ({ x }) => F.erf(x!),
};

replayFunctional('activation', impls);
