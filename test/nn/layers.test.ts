// Layer behaviour beyond the PyTorch fixtures: Dropout statistics and modes, BatchNorm modes,
// Embedding's padding row, module/functional agreement, and PyTorch-worded errors.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

const F = nn.functional;

describe('Dropout', () => {
  test('zeroes about p of the elements and scales the rest by 1 / (1 - p)', () => {
    tg.manualSeed(0);
    const x = tg.ones([100, 100]);
    const y = new nn.Dropout(0.3).call(x).dataSync();
    const zeros = y.filter((v) => v === 0).length;
    expect(Math.abs(zeros / y.length - 0.3)).toBeLessThan(0.02);
    const scaled = Math.fround(1 / 0.7);
    expect(y.every((v) => v === 0 || v === scaled)).toBe(true);
  });

  test('uses the default generator: same seed, same mask; a generator option is independent', () => {
    tg.manualSeed(5);
    const a = F.dropout(tg.ones([50]), { p: 0.5 }).toArray();
    tg.manualSeed(5);
    expect(F.dropout(tg.ones([50]), { p: 0.5 }).toArray()).toEqual(a);
    const g1 = F.dropout(tg.ones([50]), { generator: new tg.Generator(9) }).toArray();
    expect(F.dropout(tg.ones([50]), { generator: new tg.Generator(9) }).toArray()).toEqual(g1);
  });

  test('identity in eval mode and for p = 0; p = 1 zeroes; gradient is the mask', () => {
    const x = tg.randn([4, 4], { requiresGrad: true });
    const d = new nn.Dropout(0.5);
    d.eval();
    expect(d.call(x)).toBe(x);
    expect(F.dropout(x, { p: 0 })).toBe(x);
    expect(F.dropout(x, { p: 1 }).abs().sum().item()).toBe(0);
    const y = F.dropout(x, { p: 0.5 });
    y.sum().backward();
    const g = x.grad!.dataSync();
    y.dataSync().forEach((v, i) => expect(g[i]).toBe(v === 0 ? 0 : 2));
    expect(() => new nn.Dropout(1.5)).toThrow('dropout probability has to be between 0 and 1, but got 1.5');
  });
});

