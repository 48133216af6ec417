// nn.Module mechanics: registration (class fields, assignments, registerX), traversal order,
// stateDict keys, loadStateDict (strict errors worded as PyTorch), hooks, train/eval, zeroGrad,
// to('float64') and printing.
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

class Block extends nn.Module {
  fc = new nn.Linear(3, 4);
  act = new nn.ReLU();
  scale = new nn.Parameter(tg.ones([4]));
  notAParam = tg.zeros([2]); // a plain tensor attribute: not registered
  override forward(x: Tensor): Tensor {
    return this.act.call(this.fc.call(x)).mul(this.scale);
  }
}

class Net extends nn.Module {
  declare head: nn.Linear;
  layers = new nn.ModuleList([new Block(), new Block()]);
  constructor() {
    super();
    this.registerBuffer('steps', tg.zeros([1]));
    this.registerBuffer('cache', tg.zeros([2]), { persistent: false });
    this.head = new nn.Linear(4, 2);
  }
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const b of this.layers) y = (b as Block).call(y);
    return this.head.call(y);
  }
}

describe('registration and traversal', () => {
  test('class fields and assignments register in assignment order (own members before children)', () => {
    const b = new Block();
    expect(b.namedParameters().map(([n]) => n)).toEqual(['scale', 'fc.weight', 'fc.bias']);
    expect(b.namedParameters('', false).map(([n]) => n)).toEqual(['scale']);
    expect(b.namedChildren().map(([n]) => n)).toEqual(['fc', 'act']);
    expect(b.parameters()).toHaveLength(3);
    expect(b.parameters().includes(b.notAParam)).toBe(false);
  });

  test('stateDict keys: nested lists, buffers, non-persistent buffers left out', () => {
    const net = new Net();
    expect(Object.keys(net.stateDict())).toEqual([
      'steps',
      'layers.0.scale', 'layers.0.fc.weight', 'layers.0.fc.bias',
      'layers.1.scale', 'layers.1.fc.weight', 'layers.1.fc.bias',
      'head.weight', 'head.bias',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['steps', 'cache']);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '', 'layers', 'layers.0', 'layers.0.fc', 'layers.0.act', 'layers.1', 'layers.1.fc', 'layers.1.act', 'head',
    ]);
    expect(net.modules()).toHaveLength(9);
    expect(Object.keys(new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1)).stateDict()))
      .toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  test('stateDict values are detached aliases (keepVars keeps the parameters)', () => {
    const fc = new nn.Linear(2, 2);
    const sd = fc.stateDict();
    expect(sd['weight']!.requiresGrad).toBe(false);
    expect(sd['weight']!.storage).toBe(fc.weight.storage);
    expect(fc.stateDict({ keepVars: true })['weight']).toBe(fc.weight);
    expect(Object.keys(fc.stateDict({ prefix: 'enc.' }))).toEqual(['enc.weight', 'enc.bias']);
  });

  test('shared parameters and modules are listed once', () => {
    const shared = new nn.Linear(2, 2);
    const seq = new nn.Sequential(shared, shared);
    expect(seq.parameters()).toHaveLength(2);
    expect(seq.length).toBe(2);
    expect(seq.children()).toHaveLength(1);
  });

  test('subclasses may use #private fields and accessors', () => {
    class Counter extends nn.Module {
      #calls = 0;
      lin = new nn.Linear(2, 2);
      get calls(): number {
        return this.#calls;
      }
      override forward(x: Tensor): Tensor {
        this.#calls++;
        return this.lin.call(x);
      }
    }
    const c = new Counter();
    c.call(tg.randn([1, 2]));
    c.forward(tg.randn([1, 2]));
    expect(c.calls).toBe(2);
    expect(Object.keys(c.stateDict())).toEqual(['lin.weight', 'lin.bias']);
  });

  test('Parameter: a Tensor marked as parameter, sharing storage', () => {
    const data = tg.randn([3]);
    const p = new nn.Parameter(data);
    expect(p).toBeInstanceOf(tg.Tensor);
    expect(p instanceof nn.Parameter).toBe(true);
    expect(data instanceof nn.Parameter).toBe(false);
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
    expect(p.storage).toBe(data.storage);
    expect(new nn.Parameter(data, false).requiresGrad).toBe(false);
    expect(nn.isParameter(p)).toBe(true);
  });

  test('reassignment keeps the position; deletion unregisters; null parameters are skipped', () => {
    const fc = new nn.Linear(2, 3, { bias: false });
    expect(fc.bias).toBeNull();
    expect(Object.keys(fc.stateDict())).toEqual(['weight']);
    fc.bias = new nn.Parameter(tg.zeros([3]));
    fc.weight = new nn.Parameter(tg.zeros([3, 2]));
    expect(fc.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const b = new Block();
    Reflect.deleteProperty(b, 'fc');
    expect(b.namedParameters().map(([n]) => n)).toEqual(['scale']);
  });

  test('PyTorch assignment rules and registration errors', () => {
    const fc = new nn.Linear(2, 2);
    expect(() => { fc.weight = tg.zeros([2, 2]); }).toThrow(/cannot assign 'Tensor\(float32\)' as parameter 'weight' \(nn.Parameter or null expected\)/);
    const net = new Net();
    expect(() => Reflect.set(net, 'head', 3)).toThrow(/cannot assign 'number' as child module 'head'/);
    expect(() => Reflect.set(net, 'steps', 'x')).toThrow(/cannot assign 'string' as buffer 'steps'/);
    expect(() => net.registerBuffer('a.b', null)).toThrow('buffer name can\'t contain "."');
    expect(() => net.registerParameter('', null)).toThrow('parameter name can\'t be empty string ""');
    expect(() => net.addModule('forward', new nn.ReLU())).toThrow("attribute 'forward' already exists");
    expect(() => net.registerParameter('p', tg.ones([1]))).toThrow(/to parameter 'p' \(nn.Parameter or null required\)/);
    expect(() => new nn.Module<[], Tensor>().forward()).toThrow('Module [Module] is missing the required "forward" function');
  });

  test('getSubmodule and apply (children first)', () => {
    const net = new Net();
    expect(net.getSubmodule('layers.1.fc')).toBe((net.layers.at(1) as Block).fc);
    expect(() => net.getSubmodule('layers.7')).toThrow('ModuleList has no attribute `7`');
    const order: string[] = [];
    new nn.Sequential(new nn.Linear(1, 1), new nn.Tanh()).apply((m) => order.push(m.constructor.name));
    expect(order).toEqual(['Linear', 'Tanh', 'Sequential']);
  });
});

