// Regressions from the core review, each checked against PyTorch 1.13 (/usr/bin/python3): bool
// arithmetic, in-place casting and overlap rules, exact integer division, validated sizes,
// dtypes and operands, the `.grad` setter, int32 sums, sign(NaN), norm's gradient at 0 for
// p < 1, PyTorch's dtype errors, and the aliases PyTorch users reach for.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';

const int = (data: number[]): Tensor => tg.tensor(data, { dtype: 'int32' });
const OVERLAP = 'unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.';

describe('bool semantics (2.1)', () => {
  test('bool + bool is logical or, bool * bool logical and; the storage stays 0/1', () => {
    const t = tg.tensor([true, false, true]);
    const u = tg.tensor([true, true, false]);
    expect(t.add(t).dtype).toBe('bool');
    expect(Array.from(t.add(t).dataSync())).toEqual([1, 0, 1]);
    expect(t.add(u).toArray()).toEqual([true, true, true]);
    expect(t.mul(u).toArray()).toEqual([true, false, false]);
    expect(Array.from(t.add(true).dataSync())).toEqual([1, 1, 1]);
    expect(t.add(t).sum().item()).toBe(2);
    // A number operand promotes to int32 as before.
    expect(t.add(1).toArray()).toEqual([2, 1, 2]);
  });

  test('tg.tensor(Uint8Array) is int32 data (image bytes keep their values)', () => {
    const img = tg.tensor(new Uint8Array([200, 3, 0]));
    expect(img.dtype).toBe('int32');
    expect(img.toArray()).toEqual([200, 3, 0]);
    expect(tg.tensor(new Uint8ClampedArray([255])).toArray()).toEqual([255]);
    expect(tg.tensor(new Int16Array([-5])).dtype).toBe('int32');
  });

  test('bool tensors hold 0 or 1 whatever the source', () => {
    expect(Array.from(tg.tensor(new Uint8Array([2, 0, 7]), { dtype: 'bool' }).dataSync())).toEqual([1, 0, 1]);
    expect(Array.from(tg.tensor(new Int32Array([-3, 0]), { dtype: 'bool' }).dataSync())).toEqual([1, 0]);
    const b = tg.zeros([2], { dtype: 'bool' });
    b.fillFromArray_([5, 0]);
    expect(Array.from(b.dataSync())).toEqual([1, 0]);
  });
});

describe('in-place casting and overlap (2.2, 2.3)', () => {
  test('narrowing casts throw PyTorch\'s error', () => {
    expect(() => int([1, 2]).add_(1.5)).toThrow("result type Float can't be cast to the desired output type Int");
    expect(() => int([1, 2]).mul_(tg.tensor([1.5, 2]))).toThrow("result type Float can't be cast to the desired output type Int");
    expect(() => int([1, 2]).div_(2)).toThrow("result type Float can't be cast to the desired output type Int");
    expect(() => int([4]).sqrt_()).toThrow("result type Float can't be cast to the desired output type Int");
    expect(() => tg.tensor([true]).add_(1)).toThrow("result type Int can't be cast to the desired output type Bool");
    const i = int([1, 2]);
    expect(() => i.add_(0.5)).toThrow(TypeError);
    expect(i.toArray()).toEqual([1, 2]);
  });

  test('widening and same-kind writes are allowed, as PyTorch', () => {
    const f = tg.zeros(2);
    f.add_(int([1, 2]));
    expect(f.toArray()).toEqual([1, 2]);
    f.add_(tg.ones([2], { dtype: 'float64' }));
    expect(f.toArray()).toEqual([2, 3]);
    expect(int([1, 2]).add_(true).toArray()).toEqual([2, 3]);
    expect(int([1, 2]).div_(int([2, 2]), { roundingMode: 'floor' }).toArray()).toEqual([0, 1]);
    // copy_, fill_ and maskedFill_ convert their value (PyTorch truncates toward zero).
    expect(int([0, 0]).copy_(tg.tensor([1.5, -2.7])).toArray()).toEqual([1, -2]);
    expect(int([0, 0]).fill_(2.7).toArray()).toEqual([2, 2]);
    expect(int([0, 0]).maskedFill_(tg.tensor([true, false]), 2.7).toArray()).toEqual([2, 0]);
  });

  test('writes into an expanded tensor throw, except fill_/zero_/maskedFill_ (PyTorch)', () => {
    const e = tg.zeros(1).expand([3]);
    expect(() => e.add_(1)).toThrow(OVERLAP);
    expect(() => e.copy_(tg.ones(3))).toThrow(OVERLAP);
    expect(() => e.uniform_()).toThrow(OVERLAP);
    expect(() => tg.zeros([2, 1]).expand([2, 3]).relu_()).toThrow(OVERLAP);
    expect(e.fill_(1).toArray()).toEqual([1, 1, 1]);
    expect(e.zero_().toArray()).toEqual([0, 0, 0]);
    expect(e.maskedFill_(tg.tensor([true, true, true]), 4).toArray()).toEqual([4, 4, 4]);
    // A size-1 dim with stride 0 is no overlap.
    expect(tg.zeros(1).expand([1]).add_(1).toArray()).toEqual([1]);
  });
});

