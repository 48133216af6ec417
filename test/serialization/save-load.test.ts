import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deserialize, load, parseSafetensorsHeader, SafetensorsError, save, serialize, STRUCTURE_KEY } from '../../src/serialization/index.js';
import { Generator, manualSeed, randn, Tensor, tensor, zeros } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as optim from '../../src/optim/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tensorgrad-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Same dtype, shape and bits (NaN and -0 included). */
function expectSameTensor(a: unknown, b: Tensor): void {
  expect(a).toBeInstanceOf(Tensor);
  const t = a as Tensor;
  expect(t.dtype).toBe(b.dtype);
  expect(t.shape).toEqual(b.shape);
  const x = Array.from(t.dataSync());
  const y = Array.from(b.dataSync());
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Object.is(v, y[i])).toBe(true));
}

const allDtypes = (): Record<string, Tensor> => ({
  'f32': tensor([0, -0, 1.5, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38], { dtype: 'float32' }),
  'f64': tensor([Math.PI, -1e-300, 5e-324, -0, NaN], { dtype: 'float64' }).reshape([5, 1]),
  'i32': tensor([-2147483648, 2147483647, 0, -1, 7, 8], { dtype: 'int32', shape: [2, 3] }),
  'bool': tensor([true, false, true]),
  'scalar': tensor(2.5),
  'empty': zeros(0, 3),
  'layers.0.weight': randn([3, 4], { generator: new Generator(0) }),
  // a non-contiguous view is written in row-major order
  'transposed': randn([2, 3], { generator: new Generator(1), dtype: 'float64' }).t(),
});