describe('BatchNorm', () => {
  test('train updates running stats with the unbiased variance; eval uses them', () => {
    const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
    const x = tg.tensor([[1, 10], [3, 14]]);
    const y = bn.call(x);
    expect(y.toArray()).toEqual([[expect.closeTo(-1, 4), expect.closeTo(-1, 4)], [expect.closeTo(1, 4), expect.closeTo(1, 4)]]);
    expect(bn.runningMean!.toArray()).toEqual([1, 6]);
    expect(bn.runningVar!.toArray()).toEqual([0.5 + 0.5 * 2, 0.5 + 0.5 * 8]);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.eval();
    const z = bn.call(tg.tensor([[1, 6]]));
    expect(z.toArray()).toEqual([[0, 0]]);
    expect(bn.numBatchesTracked!.item()).toBe(1);
  });

  test('errors as PyTorch', () => {
    expect(() => new nn.BatchNorm1d(3).call(tg.randn([1, 3]))).toThrow('Expected more than 1 value per channel when training, got input size [1, 3]');
    expect(() => new nn.BatchNorm2d(3).call(tg.randn([2, 3, 4]))).toThrow('expected 4D input (got 3D input)');
    expect(() => new nn.BatchNorm1d(3).call(tg.randn([2, 3, 4, 5]))).toThrow('expected 2D or 3D input (got 4D input)');
    expect(() => F.batchNorm(tg.randn([2, 4]), tg.zeros([3]), tg.ones([3]), { training: true })).toThrow('running_mean should contain 4 elements not 3');
    expect(() => F.layerNorm(tg.randn([2, 3]), [4])).toThrow('Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]');
  });

  test('resetRunningStats and resetParameters', () => {
    const bn = new nn.BatchNorm1d(2);
    bn.call(tg.randn([4, 2]));
    bn.resetParameters();
    expect(bn.runningMean!.toArray()).toEqual([0, 0]);
    expect(bn.runningVar!.toArray()).toEqual([1, 1]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
  });
});

describe('Embedding', () => {
  test('padding row starts at zero and gets no gradient; fromPretrained freezes', () => {
    const emb = new nn.Embedding(5, 3, { paddingIdx: 0 });
    expect(emb.weight.select(0, 0).toArray()).toEqual([0, 0, 0]);
    emb.call(tg.tensor([[0, 1, 0, 4]], { dtype: 'int32' })).sum().backward();
    const g = emb.weight.grad!.toArray() as number[][];
    expect(g[0]).toEqual([0, 0, 0]);
    expect(g[1]).toEqual([1, 1, 1]);
    expect(g[2]).toEqual([0, 0, 0]);
    const pre = nn.Embedding.fromPretrained(tg.eye(3));
    expect(pre.weight.requiresGrad).toBe(false);
    expect(pre.call(tg.tensor([2], { dtype: 'int32' })).toArray()).toEqual([[0, 0, 1]]);
  });

  test('errors name the fix', () => {
    const emb = new nn.Embedding(3, 2);
    expect(() => emb.call(tg.tensor([1, 2]))).toThrow(/Expected tensor for argument #1 'indices'[\s\S]*\{ dtype: 'int32' \}/);
    expect(() => emb.call(tg.tensor([5], { dtype: 'int32' }))).toThrow('index out of range in self');
    expect(() => new nn.Embedding(3, 2, { paddingIdx: 3 })).toThrow('Padding_idx must be within num_embeddings');
  });
});

describe('shapes and errors of the other layers', () => {
  test('Flatten, Unflatten, Identity, Softmax without dim', () => {
    expect(new nn.Flatten().call(tg.zeros([2, 3, 4])).shape).toEqual([2, 12]);
    expect(new nn.Flatten(0, 1).call(tg.zeros([2, 3, 4])).shape).toEqual([6, 4]);
    expect(new nn.Unflatten(1, [2, -1]).call(tg.zeros([3, 6])).shape).toEqual([3, 2, 3]);
    expect(() => new nn.Unflatten(1, [2, 2]).call(tg.zeros([3, 5])))
      .toThrow("unflatten: Provided sizes [2, 2] don't multiply up to the size of dim 1 (5) in the input tensor");
    const x = tg.randn([2, 3]);
    expect(new nn.Identity().call(x)).toBe(x);
    expect(new nn.Softmax().call(x).sum(1).toArray()).toEqual([expect.closeTo(1, 6), expect.closeTo(1, 6)]);
    expect(new nn.Softmax().call(tg.randn([2, 3, 4])).sum(0).sub(1).abs().amax().item()).toBeLessThan(1e-6);
  });

  test('modules agree with their functional forms', () => {
    tg.manualSeed(1);
    const x = tg.randn([2, 3, 6, 6]);
    const conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
    expect(conv.call(x).equal(F.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1 }))).toBe(true);
    expect(new nn.MaxPool2d(2).call(x).equal(F.maxPool2d(x, 2))).toBe(true);
    expect(new nn.AvgPool2d(3, { stride: 1, padding: 1 }).call(x).equal(F.avgPool2d(x, 3, { stride: 1, padding: 1 }))).toBe(true);
    const ln = new nn.LayerNorm([6, 6]);
    expect(ln.call(x).equal(F.layerNorm(x, [6, 6], { weight: ln.weight, bias: ln.bias }))).toBe(true);
    for (const [m, f] of [
      [new nn.GELU({ approximate: 'tanh' }), (t: tg.Tensor) => F.gelu(t, { approximate: 'tanh' })],
      [new nn.LeakyReLU(0.2), (t: tg.Tensor) => F.leakyRelu(t, 0.2)],
      [new nn.Softplus({ beta: 2 }), (t: tg.Tensor) => F.softplus(t, { beta: 2 })],
      [new nn.Hardtanh(-0.5, 0.5), (t: tg.Tensor) => F.hardtanh(t, -0.5, 0.5)],
      [new nn.ELU(0.5), (t: tg.Tensor) => F.elu(t, 0.5)],
      [new nn.ReLU6(), F.relu6], [new nn.SiLU(), F.silu], [new nn.Sigmoid(), F.sigmoid], [new nn.Tanh(), F.tanh],
      [new nn.LogSigmoid(), F.logSigmoid], [new nn.LogSoftmax(1), (t: tg.Tensor) => F.logSoftmax(t, 1)],
    ] as const) {
      expect((m as nn.TensorModule).call(x).equal(f(x))).toBe(true);
    }
  });

  test('conv and pooling errors are worded as PyTorch', () => {
    const x = tg.randn([1, 4, 5, 5]);
    expect(() => F.conv2d(x, tg.randn([8, 3, 3, 3])))
      .toThrow('Given groups=1, weight of size [8, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 channels, but got 4 channels instead');
    expect(() => F.conv2d(tg.randn([1, 3, 2, 2]), tg.randn([8, 3, 3, 3])))
      .toThrow("Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size");
    expect(() => F.conv2d(tg.randn([4, 5]), tg.randn([4, 2, 3, 3])))
      .toThrow('Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [4, 5]');
    expect(() => F.conv2d(x, tg.randn([4, 4, 3, 3]), null, { stride: 2, padding: 'same' })).toThrow("padding='same' is not supported for strided convolutions");
    expect(() => new nn.Conv2d(4, 4, 3, { groups: 3 })).toThrow('in_channels must be divisible by groups');
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 3 })).toThrow('out_channels must be divisible by groups');
    expect(() => F.maxPool2d(x, 3, { padding: 2 })).toThrow('pad should be at most half of kernel size, but got pad=2 and kernel_size=3');
    expect(() => F.avgPool2d(tg.randn([1, 2, 1, 1]), 3)).toThrow('Given input size: (2x1x1). Calculated output size: (2x0x0). Output size is too small');
    expect(() => F.pad(tg.randn([1, 2, 3]), [3, 3], { mode: 'reflect' }))
      .toThrow('Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (3, 3) at dimension 2 of input [1, 2, 3]');
    expect(() => F.pad(tg.randn([3]), [1, 1], { mode: 'reflect' })).toThrow('Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now');
    expect(() => F.pad(tg.randn([1, 3]), [1, 1, 1])).toThrow('Padding length must be divisible by 2');
    expect(() => F.linear(tg.randn([5, 3]), tg.randn([2, 4]))).toThrow('mat1 and mat2 shapes cannot be multiplied (5x3 and 4x2)');
  });

  test('oneHot', () => {
    expect(F.oneHot(tg.tensor([0, 2], { dtype: 'int32' })).toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    expect(F.oneHot(tg.tensor([1], { dtype: 'int32' }), 3).dtype).toBe('int32');
    expect(() => F.oneHot(tg.tensor([1, -1], { dtype: 'int32' }))).toThrow('Class values must be non-negative.');
    expect(() => F.oneHot(tg.tensor([1, 3], { dtype: 'int32' }), 2)).toThrow('Class values must be smaller than num_classes.');
    expect(() => F.oneHot(tg.tensor([1]))).toThrow(/one_hot is only applicable to index tensor/);
  });
});