describe('integer division with a rounding mode is exact (2.4)', () => {
  test('values beyond float32 precision', () => {
    expect(int([16777217, 16777219]).div(1, { roundingMode: 'trunc' }).toArray()).toEqual([16777217, 16777219]);
    expect(int([2147483647, -7]).div(int([3, 2]), { roundingMode: 'floor' }).toArray()).toEqual([715827882, -4]);
    expect(int([2147483647]).div(1, { roundingMode: 'floor' }).toArray()).toEqual([2147483647]);
  });

  test('trunc and floor signs match PyTorch; scalar / tensor too; division by zero throws', () => {
    expect(int([7, -7, 5]).div(int([2, 2, -3]), { roundingMode: 'trunc' }).toArray()).toEqual([3, -3, -1]);
    expect(int([7, -7, 5]).div(int([2, 2, -3]), { roundingMode: 'floor' }).toArray()).toEqual([3, -4, -2]);
    expect(tg.div(7, int([2, -2]), { roundingMode: 'floor' }).toArray()).toEqual([3, -4]);
    expect(tg.div(7, int([2, -2]), { roundingMode: 'floor' }).dtype).toBe('int32');
    expect(() => int([1]).div(0, { roundingMode: 'floor' })).toThrow('ZeroDivisionError');
    expect(() => int([1, 2]).div(int([1, 0]), { roundingMode: 'trunc' })).toThrow('ZeroDivisionError');
  });
});

describe('the grad setter validates (2.5)', () => {
  test('size, dtype, type: PyTorch\'s messages', () => {
    const p = tg.ones([2], { requiresGrad: true });
    expect(() => { p.grad = tg.ones(3); }).toThrow('assigned grad has data of a different size');
    expect(() => { p.grad = tg.ones([2], { dtype: 'float64' }); }).toThrow('assigned grad has data of a different type');
    expect(() => { p.grad = [1, 2] as unknown as Tensor; }).toThrow('assigned grad expected to be a Tensor or None but got grad of type list');
    p.grad = tg.tensor([3, 4]);
    expect(p.grad.toArray()).toEqual([3, 4]);
    p.grad = null;
    expect(p.grad).toBeNull();
  });
});