describe('loadStateDict', () => {
  test('round trip copies values in place', () => {
    const a = new Net();
    const b = new Net();
    const w = b.head.weight;
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.head.weight).toBe(w);
    expect(b.head.weight.equal(a.head.weight)).toBe(true);
  });

  test('strict: missing and unexpected keys, worded as PyTorch', () => {
    const fc = new nn.Linear(3, 3);
    const sd = { weight: tg.zeros([3, 3]), extra: tg.zeros([1]) };
    expect(() => fc.loadStateDict(sd)).toThrow(
      'Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". \n\tUnexpected key(s) in state_dict: "extra". ',
    );
    expect(fc.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['bias'], unexpectedKeys: ['extra'] });
    expect(fc.weight.sum().item()).toBe(0);
  });

  test('shape mismatch errors even when not strict', () => {
    const net = new nn.Sequential(new nn.Linear(4, 4));
    const sd = new nn.Sequential(new nn.Linear(4, 3)).stateDict();
    const msg = 'size mismatch for 0.weight: copying a param with shape [3, 4] from checkpoint, the shape in current model is [4, 4].';
    expect(() => net.loadStateDict(sd)).toThrow(msg);
    expect(() => net.loadStateDict(sd, { strict: false })).toThrow(msg);
  });

  test('fc.weight example from the issue; Map input; non-tensor values', () => {
    class M extends nn.Module {
      fc = new nn.Linear(4, 4);
    }
    expect(() => new M().loadStateDict({ 'fc.weight': tg.zeros([3, 4]), 'fc.bias': tg.zeros([4]) })).toThrow(
      'size mismatch for fc.weight: copying a param with shape [3, 4] from checkpoint, the shape in current model is [4, 4].',
    );
    const m = new M();
    expect(m.loadStateDict(new Map(Object.entries(new M().stateDict())))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(() => m.loadStateDict({ 'fc.weight': 3 as unknown as Tensor, 'fc.bias': tg.zeros([4]) }))
      .toThrow('While copying the parameter named "fc.weight", expected torch.Tensor or Tensor-like object from checkpoint but received number');
  });

  test('buffers load (BatchNorm running stats, int32 counter) and dtype is converted', () => {
    const bn = new nn.BatchNorm1d(2);
    bn.loadStateDict({
      weight: tg.ones([2]), bias: tg.zeros([2]), runningMean: tg.tensor([1, 2], { dtype: 'float64' }),
      runningVar: tg.tensor([3, 4]), numBatchesTracked: tg.tensor(5, { dtype: 'int32' }),
    });
    expect(bn.runningMean!.dtype).toBe('float32');
    expect(bn.runningMean!.toArray()).toEqual([1, 2]);
    expect(bn.numBatchesTracked!.item()).toBe(5);
  });
});

