// Losses beyond the PyTorch fixtures: numerical stability at extreme logits (float32 and
// float64), the loss classes against the functional forms, and PyTorch-worded errors.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

const F = nn.functional;
const int = (data: Parameters<typeof tg.tensor>[0]): Tensor => tg.tensor(data, { dtype: 'int32' });
const finite = (t: Tensor): boolean => t.dataSync().every((v) => Number.isFinite(v));

describe('numerical stability', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    test(`logits of ±1e4 give finite losses and gradients (${dtype})`, () => {
      const logits = tg.tensor([[1e4, -1e4, 0], [-1e4, 1e4, 5e3]], { dtype, requiresGrad: true });
      const cases: (() => Tensor)[] = [
        () => F.crossEntropy(logits, int([1, 0])),
        () => F.crossEntropy(logits, int([1, 0]), { labelSmoothing: 0.1, weight: tg.tensor([1, 2, 3], { dtype }) }),
        () => F.crossEntropy(logits, tg.tensor([[0.2, 0.3, 0.5], [0, 0, 1]], { dtype })),
        () => F.nllLoss(F.logSoftmax(logits, 1), int([2, 2])),
        () => F.binaryCrossEntropyWithLogits(logits, tg.tensor([[1, 0, 0.5], [1, 1, 0]], { dtype })),
        () => F.binaryCrossEntropyWithLogits(logits, tg.tensor([[1, 0, 0.5], [1, 1, 0]], { dtype }), { posWeight: tg.tensor([3, 0.5, 2], { dtype }) }),
        () => F.softplus(logits).sum(),
        () => F.logSigmoid(logits).sum(),
        () => F.elu(logits).sum(),
      ];
      for (const make of cases) {
        logits.grad = null;
        const loss = make();
        expect(finite(loss)).toBe(true);
        loss.backward();
        expect(finite(logits.grad!)).toBe(true);
      }
      // The exact values: a wrong class costs the logit gap.
      expect(F.crossEntropy(logits.detach(), int([1, 0]), { reduction: 'none' }).toArray()).toEqual([2e4, 2e4]);
    });
  }

  test('bceLoss clamps the logs at -100, so 0 and 1 give finite losses', () => {
    const x = tg.tensor([0, 1, 0, 1], { requiresGrad: true });
    const loss = F.bceLoss(x, tg.tensor([1, 0, 0, 1]), { reduction: 'none' });
    expect(loss.toArray()).toEqual([100, 100, 0, -0]); // -0 as PyTorch's
    loss.sum().backward();
    expect(finite(x.grad!)).toBe(true);
  });
});

describe('loss classes hold options and call the functional losses', () => {
  test('each class equals its function', () => {
    tg.manualSeed(3);
    const x = tg.randn([4, 3]);
    const t = tg.randn([4, 3]);
    const p = tg.rand([4, 3]);
    const y = int([0, 2, 1, 2]);
    const w = tg.tensor([0.5, 1, 2]);
    const pairs: [Tensor, Tensor][] = [
      [new nn.MSELoss({ reduction: 'sum' }).call(x, t), F.mseLoss(x, t, { reduction: 'sum' })],
      [new nn.L1Loss().call(x, t), F.l1Loss(x, t)],
      [new nn.SmoothL1Loss({ beta: 0.5 }).call(x, t), F.smoothL1Loss(x, t, { beta: 0.5 })],
      [new nn.HuberLoss({ delta: 0.7, reduction: 'none' }).call(x, t), F.huberLoss(x, t, { delta: 0.7, reduction: 'none' })],
      [new nn.KLDivLoss({ reduction: 'batchmean' }).call(F.logSoftmax(x, 1), F.softmax(t, 1)), F.klDiv(F.logSoftmax(x, 1), F.softmax(t, 1), { reduction: 'batchmean' })],
      [new nn.BCELoss({ weight: w }).call(p, p.round()), F.bceLoss(p, p.round(), { weight: w })],
      [new nn.BCEWithLogitsLoss({ posWeight: w }).call(x, p), F.binaryCrossEntropyWithLogits(x, p, { posWeight: w })],
      [new nn.NLLLoss({ weight: w, ignoreIndex: 2 }).call(F.logSoftmax(x, 1), y), F.nllLoss(F.logSoftmax(x, 1), y, { weight: w, ignoreIndex: 2 })],
      [new nn.CrossEntropyLoss({ labelSmoothing: 0.2, weight: w }).call(x, y), F.crossEntropy(x, y, { labelSmoothing: 0.2, weight: w })],
    ];
    for (const [a, b] of pairs) expect(a.equal(b)).toBe(true);
  });

  test('class weights are buffers: they follow to(float64)', () => {
    const ce = new nn.CrossEntropyLoss({ weight: tg.tensor([1, 2]) });
    expect(ce.namedBuffers().map(([n]) => n)).toEqual(['weight']);
    ce.double();
    expect(ce.weight!.dtype).toBe('float64');
    const logits = tg.randn([3, 2], { dtype: 'float64' });
    expect(ce.call(logits, int([0, 1, 1])).dtype).toBe('float64');
    expect(Object.keys(new nn.BCEWithLogitsLoss({ posWeight: tg.ones([2]) }).stateDict())).toEqual(['posWeight']);
  });
});