describe('sizes must be non-negative integers (2.6)', () => {
  test('narrow start/length', () => {
    expect(() => tg.zeros(2).narrow(0, 0.5, 1)).toThrow("narrow(): argument 'start' (position 2) must be int, not float");
    expect(() => tg.zeros(2).narrow(0, 0, 1.5)).toThrow("narrow(): argument 'length' (position 3) must be int, not float");
    expect(() => tg.zeros(2).narrow(0, 0, -1)).toThrow('start (0) + length (-1) exceeds dimension size (2).');
  });

  test('expand: integers, and -1 is the only negative size', () => {
    expect(() => tg.zeros(1).expand([2.5])).toThrow("expand(): argument 'size' must be tuple of ints, but found element of type float at pos 1");
    expect(() => tg.zeros(1).expand([-2])).toThrow("The expanded size of the tensor (-2) isn't allowed");
    expect(() => tg.zeros(1).expand([-2, 1])).toThrow("The expanded size of the tensor (-2) isn't allowed");
    expect(() => tg.zeros(2).expand([2, -2])).toThrow('The expanded size of the tensor (-2)');
    expect(tg.zeros(1).expand([-1]).shape).toEqual([1]);
  });

  test('eye, zeros, ones, full, randn', () => {
    expect(() => tg.eye(-1)).toThrow('n must be greater or equal to 0, got -1');
    expect(() => tg.eye(2, -3)).toThrow('m must be greater or equal to 0, got -3');
    expect(() => tg.eye(2.5)).toThrow("eye(): argument 'n' (position 1) must be int, not float");
    expect(() => tg.zeros(2.5)).toThrow("zeros(): argument 'size' must be tuple of ints, but found element of type float at pos 1");
    expect(() => tg.ones(2, 1.5)).toThrow("ones(): argument 'size' must be tuple of ints, but found element of type float at pos 2");
    expect(() => tg.zeros(-1)).toThrow('Trying to create tensor with negative dimension -1: [-1]');
    expect(() => tg.full([2, -1], 1)).toThrow('Trying to create tensor with negative dimension -1: [2, -1]');
    expect(() => tg.randn([2, 0.5])).toThrow(TypeError);
  });
});

describe('int32 sums (2.7)', () => {
  test('accumulate exactly and refuse results int32 cannot hold', () => {
    expect(() => int([2147483647, 5]).sum()).toThrow(RangeError);
    expect(() => int([2147483647, 5]).sum()).toThrow(/sum\(\): the result 2147483652 overflows int32/);
    expect(int([2147483647, -5]).sum().item()).toBe(2147483642);
    expect(int([-2147483647, -1, -10, 3]).reshape([2, 2]).sum(1).toArray()).toEqual([-2147483648, -7]);
    expect(int([1, 2, 3]).sum().dtype).toBe('int32');
    expect(tg.tensor([1.7, 2.9]).sum(null, false, { dtype: 'int32' }).item()).toBe(3); // cast, then sum
  });
});

describe('sign, abs and norm at NaN and 0 (2.9)', () => {
  test('sign(NaN) is 0 and abs\'s gradient at NaN is 0 (PyTorch 1.13)', () => {
    expect(tg.tensor([NaN, -0, 1, -2]).sign().toArray()).toEqual([0, 0, 1, -1]);
    const a = tg.tensor([NaN, 1], { requiresGrad: true });
    a.abs().sum().backward();
    expect(a.grad!.toArray()).toEqual([0, 1]);
  });

  test('norm(p < 1) has gradient 0 at 0 (PyTorch\'s norm_backward)', () => {
    const a = tg.tensor([0, 1, 2], { dtype: 'float64', requiresGrad: true });
    a.norm(0.5).backward();
    expectClose(a.grad!, [0, 2.414213562373095, 1.7071067811865472], { atol: 1e-12 });
    const b = tg.tensor([0, -1, 2, 0], { dtype: 'float64', requiresGrad: true });
    b.norm(0.3, 0).backward();
    expectClose(b.grad!, [0, -6.504759272902579, 4.0041490194937746, 0], { atol: 1e-12 });
  });
});

