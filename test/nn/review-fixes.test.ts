// Regressions from the core review (PyTorch 1.13 behaviour checked with /usr/bin/python3):
// stateDict keeps modules registered twice, argument errors name the argument, layerNorm takes a
// number, the clipping aliases, and losses/embedding read their indices back at most once (and
// never where the device reads back only asynchronously).
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { backendFor } from '../../src/tensor/backend/device.js';
import { expectClose } from '../helpers/close.js';

const F = nn.functional;
const int = (data: number[]): Tensor => tg.tensor(data, { dtype: 'int32' });

describe('stateDict (2.8)', () => {
  test('a module registered twice is saved under both names; parameters() de-duplicates', () => {
    const lin = new nn.Linear(2, 2);
    const seq = new nn.Sequential(lin, lin);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(seq.parameters()).toHaveLength(2);
    // Loading the full dict (strict) finds every key.
    const copy = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 2));
    expect(copy.loadStateDict(seq.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(seq.loadStateDict(copy.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
  });

  test('prefix and nested duplicates', () => {
    const inner = new nn.Linear(1, 1, { bias: false });
    const outer = new nn.Sequential(new nn.Sequential(inner), inner);
    expect(Object.keys(outer.stateDict({ prefix: 'm.' }))).toEqual(['m.0.0.weight', 'm.1.weight']);
  });
});

describe('arguments that must be tensors (4)', () => {
  test('Linear / F.linear with a plain array name the argument', () => {
    const lin = new nn.Linear(3, 1);
    expect(() => lin.call([[1, 2, 3]] as never)).toThrow("linear(): argument 'input' (position 1) must be Tensor, not list");
    expect(() => F.linear(tg.ones([1, 3]), [[1, 2, 3]] as never)).toThrow("linear(): argument 'weight' (position 2) must be Tensor, not list");
  });

  test('losses with plain arrays (PyTorch wording)', () => {
    expect(() => F.crossEntropy([[1, 2]] as never, int([0]))).toThrow("cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not list");
    expect(() => F.crossEntropy(tg.ones([1, 2]), [0] as never)).toThrow("cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not list");
    expect(() => F.mseLoss(tg.ones(2), [1, 2] as never)).toThrow("mse_loss(): argument 'target' (position 2) must be Tensor, not list");
    expect(() => F.nllLoss([[1]] as never, int([0]))).toThrow("nll_loss(): argument 'input' (position 1) must be Tensor, not list");
    expect(() => F.embedding([0] as never, tg.ones([2, 2]))).toThrow("embedding(): argument 'input' (position 1) must be Tensor, not list");
  });

  test('F.layerNorm accepts a number for normalizedShape', () => {
    const x = tg.tensor([[1, 2, 3], [2, 4, 9]]);
    expectClose(F.layerNorm(x, 3), F.layerNorm(x, [3]));
  });
});

describe('nn.utils aliases (6)', () => {
  test('clipGradNorm_ and clipGradValue_ are PyTorch\'s in-place names', () => {
    const p = tg.tensor([3, 4], { requiresGrad: true });
    p.grad = tg.tensor([3, 4]);
    expectClose(nn.utils.clipGradNorm_([p], 1), 5);
    expectClose(p.grad, [0.6, 0.8], { atol: 1e-6 });
    nn.utils.clipGradValue_([p], 0.7);
    expectClose(p.grad, [0.6, 0.7], { atol: 1e-6 });
  });
});

describe('indices are read back at most once (7.2)', () => {
  const cpu = backendFor('cpu') as { read: (x: unknown) => unknown; canReadSync?: (x: unknown) => boolean };
  afterEach(() => {
    vi.restoreAllMocks();
    delete cpu.canReadSync;
  });
  const logits = () => tg.tensor([[2, 0.5, -1], [0, 1, 0], [1, 1, 3]], { requiresGrad: true });
  const target = () => int([0, -100, 2]);
  const opts = { weight: tg.tensor([1, 2, 3]), ignoreIndex: -100, labelSmoothing: 0.1 };

  test('crossEntropy with weights, ignoreIndex and label smoothing: no extra reads on the CPU', () => {
    const x = logits();
    const t = target();
    const read = vi.spyOn(cpu, 'read');
    const loss = F.crossEntropy(x, t, opts);
    expect(read.mock.calls.filter(([v]) => (v as Tensor).storage === t.storage).length).toBeLessThanOrEqual(1);
    expect(read).not.toHaveBeenCalled(); // the range check walks the host storage directly
    read.mockRestore();
    loss.backward();
    expect(x.grad!.shape).toEqual([3, 3]);
  });

  test('nothing is read where the backend cannot read synchronously, and the loss is the same', () => {
    const expected = F.crossEntropy(logits(), target(), opts).item();
    cpu.canReadSync = () => false;
    const read = vi.spyOn(cpu, 'read');
    const t = target();
    const loss = F.crossEntropy(logits(), t, opts);
    const emb = F.embedding(int([1, 0]), tg.ones([2, 3]));
    const picked = tg.tensor([[1, 2], [3, 4]]).gather(1, int([1, 0]).reshape([2, 1]));
    expect(read).not.toHaveBeenCalled();
    delete cpu.canReadSync;
    expect(loss.item()).toBeCloseTo(expected, 6);
    expect(emb.shape).toEqual([2, 3]);
    expect(picked.toArray()).toEqual([[2], [3]]);
  });

  test('range errors survive the cheaper checks', () => {
    expect(() => F.crossEntropy(logits(), int([0, 3, 1]))).toThrow('Target 3 is out of bounds.');
    expect(() => F.crossEntropy(logits(), int([0, -100, -1]), { ignoreIndex: -100 })).toThrow('Target -1 is out of bounds.');
    expect(() => F.embedding(int([0, 2]), tg.ones([2, 3]))).toThrow('index out of range in self');
    expect(() => tg.ones([2, 2]).indexSelect(1, int([0, 2]))).toThrow('index out of range in self');
    expect(() => tg.ones([2, 2]).gather(1, int([0, 5, 1, 0]).reshape([2, 2]))).toThrow('gather(): index 5 is out of bounds for dimension 1 with size 2');
    // A broadcast (stride-0) index is checked without being materialised.
    expect(() => tg.ones([3, 2]).gather(0, int([4]).reshape([1, 1]).expand([3, 2]))).toThrow('index 4 is out of bounds');
  });

  test('embedding and indexSelect read their indices once, not once per output row', () => {
    const idx = int([1, 0, 1]);
    const read = vi.spyOn(cpu, 'read');
    const rows = F.embedding(idx, tg.tensor([[1, 2], [3, 4]]));
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
    expect(rows.toArray()).toEqual([[3, 4], [1, 2], [3, 4]]);
  });
});
