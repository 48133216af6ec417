// Inside tg.scope(), large float32 results of the fast kernels live in WebAssembly memory (their
// end is known: the scope's return or dispose()), so kernels read and write them in place. These
// tests check that every kernel gives the same bits in and out of a scope, that the memory comes
// back, and that a tensor used after its scope fails loudly instead of reading reused memory.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { heapOf, residentAddress, setWasmEnabled, wasmRuntime } from '../../src/tensor/backend/wasm/runtime.js';
import { setNumThreads, workerJobCount } from '../../src/tensor/backend/wasm/threads.js';

beforeAll(() => setWasmEnabled(true));
afterEach(() => {
  setWasmEnabled(true);
  setNumThreads(1);
});

const rt = () => wasmRuntime()!;
const resident = (t: Tensor) => residentAddress(rt(), t.storage.data) !== null;
const bits = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Run `f` outside a scope and inside one (on the same inputs); both results as bits. */
function both(f: () => Tensor): { outside: number[]; inside: number[]; wasResident: boolean } {
  tg.manualSeed(22);
  const outside = f();
  expect(resident(outside)).toBe(false);
  let wasResident = false;
  tg.manualSeed(22);
  const inside = tg.scope(() => {
    const r = f();
    wasResident = resident(r);
    return bits(r);
  });
  return { outside: bits(outside), inside, wasResident };
}

describe('kernels inside tg.scope()', () => {
  tg.manualSeed(21);
  const a = tg.randn([67, 129]);
  const b = tg.randn([67, 129]);
  const row = tg.randn([129]);
  const col = tg.randn([67, 1]);
  const cases: [string, () => Tensor][] = [
    ['exp', () => a.exp()],
    ['relu', () => a.relu()],
    ['add', () => a.add(b)],
    ['mul by a scalar', () => a.mul(1.5)],
    ['sub a row vector (both orders)', () => row.sub(a).add(a.sub(row))],
    ['div by a column vector (both orders)', () => a.div(col).add(col.div(a.abs().add(1)))],
    ['sum over the last dim', () => a.sum(1)],
    ['sum over the first dim', () => tg.randn([300, 64]).sum(0)],
    ['max over the last dim', () => tg.randn([64, 300]).amax(1)],
    ['softmax', () => a.softmax(1)],
    ['logSoftmax', () => a.logSoftmax(1)],
    ['matmul (m not a multiple of 4, n a multiple of 8)', () => tg.randn([67, 50]).matmul(tg.randn([50, 64]))],
    ['matmul (n padded)', () => a.matmul(tg.randn([129, 45]))],
    ['matmul with a transposed operand', () => a.matmul(b.t())],
    ['batched matmul', () => tg.randn([3, 37, 40]).matmul(tg.randn([3, 40, 48]))],
    ['chains of resident inputs', () => a.mul(b).exp().add(a).relu().matmul(b.t()).logSoftmax(1)],
  ];
  for (const [name, f] of cases) {
    test(`${name}: same bits in and out of a scope`, () => {
      const o = both(f);
      expect(o.inside).toEqual(o.outside);
    });
  }

  test('results made inside are resident; small ones and float64 are not', () => {
    tg.scope(() => {
      expect(resident(a.exp())).toBe(true);
      expect(resident(a.matmul(b.t()))).toBe(true);
      expect(resident(tg.randn([8, 8]).exp())).toBe(false);
      expect(resident(a.double().exp())).toBe(false);
    });
  });

  test('relu backward and a training step give the same bits in and out of a scope', () => {
    const run = (scoped: boolean) => {
      tg.manualSeed(3);
      const model = new tg.nn.Sequential(new tg.nn.Linear(100, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 10));
      const opt = new tg.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const x = tg.randn([48, 100]);
      const y = tg.randint(0, 10, [48]);
      const losses: number[] = [];
      const step = () => {
        opt.zeroGrad();
        const l = tg.nn.functional.crossEntropy(model.call(x), y);
        l.backward();
        opt.step();
        return l;
      };
      for (let i = 0; i < 4; i++) losses.push(scoped ? tg.scope(() => step().item()) : step().item());
      return { losses, params: model.parameters().map(bits) };
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe('lifetimes', () => {
  test('a tensor used after the scope that made it throws a clear error', () => {
    let leaked: Tensor | null = null;
    tg.scope(() => {
      leaked = tg.randn([64, 64]).exp();
    });
    expect(() => leaked!.sum()).toThrow(/this tensor was disposed \(by dispose\(\), or by the tg.scope\(\) it was created in\); keep it with tg.keep\(t\)/);
  });

  test('returned tensors, their views, kept tensors and leaf gradients survive; dispose() frees', () => {
    const x = tg.randn([40, 40]).requiresGrad_();
    const [r, v, k] = tg.scope(() => {
      const r = x.exp().detach();
      const k = tg.keep(x.mul(2).detach());
      x.square().sum().backward();
      return [r, r.t(), k];
    });
    const rv = r.dataSync();
    expect(Array.from(v.dataSync())).toEqual(Array.from({ length: 1600 }, (_, i) => rv[(i % 40) * 40 + Math.floor(i / 40)]));
    expect(Array.from(k.dataSync())).toEqual(Array.from(x.dataSync(), (e) => Math.fround(e * 2)));
    expect(x.grad!.sum().item()).toBeCloseTo(x.sum().item() * 2, 2);
    r.dispose();
    expect(v.dataSync().length).toBe(1600); // the view still holds the block
    v.dispose();
    expect(() => r.dataSync()).toThrow(/disposed/);
  });

  test('a scoped training loop gives its memory back (heap free bytes return to where they were)', () => {
    tg.manualSeed(4);
    const model = new tg.nn.Sequential(new tg.nn.Linear(64, 128), new tg.nn.ReLU(), new tg.nn.Linear(128, 10));
    const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = tg.randn([64, 64]);
    const y = tg.randint(0, 10, [64]);
    const step = () => tg.scope(() => {
      opt.zeroGrad();
      tg.nn.functional.crossEntropy(model.call(x), y).backward();
      opt.step();
    });
    for (let i = 0; i < 3; i++) step();
    const heap = heapOf(rt());
    const free0 = heap.freeBytes();
    for (let i = 0; i < 200; i++) step();
    expect(heap.freeBytes()).toBe(free0);
  });
});

describe('threads', () => {
  test('large resident elementwise jobs split over 2 and 3 threads with the same bits', () => {
    tg.manualSeed(31);
    const [a, b, row, col] = tg.scope(() => [tg.randn([600, 512]), tg.randn([600, 512]), tg.randn([512]), tg.randn([600, 1])].map((t) => tg.keep(t.mul(1))));
    const ops: [string, () => Tensor][] = [
      ['exp', () => a!.exp()],
      ['add', () => a!.add(b!)],
      ['mul by a row', () => a!.mul(row!)],
      ['sub a column', () => col!.sub(a!)],
      ['relu backward', () => {
        const x = a!.detach().requiresGrad_();
        x.relu().backward(b!);
        return x.grad!;
      }],
    ];
    const one = ops.map(([, f]) => tg.scope(() => bits(f())));
    for (const threads of [2, 3]) {
      setNumThreads(threads);
      const before = workerJobCount();
      ops.forEach(([name, f], i) => expect(tg.scope(() => bits(f())), name).toEqual(one[i]));
      expect(workerJobCount() - before).toBeGreaterThanOrEqual(ops.length);
    }
  });
});
