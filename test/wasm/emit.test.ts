// The WebAssembly emitter: LEB128 encodings, a module assembled and run, loops, SIMD opcodes.
import { describe, expect, test } from 'vitest';
import { ModuleBuilder, sleb, uleb } from '../../src/tensor/backend/wasm/emit.js';
import { buildModule, wasmSupported } from '../../src/tensor/backend/wasm/runtime.js';

function instantiate(m: ModuleBuilder, pages = 1): { exports: Record<string, (...a: number[]) => number>; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.bytes() as BufferSource), { env: { memory } });
  return { exports: inst.exports as Record<string, (...a: number[]) => number>, memory };
}

describe('LEB128', () => {
  test('unsigned', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([127]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });
  test('signed', () => {
    expect(sleb(0)).toEqual([0]);
    expect(sleb(63)).toEqual([63]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe('module builder', () => {
  test('scalar function, calls between functions, exports by name', () => {
    const m = new ModuleBuilder({ initial: 1, maximum: 65536, shared: false });
    const sq = m.fn('square', ['i32'], ['i32'], (f) => void f.get(0).get(0).op('i32.mul'), false);
    m.fn('sumOfSquares', ['i32', 'i32'], ['i32'], (f) => void f.get(0).call(sq).get(1).call(sq).op('i32.add'));
    const { exports } = instantiate(m);
    expect(exports['sumOfSquares']!(3, -4)).toBe(25);
    expect(exports['square']).toBeUndefined();
  });

  test('forRange loops (including empty ranges) and f32/f64 constants', () => {
    const m = new ModuleBuilder();
    m.fn('triangle', ['i32'], ['f64'], (f) => {
      const i = f.local('i32');
      const acc = f.local('f64');
      f.f64(0.5).set(acc);
      f.forRange(i, () => f.i32(0), () => f.get(0), 1, () => void f.get(acc).get(i).op('f64.convert_i32_s', 'f64.add').set(acc));
      f.get(acc);
    });
    m.fn('third', [], ['f32'], (f) => void f.f32(1 / 3));
    const { exports } = instantiate(m);
    expect(exports['triangle']!(5)).toBe(10.5);
    expect(exports['triangle']!(0)).toBe(0.5);
    expect(exports['triangle']!(-3)).toBe(0.5);
    expect(exports['third']!()).toBe(Math.fround(1 / 3));
  });

  test('memory ops with offsets, SIMD arithmetic, shuffles and lane stores', () => {
    const m = new ModuleBuilder();
    // out[0..3] = a[0..3] * b[0..3] + 1; out[4..7] = a reversed; out[8..9] = 64-bit lane 1 of a.
    m.fn('kernel', ['i32', 'i32', 'i32'], [], (f) => {
      f.get(2).get(0).mem('v128.load').get(1).mem('v128.load').op('f32x4.mul').f32x4(1).op('f32x4.add').mem('v128.store');
      f.get(2).get(0).mem('v128.load').get(0).mem('v128.load').shuffle32([3, 2, 1, 0]).mem('v128.store', 16);
      f.get(2).get(0).mem('v128.load').memLane('v128.store64_lane', 32, 1);
    });
    const { exports, memory } = instantiate(m);
    const heap = new Float32Array(memory.buffer);
    heap.set([1, 2, 3, 4], 0);
    heap.set([10, 20, 30, 40], 4);
    exports['kernel']!(0, 16, 64);
    expect([...heap.subarray(16, 26)]).toEqual([11, 41, 91, 161, 4, 3, 2, 1, 3, 4]);
  });

  test('the full kernel module validates, shared and not', () => {
    expect(wasmSupported()).toBe(true); // Node 20+ has WebAssembly SIMD
    expect(WebAssembly.validate(buildModule({ shared: false, fma: false }) as BufferSource)).toBe(true);
    expect(WebAssembly.validate(buildModule({ shared: true, fma: false }) as BufferSource)).toBe(true);
  });

  test('memory ops reject non-memory opcodes', () => {
    const m = new ModuleBuilder();
    expect(() => m.fn('bad', [], [], (f) => void f.mem('i32.add'))).toThrow(/not a memory op/);
  });
});