describe('dtype errors as PyTorch words them (2.10)', () => {
  test('maskedFill with a non-0-d value tensor', () => {
    const x = tg.ones([2, 3]);
    expect(() => x.maskedFill(x.gt(0), tg.tensor([1, 2, 3]))).toThrow('masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s).');
    expect(() => x.maskedFill(x.gt(0), tg.tensor([[1]]))).toThrow('but got tensor with 2 dimension(s).');
    expect(x.maskedFill(x.gt(0), tg.tensor(5)).toArray()).toEqual([[5, 5, 5], [5, 5, 5]]);
  });

  test('uniform_ / normal_ on int and bool', () => {
    expect(() => tg.zeros([2], { dtype: 'int32' }).normal_()).toThrow(`"normal_kernel_cpu" not implemented for 'Int'`);
    expect(() => tg.zeros([2], { dtype: 'bool' }).normal_()).toThrow(`"normal_kernel_cpu" not implemented for 'Bool'`);
    expect(() => tg.zeros([2], { dtype: 'int32' }).uniform_()).toThrow(`"check_uniform_bounds" not implemented for 'Int'`);
  });

  test('norm on int and bool', () => {
    expect(() => int([3, 4]).norm()).toThrow('norm(): input dtype should be either floating point or complex. Got Int instead.');
    expect(() => tg.tensor([true]).norm()).toThrow('Got Bool instead.');
  });

  test('bool matmul names the kernel PyTorch would', () => {
    const b = (...s: number[]) => tg.zeros(s, { dtype: 'bool' });
    expect(() => b(2, 2).matmul(b(2, 2))).toThrow(`"addmm_impl_cpu_" not implemented for 'Bool'`);
    expect(() => b(2).matmul(b(2))).toThrow(`"dot" not implemented for 'Bool'`);
    expect(() => b(2, 2).matmul(b(2))).toThrow(`"addmv_impl_cpu" not implemented for 'Bool'`);
    expect(() => b(3, 2, 2).matmul(b(3, 2, 2))).toThrow(`"bmm" not implemented for 'Bool'`);
  });
});

