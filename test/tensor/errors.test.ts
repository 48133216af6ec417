// Error parity: user errors worded as PyTorch 1.13 words them (checked with /usr/bin/python3),
// with int32 standing in for int64 where a dtype is named. Error classes follow STYLE.md §9:
// RangeError for bad values and shapes, TypeError for bad types, Error for state problems.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';

const idx = (data: number[] | number[][]) => tg.tensor(data, { dtype: 'int32' });

describe('the errors named in the issue', () => {
  test('broadcasting', () => {
    expect(() => tg.ones(3).add(tg.ones(2, 4))).toThrow('The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1');
    expect(() => tg.ones(2, 3).mul(tg.ones(2, 4))).toThrow(RangeError);
    // the rightmost mismatch is named, as PyTorch's infer_size
    expect(() => tg.broadcastShapes([2, 3], [3, 2])).toThrow('The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1');
    expect(() => tg.ones(5, 1, 4).add(tg.ones(3, 2))).toThrow('The size of tensor a (4) must match the size of tensor b (2) at non-singleton dimension 2');
  });

  test('matmul', () => {
    expect(() => tg.ones(2, 3).matmul(tg.ones(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)');
    expect(() => tg.ones(2, 3).mm(tg.ones(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)');
    expect(() => tg.ones(3).matmul(tg.ones(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)');
    expect(() => tg.ones(2, 2, 3).matmul(tg.ones(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)');
    expect(() => tg.ones(3).matmul(tg.ones(4))).toThrow('inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively');
    expect(() => tg.ones(3).dot(tg.ones(4))).toThrow('inconsistent tensor size');
    expect(() => tg.ones(2, 2, 3).bmm(tg.ones(2, 4, 5))).toThrow('Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].');
    expect(() => tg.tensor(1).matmul(tg.ones(2))).toThrow('both arguments to matmul need to be at least 1D, but they are 0D and 1D');
    expect(() => tg.ones(2, 2, 3).matmul(tg.ones(3, 3, 5))).toThrow('The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0');
    expect(() => tg.ones(2).matmul(tg.ones(2, { dtype: 'float64' }))).toThrow(TypeError);
  });

  test('reshape and view', () => {
    expect(() => tg.ones(2, 3).reshape(2, 5)).toThrow("shape '[2, 5]' is invalid for input of size 6");
    expect(() => tg.ones(6).view(4, -1)).toThrow("shape '[4, -1]' is invalid for input of size 6");
    expect(() => tg.ones(6).reshape(-1, -1)).toThrow('only one dimension can be inferred');
    expect(() => tg.ones(2, 3).t().view(6)).toThrow("view size is not compatible with input tensor's size and stride");
    expect(() => tg.ones(6).unflatten(0, [4, -1])).toThrow("shape '[4, -1]' is invalid for input of size 6");
  });

  test('dimension out of range, everywhere a dim is taken', () => {
    const msg = 'Dimension out of range (expected to be in range of [-2, 1], but got 2)';
    const x = tg.ones(2, 3);
    for (const f of [() => x.sum(2), () => x.mean(2), () => x.max(2), () => x.softmax(2), () => x.transpose(0, 2), () => x.squeeze(2),
      () => x.select(2, 0), () => x.narrow(2, 0, 1), () => x.gather(2, idx([[0]])), () => tg.cat([x, x], 2), () => x.argmax(2), () => x.size(2)]) {
      expect(f).toThrow(msg);
    }
    expect(() => x.sum(-3)).toThrow('Dimension out of range (expected to be in range of [-2, 1], but got -3)');
    expect(() => x.unsqueeze(3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
    expect(() => tg.stack([x, x], 3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
    expect(() => tg.tensor(1).sum(1)).toThrow('Dimension out of range (expected to be in range of [-1, 0], but got 1)');
    expect(() => x.sum([0, 0])).toThrow('dim 0 appears multiple times in the list of dims');
    expect(() => x.sum(2)).toThrow(RangeError);
  });

  test('implicit gradient for a non-scalar output', () => {
    expect(() => tg.ones([2], { requiresGrad: true }).mul(2).backward()).toThrow('grad can be implicitly created only for scalar outputs');
  });
});

describe('indexing', () => {
  test('index dtype must be int32 (PyTorch: int64)', () => {
    expect(() => tg.ones(2, 3).gather(1, tg.tensor([[0, 1]]))).toThrow('gather(): Expected dtype int32 for index, got float32');
    expect(() => tg.ones(2, 3).scatterAdd(1, tg.tensor([[0, 1]]), tg.ones(1, 2))).toThrow(TypeError);
    expect(() => tg.ones(2, 3).indexSelect(0, tg.tensor([0]))).toThrow('index_select(): Expected dtype int32 for index, got float32');
  });

  test('out-of-bounds and malformed indices', () => {
    expect(() => tg.ones(2, 3).gather(1, idx([[0, 3]]))).toThrow('index 3 is out of bounds for dimension 1 with size 3');
    expect(() => tg.ones(2, 3).gather(1, idx([[0, -1]]))).toThrow('index -1 is out of bounds for dimension 1 with size 3');
    expect(() => tg.ones(2, 3).gather(1, idx([0, 1]))).toThrow('Index tensor must have the same number of dimensions as input tensor');
    expect(() => tg.ones(2).scatterAdd(0, idx([3]), tg.ones(1))).toThrow('index 3 is out of bounds for dimension 0 with size 2');
    expect(() => tg.ones(2, 3).indexSelect(0, idx([0, 5]))).toThrow('index out of range in self');
    expect(() => tg.ones(2, 3).indexSelect(0, idx([[0]]))).toThrow('index_select(): Index is supposed to be a vector');
    expect(() => tg.ones(2, 3).select(1, 3)).toThrow('select(): index 3 out of range for tensor of size [2, 3] at dimension 1');
    expect(() => tg.ones(2, 3).narrow(1, 2, 2)).toThrow('start (2) + length (2) exceeds dimension size (3).');
  });

  test('masks and conditions must be bool', () => {
    expect(() => tg.ones(2, 3).maskedFill(tg.ones(2, 3), 0)).toThrow('masked_fill_ only supports boolean masks, but got mask with dtype float32');
    expect(() => tg.where(tg.ones(2), tg.ones(2), 0)).toThrow('where expected condition to be a boolean tensor, but got a tensor with dtype float32');
  });
});

describe('joining and movement', () => {
  test('cat / stack', () => {
    expect(() => tg.cat([tg.ones(2, 3), tg.ones(3, 2)])).toThrow('Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in the list.');
    expect(() => tg.cat([tg.ones(2, 3), tg.ones(3)])).toThrow('Tensors must have same number of dimensions: got 2 and 1');
    expect(() => tg.cat([])).toThrow('torch.cat(): expected a non-empty list of Tensors');
    expect(() => tg.cat([tg.tensor(1), tg.tensor(2)])).toThrow('zero-dimensional tensor (at position 0) cannot be concatenated');
    expect(() => tg.stack([tg.ones(2, 3), tg.ones(3, 2)])).toThrow('stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1');
    expect(() => tg.stack([])).toThrow('stack expects a non-empty TensorList');
  });

  test('expand, permute, flatten, split, chunk, unbind, t', () => {
    expect(() => tg.ones(2, 3).expand(3, 3)).toThrow('The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]');
    expect(() => tg.ones(2, 3).expand(3)).toThrow('expand: the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)');
    expect(() => tg.ones(2, 3).permute(0, 0)).toThrow('permute(): duplicate dims are not allowed.');
    expect(() => tg.ones(2, 3).permute(0)).toThrow(/number of dimensions in the tensor input does not match the length of the desired ordering of dimensions/);
    expect(() => tg.ones(2, 3).flatten(1, 0)).toThrow('flatten() has invalid args: start_dim cannot come after end_dim');
    expect(() => tg.ones(2, 3).split([1, 1], 1)).toThrow("split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but got split_sizes=[1, 1]");
    expect(() => tg.ones(2, 3).chunk(0)).toThrow('chunk expects `chunks` to be greater than 0, got: 0');
    expect(() => tg.tensor(1).unbind(0)).toThrow('Dimension specified as 0 but tensor has no dimensions');
    expect(() => tg.ones(2, 2, 2).t()).toThrow('t() expects a tensor with <= 2 dimensions, but self is 3D');
    expect(() => tg.ones(3).mT).toThrow('tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.');
    expect(() => tg.tensor(1).select(0, 0)).toThrow('select() cannot be applied to a 0-dim tensor.');
    expect(() => tg.tensor(1).narrow(0, 0, 1)).toThrow('narrow() cannot be applied to a 0-dim tensor.');
  });
});

describe('reductions and misc', () => {
  test('empty reductions and clamp without bounds', () => {
    expect(() => tg.zeros([0]).max()).toThrow("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
    expect(() => tg.zeros([0]).min()).toThrow('min(): Expected reduction dim to be specified for input.numel() == 0.');
    expect(() => tg.zeros([0]).argmax()).toThrow('argmax(): Expected reduction dim to be specified for input.numel() == 0.');
    expect(() => tg.zeros(2, 0).amax(1)).toThrow('amax(): Expected reduction dim 1 to have non-zero size.');
    expect(() => tg.ones(2).clamp()).toThrow("torch.clamp: At least one of 'min' or 'max' must not be None");
  });

  test('in-place broadcasting must fit the destination', () => {
    expect(() => tg.ones(3).add_(tg.ones(2, 3))).toThrow("output with shape [3] doesn't match the broadcast shape [2, 3]");
  });
});
