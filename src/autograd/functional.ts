/**
 * `torch.autograd.functional`: jacobian, hessian, vjp, jvp, hvp, vhp. Each works on a function
 * of one tensor or a list of tensors, built on `grad()` (double backward for jvp/hvp).
 */
import { zeros } from '../tensor/creation.js';
import { cat as catRows } from '../tensor/functional.js';
import { Tensor } from '../tensor/tensor.js';
import { grad } from './engine.js';
import { enableGrad } from './grad-mode.js';

type Inputs = Tensor | readonly Tensor[];
type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

export interface FunctionalOptions {
  /** Keep the result differentiable (default false). */
  createGraph?: boolean;
  /** Throw when an output does not depend on an input, instead of returning zeros. */
  strict?: boolean;
}

const list = (x: Inputs): Tensor[] => (x instanceof Tensor ? [x] : [...x]);

function prepare(inputs: Inputs, createGraph: boolean): Tensor[] {
  return list(inputs).map((x) => {
    const d = createGraph && x.requiresGrad ? x.viewAs(x) : x.detach();
    return d.isLeaf ? d.requiresGrad_(true) : d;
  });
}

function gradsOrZeros(outs: Tensor | readonly Tensor[], ins: Tensor[], gradOutputs: (Tensor | null)[] | undefined, createGraph: boolean, strict: boolean): Tensor[] {
  const os = list(outs).filter((o) => o.requiresGrad);
  const gos = gradOutputs ? list(outs).map((o, i) => (o.requiresGrad ? gradOutputs[i]! : null)).filter((g): g is Tensor => g !== null) : undefined;
  if (os.length === 0) {
    if (strict) throw new Error('The output of the user-provided function is independent of input 0. This is not allowed in strict mode.');
    return ins.map((x) => zeros(x.shape, { dtype: x.dtype }));
  }
  const gs = grad(os, ins, { ...(gos && { gradOutputs: gos }), createGraph, retainGraph: true, allowUnused: true });
  return gs.map((g, i) => {
    if (g) return g;
    if (strict) throw new Error(`The output of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`);
    return zeros(ins[i]!.shape, { dtype: ins[i]!.dtype });
  });
}

function unpack<T>(xs: T[], single: boolean): T | T[] {
  return single ? xs[0]! : xs;
}

/** Vector-Jacobian product `vᵀJ`: returns `[outputs, vjp]`. `v` may be omitted for a scalar output. */
export function vjp(func: Fn, inputs: Inputs, v?: Inputs | null, opts: FunctionalOptions = {}): [Tensor | readonly Tensor[], Tensor | Tensor[]] {
  const createGraph = opts.createGraph ?? false;
  return enableGrad(() => {
    const ins = prepare(inputs, createGraph);
    const out = func(...ins);
    if (v == null && !(out instanceof Tensor && out.numel() === 1)) {
      throw new Error('The vector v can only be None if the user-provided function returns a single Tensor with a single element.');
    }
    const vs = v == null ? undefined : list(v);
    const g = gradsOrZeros(out, ins, vs, createGraph, opts.strict ?? false);
    return [createGraph ? out : detachAll(out), unpack(createGraph ? g : g.map((t) => t.detach()), inputs instanceof Tensor)];
  });
}

/** Jacobian-vector product `Jv` by the double-vjp trick: returns `[outputs, jvp]`. */
export function jvp(func: Fn, inputs: Inputs, v?: Inputs | null, opts: FunctionalOptions = {}): [Tensor | readonly Tensor[], Tensor | Tensor[]] {
  const createGraph = opts.createGraph ?? false;
  return enableGrad(() => {
    const ins = prepare(inputs, createGraph);
    const out = func(...ins);
    const outs = list(out);
    const us = outs.map((o) => zeros(o.shape, { dtype: o.dtype }).requiresGrad_(true));
    const g = gradsOrZeros(out, ins, us, true, opts.strict ?? false);
    if (v == null && !(inputs instanceof Tensor && inputs.numel() === 1)) {
      throw new Error('The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.');
    }
    const vs = v == null ? ins.map((x) => Tensor.onesLikeInternal(x)) : list(v);
    const keep = g.map((gi, i) => [gi, vs[i]!] as const).filter(([gi]) => gi.requiresGrad);
    const res = keep.length
      ? grad(keep.map(([gi]) => gi), us, { gradOutputs: keep.map(([, vi]) => vi), createGraph, allowUnused: true }).map((r, i) => r ?? zeros(outs[i]!.shape, { dtype: outs[i]!.dtype }))
      : outs.map((o) => zeros(o.shape, { dtype: o.dtype }));
    return [createGraph ? out : detachAll(out), unpack(createGraph ? res : res.map((t) => t.detach()), out instanceof Tensor)];
  });
}

