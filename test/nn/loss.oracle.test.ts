// Every loss over a grid of its options, judged by PyTorch (fixtures: test/fixtures/nn/loss.json,
// recorded by scripts/torch_fixtures_nn.py): values and input gradients, float64 1e-9 relative.
import * as nn from '../../src/nn/index.js';
import type { Reduction } from '../../src/nn/functional.js';
import { replayFunctional, type FunctionalImpl, type Options } from './nn-fixtures.js';

const F = nn.functional;
const reduction = (o: Options): Reduction => (o.reduction === 'sum' || o.reduction === 'none' ? o.reduction : 'mean');
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

const impls: Record<string, FunctionalImpl> = {
  mse_loss: ({ input, target }, o) => F.mseLoss(input!, target!, { reduction: reduction(o) }),
  l1_loss: ({ input, target }, o) => F.l1Loss(input!, target!, { reduction: reduction(o) }),
  smooth_l1_loss: ({ input, target }, o) => F.smoothL1Loss(input!, target!, { reduction: reduction(o), beta: num(o.beta, 1) }),
  huber_loss: ({ input, target }, o) => F.huberLoss(input!, target!, { reduction: reduction(o), delta: num(o.delta, 1) }),
  kl_div: ({ input, target }, o) =>
    F.klDiv(input!, target!, { reduction: o.reduction === 'batchmean' ? 'batchmean' : reduction(o), logTarget: o.logTarget === true }),
  binary_cross_entropy: ({ input, target, weight }, o) => F.bceLoss(input!, target!, { weight: weight ?? null, reduction: reduction(o) }),
  binary_cross_entropy_with_logits: ({ input, target, weight, posWeight }, o) =>
    F.binaryCrossEntropyWithLogits(input!, target!, { weight: weight ?? null, posWeight: posWeight ?? null, reduction: reduction(o) }),
  nll_loss: ({ input, target, weight }, o) =>
    F.nllLoss(input!, target!, { weight: weight ?? null, ignoreIndex: num(o.ignoreIndex, -100), reduction: reduction(o) }),
  cross_entropy: ({ input, target, weight }, o) =>
    F.crossEntropy(input!, target!, {
      weight: weight ?? null, ignoreIndex: num(o.ignoreIndex, -100), reduction: reduction(o), labelSmoothing: num(o.labelSmoothing, 0),
    }),
};

replayFunctional('loss', impls);