describe('hooks', () => {
  test('pre-hooks replace inputs, forward hooks replace outputs, handles remove them', () => {
    const id = new nn.Identity();
    const calls: string[] = [];
    const h1 = id.registerForwardPreHook((_m, [x]) => { calls.push('pre'); return [x.mul(2)]; });
    const h2 = id.registerForwardHook((_m, [x], out) => { calls.push('post'); expect(out).toBe(x); return out.add(1); });
    expect(id.call(tg.tensor([1, 2])).toArray()).toEqual([3, 5]);
    expect(id.forward(tg.tensor([1, 2])).toArray()).toEqual([1, 2]); // forward runs no hooks
    expect(calls).toEqual(['pre', 'post']);
    h1.remove();
    expect(id.call(tg.tensor([1])).toArray()).toEqual([2]);
    h2.remove();
    expect(id.call(tg.tensor([1])).toArray()).toEqual([1]);
    expect(h1.id).not.toBe(h2.id);
  });

  test('hooks on children run inside Sequential, in registration order', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
    const shapes: number[][] = [];
    seq.at(0).registerForwardHook((_m, _x, out) => void shapes.push([...out.shape]));
    seq.at(-1).registerForwardHook(() => void shapes.push([0]));
    seq.call(tg.randn([5, 2]));
    expect(shapes).toEqual([[5, 3], [0]]);
  });
});