function detachAll(x: Tensor | readonly Tensor[]): Tensor | Tensor[] {
  return x instanceof Tensor ? x.detach() : x.map((t) => t.detach());
}

/**
 * The Jacobian of `func` at `inputs`: shape `out.shape ++ in.shape`; a list per input and/or
 * output when either is a list.
 * @example
 * const J = tg.autograd.functional.jacobian((x) => x.pow(2), tg.tensor([1, 2, 3]));
 */
export function jacobian(func: Fn, inputs: Inputs, opts: FunctionalOptions = {}): Tensor | Tensor[] | Tensor[][] {
  const createGraph = opts.createGraph ?? false;
  return enableGrad(() => {
    const ins = prepare(inputs, createGraph);
    const out = func(...ins);
    const outs = list(out);
    const jac: Tensor[][] = outs.map((o) => {
      const n = o.numel();
      const rows: Tensor[][] = ins.map(() => []);
      for (let k = 0; k < n; k++) {
        const e = zeros([n], { dtype: o.dtype });
        e.storage.data[k] = 1;
        const g = o.requiresGrad
          ? grad([o], ins, { gradOutputs: [e.reshape(o.shape)], retainGraph: true, createGraph, allowUnused: true })
          : ins.map(() => null);
        g.forEach((gi, i) => {
          if (!gi && opts.strict) throw new Error(`Output 0 of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`);
          rows[i]!.push(gi ?? zeros(ins[i]!.shape, { dtype: ins[i]!.dtype }));
        });
      }
      return ins.map((x, i) => {
        const stacked = rows[i]!.length ? stackRows(rows[i]!) : zeros([0, ...x.shape], { dtype: x.dtype });
        const j = stacked.reshape([...o.shape, ...x.shape]);
        return createGraph ? j : j.detach();
      });
    });
    const singleIn = inputs instanceof Tensor;
    const singleOut = out instanceof Tensor;
    if (singleIn && singleOut) return jac[0]![0]!;
    if (singleOut) return jac[0]!;
    if (singleIn) return jac.map((r) => r[0]!);
    return jac;
  });
}

function stackRows(rows: Tensor[]): Tensor {
  return rows.length === 1 ? rows[0]!.unsqueeze(0) : catRows(rows.map((r) => r.unsqueeze(0)));
}


/** The Hessian of a scalar function (the Jacobian of its gradient). */
export function hessian(func: (...xs: Tensor[]) => Tensor, inputs: Inputs, opts: FunctionalOptions = {}): Tensor | Tensor[][] {
  const single = inputs instanceof Tensor;
  const gradFn = (...xs: Tensor[]): Tensor[] => {
    const y = func(...xs);
    if (y.numel() !== 1) throw new Error(`The function given to hessian should return a single element Tensor, but got shape [${y.shape.join(', ')}]`);
    return grad([y], xs, { createGraph: true, allowUnused: true }).map((g, i) => g ?? zeros(xs[i]!.shape, { dtype: xs[i]!.dtype }));
  };
  const j = jacobian(gradFn, list(inputs), opts) as Tensor[][];
  return single ? j[0]![0]! : j;
}

/** Hessian-vector product `H v` of a scalar function: returns `[output, hvp]`. */
export function hvp(func: (...xs: Tensor[]) => Tensor, inputs: Inputs, v: Inputs, opts: FunctionalOptions = {}): [Tensor, Tensor | Tensor[]] {
  const createGraph = opts.createGraph ?? false;
  return enableGrad(() => {
    const ins = prepare(inputs, createGraph);
    const y = func(...ins);
    const g = gradsOrZeros(y, ins, undefined, true, opts.strict ?? false);
    const vs = list(v);
    const keep = g.map((gi, i) => [gi, vs[i]!, i] as const).filter(([gi]) => gi.requiresGrad);
    let res: Tensor[] = ins.map((x) => zeros(x.shape, { dtype: x.dtype }));
    if (keep.length) {
      const gg = grad(keep.map(([gi]) => gi), ins, { gradOutputs: keep.map(([, vi]) => vi), createGraph, allowUnused: true });
      res = gg.map((r, i) => r ?? res[i]!);
    }
    return [createGraph ? y : y.detach(), unpack(createGraph ? res : res.map((t) => t.detach()), inputs instanceof Tensor)];
  });
}

/** Vector-Hessian product `vᵀ H` (equal to `hvp` for twice-differentiable functions). */
export function vhp(func: (...xs: Tensor[]) => Tensor, inputs: Inputs, v: Inputs, opts: FunctionalOptions = {}): [Tensor, Tensor | Tensor[]] {
  return hvp(func, inputs, v, opts);
}