describe('errors worded as PyTorch', () => {
  const logits = tg.randn([3, 4]);
  test('class-index losses', () => {
    expect(() => F.crossEntropy(logits, int([1, 2, 3, 0]))).toThrow('Expected input batch_size (3) to match target batch_size (4).');
    expect(() => F.nllLoss(logits, int([1, 2, 5]))).toThrow('Target 5 is out of bounds.');
    expect(() => F.crossEntropy(logits, int([1, 2, -1]))).toThrow('Target -1 is out of bounds.');
    expect(() => F.crossEntropy(logits, tg.tensor([1, 2, 3]))).toThrow(/expected scalar type Int but found float32[\s\S]*\{ dtype: 'int32' \}/);
    expect(() => F.nllLoss(logits, int([1, 2, 3]), { weight: tg.ones([3]) }))
      .toThrow('weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: [3]');
    expect(() => F.nllLoss(tg.randn([2, 3, 4]), int([[1, 2, 0], [1, 2, 0]]))).toThrow('Expected target size [2, 4], got [2, 3]');
    expect(() => F.nllLoss(logits, int([[1, 2, 3]]))).toThrow('Expected input batch_size (3) to match target batch_size (1).');
    expect(() => F.nllLoss(tg.tensor(1), int(1))).toThrow('Expected 1 or more dimensions (got 0)');
    expect(() => F.crossEntropy(logits, int([1, 2, 3]), { labelSmoothing: 1.5 })).toThrow('label_smoothing must be between 0.0 and 1.0. Got: 1.5');
    expect(() => F.crossEntropy(logits, tg.randn([3, 4]), { ignoreIndex: 1 })).toThrow('ignore_index is not supported for floating point target');
    expect(() => F.crossEntropy(logits, tg.ones([3, 4], { dtype: 'int32' }))).toThrow('Expected floating point type for target with class probabilities, got int32');
    expect(() => F.crossEntropy(logits, int([1, 2, 3]), { reduction: 'foo' as 'sum' })).toThrow('foo is not a valid value for reduction');
    expect(() => new nn.MSELoss({ reduction: 'avg' as 'sum' })).toThrow('avg is not a valid value for reduction');
  });

  test('regression and binary losses', () => {
    expect(() => F.bceLoss(tg.rand([3]), tg.rand([3, 1])))
      .toThrow('Using a target size ([3, 1]) that is different to the input size ([3]) is deprecated. Please ensure they have the same size.');
    expect(() => F.bceLoss(tg.tensor([1.5]), tg.rand([1]))).toThrow('all elements of input should be between 0 and 1');
    expect(() => F.binaryCrossEntropyWithLogits(tg.rand([3]), tg.rand([3, 1]))).toThrow('Target size ([3, 1]) must be the same as input size ([3])');
    expect(() => F.smoothL1Loss(tg.randn([3]), tg.randn([3]), { beta: -1 })).toThrow('smooth_l1_loss does not support negative values for beta.');
    expect(() => F.huberLoss(tg.randn([3]), tg.randn([3]), { delta: 0 })).toThrow('huber_loss does not support non-positive values for delta.');
    expect(() => F.klDiv(tg.randn([3]), tg.rand([3]), { reduction: 'foo' as 'sum' })).toThrow('foo is not a valid value for reduction');
  });
});