describe('modes, gradients and conversions', () => {
  test('train/eval propagate to every descendant', () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect((net.layers.at(1) as Block).act.training).toBe(true);
    expect(() => net.train('yes' as unknown as boolean)).toThrow('training mode is expected to be boolean');
  });

  test('zeroGrad sets grads to null, or zeros them in place with setToNone = false', () => {
    const fc = new nn.Linear(3, 2);
    fc.call(tg.randn([4, 3])).sum().backward();
    const g = fc.weight.grad!;
    fc.zeroGrad(false);
    expect(fc.weight.grad).toBe(g);
    expect(g.abs().sum().item()).toBe(0);
    fc.zeroGrad();
    expect(fc.weight.grad).toBeNull();
    expect(fc.bias!.grad).toBeNull();
  });

  test("to('float64') converts floating params, grads and buffers, keeping parameter identity", () => {
    const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    const w = (seq.at(0) as nn.Linear).weight;
    seq.call(tg.randn([5, 3])).sum().backward();
    const before = Array.from(w.dataSync());
    expect(seq.to('float64')).toBe(seq);
    expect((seq.at(0) as nn.Linear).weight).toBe(w);
    expect(w.dtype).toBe('float64');
    expect(w.requiresGrad).toBe(true);
    expect(w.grad!.dtype).toBe('float64');
    expect(Array.from(w.dataSync())).toEqual(before);
    const bn = seq.at(1) as nn.BatchNorm1d;
    expect(bn.runningMean!.dtype).toBe('float64');
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    const y = seq.call(tg.randn([5, 3], { dtype: 'float64' }));
    expect(y.dtype).toBe('float64');
    y.sum().backward();
    expect(w.grad!.dtype).toBe('float64');
    expect(seq.float().parameters().every((p) => p.dtype === 'float32')).toBe(true);
    expect(seq.double().parameters().every((p) => p.dtype === 'float64')).toBe(true);
    expect(() => seq.to('int32')).toThrow('nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=int32');
  });

  test('requiresGrad_ freezes and unfreezes every parameter', () => {
    const net = new Net();
    net.requiresGrad_(false);
    expect(net.parameters().some((p) => p.requiresGrad)).toBe(false);
    net.requiresGrad_();
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  test('printing follows PyTorch', () => {
    const seq = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Dropout(0.1));
    expect(String(seq)).toBe('Sequential(\n  (0): Linear(inFeatures=4, outFeatures=3, bias=true)\n  (1): ReLU()\n  (2): Dropout(p=0.1)\n)');
    expect(String(new nn.Conv2d(3, 8, 3, { padding: 1, bias: false })))
      .toBe('Conv2d(3, 8, kernelSize=[3, 3], stride=[1, 1], padding=[1, 1], bias=false)');
  });
});

describe('containers', () => {
  test('Sequential: indexing, iteration, append, object form', () => {
    const a = new nn.Linear(2, 3);
    const seq = new nn.Sequential(a, new nn.Tanh());
    expect(seq[0]).toBe(a);
    expect(seq.at(-2)).toBe(a);
    expect(() => seq.at(2)).toThrow('index 2 is out of range');
    expect([...seq].map((m) => m.constructor.name)).toEqual(['Linear', 'Tanh']);
    seq.append(new nn.Linear(3, 1));
    expect(seq.length).toBe(3);
    expect(seq.call(tg.randn([4, 2])).shape).toEqual([4, 1]);
    const named = new nn.Sequential({ enc: new nn.Linear(2, 2), act: new nn.ReLU() });
    expect(Object.keys(named.stateDict())).toEqual(['enc.weight', 'enc.bias']);
  });

  test('ModuleList: append, extend, insert, pop keep PyTorch indices', () => {
    const [l0, l1, l2, l3] = [1, 2, 3, 4].map((n) => new nn.Linear(n, 1));
    const list = new nn.ModuleList([l0!, l1!]);
    list.extend([l3!]);
    list.insert(2, l2!);
    expect([...list]).toEqual([l0, l1, l2, l3]);
    expect(list[3]).toBe(l3);
    expect(Object.keys(list.stateDict())[4]).toBe('2.weight');
    expect(list.pop(1)).toBe(l1);
    expect([...list]).toEqual([l0, l2, l3]);
    expect(list.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']);
    expect(list.length).toBe(3);
    expect(() => list.forward()).toThrow('Module [ModuleList] is missing the required "forward" function');
  });

  test('ModuleDict: get, set, pop, keys in insertion order', () => {
    const d = new nn.ModuleDict({ b: new nn.ReLU(), a: new nn.Linear(2, 2) });
    expect(d.keys()).toEqual(['b', 'a']);
    expect([...d]).toEqual(['b', 'a']);
    d.set('c', new nn.Tanh());
    expect(d.get('a')).toBeInstanceOf(nn.Linear);
    expect(d.has('c')).toBe(true);
    expect(d.pop('b')).toBeInstanceOf(nn.ReLU);
    expect(d.entries().map(([k]) => k)).toEqual(['a', 'c']);
    expect(d.size).toBe(2);
    expect(() => d.get('zz')).toThrow("'zz'");
    expect(() => d.set('keys', new nn.ReLU())).toThrow("attribute 'keys' already exists");
    expect(Object.keys(d.stateDict())).toEqual(['a.weight', 'a.bias']);
  });
});