describe('operand, dtype and list validation (4)', () => {
  test('binary ops accept Tensor, number or boolean only', () => {
    const x = tg.zeros(2);
    expect(() => x.add([1, 2] as never)).toThrow("add(): argument 'other' (position 1) must be Tensor, not list");
    expect(() => x.add('a' as never)).toThrow("add(): argument 'other' (position 1) must be Tensor, not str");
    expect(() => x.mul(null as never)).toThrow("mul(): argument 'other' (position 1) must be Tensor, not null");
    expect(() => x.sub({} as never)).toThrow("sub(): argument 'other' (position 1) must be Tensor, not object");
    expect(() => x.eq(undefined as never)).toThrow("eq(): argument 'other' (position 1) must be Tensor, not undefined");
    expect(() => tg.where(tg.tensor([true, false]), x, [1, 2] as never)).toThrow("where(): argument 'other' (position 3) must be Tensor, not list");
    expect(() => x.maskedFill(x.eq(0), [1] as never)).toThrow("masked_fill(): argument 'value' (position 2) must be Tensor, not list");
    expect(() => tg.add([1, 2] as never, x)).toThrow("add(): argument 'input' (position 1) must be Tensor, not list");
    expect(() => x.add([1, 2] as never)).toThrow('- help: make a tensor of the array first');
    expect(() => x.clamp([0] as never)).toThrow("clamp(): argument 'min' must be Number, not list");
    expect(() => x.addcmul_([1, 1] as never, x)).toThrow("addcmul_(): argument 'tensor1' (position 1) must be Tensor, not list");
    expect(() => x.indexSelect(0, [0] as never)).toThrow("index_select(): argument 'index' (position 2) must be Tensor, not list");
    expect(() => x.gather(0, [0] as never)).toThrow("gather(): argument 'index' (position 2) must be Tensor, not list");
  });

  test('unsupported dtypes name the fix at every entry point', () => {
    const msg = "dtype 'int64' is not supported; tensorgrad stores integers as int32";
    const d = { dtype: 'int64' as never };
    expect(() => tg.zeros([2], d)).toThrow(msg);
    expect(() => tg.ones(2, d)).toThrow(msg);
    expect(() => tg.full([2], 1, d)).toThrow(msg);
    expect(() => tg.arange(3, d)).toThrow(msg);
    expect(() => tg.eye(2, d)).toThrow(msg);
    expect(() => tg.randn([2], d)).toThrow(msg);
    expect(() => tg.randint(0, 3, [2], d)).toThrow(msg);
    expect(() => tg.zeros(2).to('int64' as never)).toThrow(msg);
    expect(() => tg.zeros(2).sum(null, false, d)).toThrow(msg);
    expect(() => tg.zeros(2).to('float16' as never)).toThrow("dtype 'float16' is not supported");
  });

  test('stack / cat check their elements', () => {
    expect(() => tg.stack([tg.zeros(2), [1, 2] as never])).toThrow('expected Tensor as element 1 in argument 0, but got list');
    expect(() => tg.stack([[1, 2] as never])).toThrow('expected Tensor as element 0 in argument 0, but got list');
    expect(() => tg.cat([tg.zeros(2), 'a' as never])).toThrow('expected Tensor as element 1 in argument 0, but got str');
    expect(() => tg.cat(tg.zeros(2) as never)).toThrow("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor");
  });

  test('backward takes its options first, as PyTorch users write it', () => {
    const x = tg.tensor([1, 2], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward({ retainGraph: true });
    y.backward();
    expectClose(x.grad!, [4, 8]);
    expect(() => y.backward([1] as never)).toThrow("backward(): argument 'gradient' (position 1) must be Tensor, not list");
  });

  test('tg.tensor(tensor) points to clone()', () => {
    expect(() => tg.tensor(tg.zeros(2) as never)).toThrow(/data is already a Tensor\n- help: copy it with t\.clone\(\)/);
    expect(() => tg.tensor([tg.zeros(2)] as never)).toThrow(/tg\.stack/);
  });
});

describe('aliases PyTorch users guess (6)', () => {
  test('long(), T, tolist()', () => {
    const x = tg.tensor([1.7, -2.2]);
    expect(x.long().dtype).toBe('int32');
    expect(x.long().toArray()).toEqual([1, -2]);
    expect(tg.zeros([2, 3, 4]).T.shape).toEqual([4, 3, 2]);
    expect(tg.tensor([[1, 2], [3, 4]]).T.toArray()).toEqual([[1, 3], [2, 4]]);
    expect(x.T).toBe(x);
    expect(tg.tensor([[1, 2]]).tolist()).toEqual([[1, 2]]);
  });

  test('randint(high, size) draws what randint(0, high, size) draws (PyTorch: [4, 4, 3] for seed 0)', () => {
    tg.manualSeed(0);
    const a = tg.randint(5, [3]);
    tg.manualSeed(0);
    const b = tg.randint(0, 5, [3]);
    expect(a.toArray()).toEqual(b.toArray());
    expect(a.toArray()).toEqual([4, 4, 3]);
  });

  test('var / std take PyTorch\'s positional unbiased flag', () => {
    const y = tg.tensor([[1, 2, 4], [3, 5, 9]]);
    expectClose(y.var(1, true), [2.3333332538604736, 9.333333015441895], { atol: 1e-6 });
    expectClose(y.var(1, false), [1.5555555820465088, 6.222222328186035], { atol: 1e-6 });
    expect(y.var(1, false, true).shape).toEqual([2, 1]);
    expectClose(y.std(0, false), [1, 1.5, 2.5], { atol: 1e-6 });
    expectClose(y.var(true), 8, { atol: 1e-6 });
    expectClose(y.var(false), 6.666666507720947, { atol: 1e-6 });
    expectClose(tg.var(y, 1, false), [1.5555555820465088, 6.222222328186035], { atol: 1e-6 });
  });
});