describe('serialize / deserialize', () => {
  it('round-trips every dtype, bit for bit, as a flat safetensors file', () => {
    const state = allDtypes();
    const bytes = serialize(state);
    const header = parseSafetensorsHeader(bytes);
    expect(header.metadata).toEqual({}); // a flat state dict needs no structure
    expect(header.tensors.get('i32')).toEqual({ dtype: 'I32', shape: [2, 3], dataOffsets: expect.any(Array) as unknown });
    const back = deserialize(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    for (const [k, t] of Object.entries(state)) expectSameTensor(back[k], t.contiguous());
    expect(back['transposed']!.shape).toEqual([3, 2]);
  });

  it('round-trips nested state (an optimizer stateDict) through __metadata__', () => {
    const w = randn([2, 2], { generator: new Generator(2) });
    const state = {
      state: { 0: { step: 3, expAvg: w, expAvgSq: w.mul(w) }, 1: { step: 3, momentumBuffer: null } },
      paramGroups: [
        { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, params: [0, 1], name: 'main' },
        { lr: Infinity, maxLr: -Infinity, bad: NaN, zero: -0, params: [] },
      ],
      '$weird': { '$tensor': 'not a marker', nested: [[1, [tensor([1, 2], { dtype: 'int32' })]]] },
      skipped: undefined,
      list: [undefined, 1],
    };
    const bytes = serialize(state, { metadata: { format: 'pt' } });
    const header = parseSafetensorsHeader(bytes);
    expect([...header.tensors.keys()].sort()).toEqual(['$weird.nested.0.1.0', 'state.0.expAvg', 'state.0.expAvgSq']);
    expect(header.metadata['format']).toBe('pt');
    expect(header.metadata[STRUCTURE_KEY]).toContain('"$tensor":"state.0.expAvg"');
    const back = deserialize<typeof state>(bytes);
    expectSameTensor(back.state[0].expAvg, w);
    expectSameTensor(back.state[0].expAvgSq, w.mul(w));
    expect(back.state[0].step).toBe(3);
    expect(back.state[1]).toEqual({ step: 3, momentumBuffer: null });
    expect(back.paramGroups[0]).toEqual(state.paramGroups[0]);
    const g1 = back.paramGroups[1]!;
    expect(g1.lr).toBe(Infinity);
    expect(g1.maxLr).toBe(-Infinity);
    expect(g1.bad).toBeNaN();
    expect(Object.is(g1.zero, -0)).toBe(true);
    expect(back['$weird']['$tensor']).toBe('not a marker');
    expectSameTensor((back['$weird'].nested[0]![1] as Tensor[])[0], tensor([1, 2], { dtype: 'int32' }));
    expect('skipped' in back).toBe(false);
    expect(back.list).toEqual([null, 1]);
  });

  it('an array at the top level, and state without any tensor', () => {
    const arr = deserialize<unknown[]>(serialize([tensor([1]), { a: 1 }]));
    expect(arr).toHaveLength(2);
    expectSameTensor(arr[0], tensor([1]));
    expect(arr[1]).toEqual({ a: 1 });
    expect(deserialize(serialize({ epoch: 4, best: 0.91 }))).toEqual({ epoch: 4, best: 0.91 });
  });

  it('rejects what it cannot store, naming where', () => {
    expect(() => serialize(tensor([1]))).toThrow(/wrap a single tensor as \{ tensor: t \}/);
    expect(() => serialize(new Map())).toThrow(TypeError);
    expect(() => serialize({ a: { b: new Map() } })).toThrow("save: cannot store a Map at 'a.b'");
    expect(() => serialize({ f: () => 1 })).toThrow("save: cannot store a value of type function at 'f'");
    expect(() => serialize({ n: 10n })).toThrow(/type bigint at 'n'/);
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic['self'] = cyclic;
    expect(() => serialize(cyclic)).toThrow("save: circular reference at 'self'");
    expect(() => serialize({ 'a.b': tensor([1]), a: { b: tensor([2]) }, step: 1 })).toThrow("two tensors would be stored under the same key 'a.b'");
    expect(() => serialize({ __metadata__: tensor([1]) })).toThrow(/reserved/);
  });

  it('shared tensors are stored once per reference', () => {
    const t = tensor([1, 2]);
    const back = deserialize(serialize({ a: t, b: t }));
    expectSameTensor(back['a'], t);
    expectSameTensor(back['b'], t);
    expect(back['a']).not.toBe(back['b']);
  });
});

describe('save / load files', () => {
  it('round-trips through a file', async () => {
    const path = join(dir, 'model.safetensors');
    const state = allDtypes();
    await save(state, path);
    const back = await load(path);
    for (const [k, t] of Object.entries(state)) expectSameTensor(back[k], t.contiguous());
    expect(readFileSync(path)).toEqual(Buffer.from(serialize(state)));
  });

  it('replaces an existing file and leaves no temporary files', async () => {
    const path = join(dir, 'replace.safetensors');
    await save({ a: tensor([1]) }, path);
    await save({ b: tensor([2, 3]) }, path);
    const back = await load(path);
    expect(Object.keys(back)).toEqual(['b']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failing serialization neither creates nor clobbers the file', async () => {
    const path = join(dir, 'keep.safetensors');
    await save({ a: tensor([1, 2, 3]) }, path);
    const before = readFileSync(path);
    await expect(save({ a: tensor([1]), bad: new Set() }, path)).rejects.toThrow(/cannot store a Set at 'bad'/);
    expect(readFileSync(path)).toEqual(before);
    const fresh = join(dir, 'never.safetensors');
    await expect(save({ bad: Symbol('x') }, fresh)).rejects.toThrow(TypeError);
    expect(readdirSync(dir)).not.toContain('never.safetensors');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failing write (rename onto a directory) cleans up its temporary file', async () => {
    const target = join(dir, 'is-a-directory');
    mkdirSync(join(target, 'child'), { recursive: true });
    await expect(save({ a: tensor([1]) }, target)).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(target)).toEqual(['child']);
  });

  it('a missing directory is an error before anything is written', async () => {
    await expect(save({ a: tensor([1]) }, join(dir, 'no', 'such', 'dir', 'x.safetensors'))).rejects.toThrow(/ENOENT/);
  });

  it('load names the file in format errors', async () => {
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, Buffer.from('not a safetensors file at all'));
    const e = await load(path).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toMatch(/header length \d+ is larger than the 100 MB limit/);
    expect((e as Error).message).toContain(`(file: ${path})`);
    await expect(load(join(dir, 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
  });

  it('model and optimizer state: save, load into fresh objects, continue identically', async () => {
    manualSeed(0);
    const x = randn([8, 3], { generator: new Generator(4) });
    const y = randn([8, 2], { generator: new Generator(5) });
    const makeModel = () => new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const step = (model: nn.Sequential, opt: optim.Adam) => {
      opt.zeroGrad();
      model.forward(x).sub(y).square().mean().backward();
      opt.step();
    };
    const model = makeModel();
    const opt = new optim.Adam(model.parameters(), { lr: 0.01, amsgrad: true });
    for (let i = 0; i < 3; i++) step(model, opt);
    await save(model.stateDict(), join(dir, 'net.safetensors'));
    await save(opt.stateDict(), join(dir, 'adam.safetensors'));

    const model2 = makeModel();
    const opt2 = new optim.Adam(model2.parameters(), { lr: 0.5 });
    model2.loadStateDict(await load(join(dir, 'net.safetensors')));
    opt2.loadStateDict(await load<optim.OptimizerStateDict>(join(dir, 'adam.safetensors')));
    expect(opt2.paramGroups[0]!.lr).toBe(0.01);
    step(model, opt);
    step(model2, opt2);
    const a = model.stateDict();
    const b = model2.stateDict();
    for (const k of Object.keys(a)) expectSameTensor(b[k], a[k]!);
  });
});
