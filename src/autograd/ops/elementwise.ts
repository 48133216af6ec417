/**
 * Elementwise primitives: forward and backward side by side, as derivatives.yaml. Binary ops
 * take equal shapes and dtypes: the Tensor layer broadcasts (expand) and promotes (cast) first.
 */
import { isFloating, type DType } from '../../tensor/dtype.js';
import type { BinaryOp, FusedActivation, UnaryOp, View } from '../../tensor/backend/backend.js';
import { backendOf } from '../../tensor/backend/device.js';
import { where as whereFn, type Tensor } from '../../tensor/tensor.js';
import { apply, defineOp, type Ctx, type OpDef } from '../function.js';
import { noGrad } from '../grad-mode.js';

type UnaryGrad = (g: Tensor, x: Tensor, out: Tensor) => Tensor;

/** d/dx for each differentiable unary op; `x` is the input, `out` the result. */
const UNARY_GRADS: Partial<Record<UnaryOp, { grad: UnaryGrad; saves: 'none' | 'inputs' | 'output' }>> = {
  neg: { grad: (g) => g.neg(), saves: 'none' },
  abs: { grad: (g, x) => g.mul(x.sign()), saves: 'inputs' },
  exp: { grad: (g, _x, out) => g.mul(out), saves: 'output' },
  expm1: { grad: (g, _x, out) => g.mul(out.add(1)), saves: 'output' },
  log: { grad: (g, x) => g.div(x), saves: 'inputs' },
  log1p: { grad: (g, x) => g.div(x.add(1)), saves: 'inputs' },
  sqrt: { grad: (g, _x, out) => g.div(out.mul(2)), saves: 'output' },
  rsqrt: { grad: (g, _x, out) => g.mul(out.pow(3)).mul(-0.5), saves: 'output' },
  square: { grad: (g, x) => g.mul(x.mul(2)), saves: 'inputs' },
  sin: { grad: (g, x) => g.mul(x.cos()), saves: 'inputs' },
  cos: { grad: (g, x) => g.mul(x.sin().neg()), saves: 'inputs' },
  tanh: { grad: (g, _x, out) => g.mul(out.mul(out).rsub(1)), saves: 'output' },
  sigmoid: { grad: (g, _x, out) => g.mul(out.mul(out.rsub(1))), saves: 'output' },
  // NOTE: relu's subgradient at 0 is 0 (PyTorch's threshold_backward on the result).
  relu: { grad: (g, _x, out) => thresholdBackward(g, out, 0), saves: 'output' },
  reciprocal: { grad: (g, _x, out) => g.mul(out.mul(out)).neg(), saves: 'output' },
  // Piecewise-constant ops have zero gradient almost everywhere, as in PyTorch.
  sign: { grad: (g) => g.mul(0), saves: 'none' },
  floor: { grad: (g) => g.mul(0), saves: 'none' },
  ceil: { grad: (g) => g.mul(0), saves: 'none' },
  round: { grad: (g) => g.mul(0), saves: 'none' },
};

/**
 * The gradient of a unary `op` whose derivative needs only its result `out` (tanh, sigmoid,
 * relu: the activations a backend fuses into a linear layer), in differentiable Tensor ops.
 * @example
 * activationGrad('tanh', g, y); // g·(1 − y²)
 */
export function activationGrad(op: FusedActivation, g: Tensor, out: Tensor): Tensor {
  return UNARY_GRADS[op]!.grad(g, out, out);
}

/**
 * `x <= threshold ? 0 : g` (PyTorch's threshold_backward): relu's gradient in one kernel where the
 * backend has one. Differentiable in `g` (the same mask again); `x` gets no gradient, as in
 * PyTorch (the mask is piecewise constant).
 */
const thresholdBackwardOp: OpDef<number> = defineOp<number>({
  name: 'thresholdBackward',
  forward: ([g, x], threshold) => {
    const be = backendOf(g!);
    return be.thresholdBackward?.(g!, x!, threshold) ?? noGrad(() => whereFn(x!.le(threshold), 0, g!));
  },
  saves: 'inputs',
  savedInputs: () => [false, true],
  backward: (ctx, gg) => [ctx.needsInputGrad[0] ? thresholdBackward(gg, ctx.inputs[1]!, ctx.attrs) : null, null],
});

/**
 * relu's backward from its result: `x <= threshold ? 0 : g` with `g` and `x` of one shape and
 * dtype.
 * @example
 * thresholdBackward(grad, reluOut, 0);
 */
export function thresholdBackward(g: Tensor, x: Tensor, threshold: number): Tensor {
  return apply(thresholdBackwardOp, [g, x.detach()], threshold);
}

const unaryDefs = new Map<UnaryOp, OpDef<DType>>();

/** The op record for a unary op; the attr is the output dtype. */
export function unaryOp(op: UnaryOp): OpDef<DType> {
  let def = unaryDefs.get(op);
  if (!def) {
    const spec = UNARY_GRADS[op];
    def = defineOp<DType>({
      name: op,
      forward: ([x], dtype) => backendOf(x!).unary(op, x!, dtype),
      ...(spec && {
        saves: spec.saves,
        backward: (ctx: Ctx<DType>, g: Tensor) =>
          spec.saves === 'none' ? [spec.grad(g, g, g)] : spec.saves === 'inputs' ? [spec.grad(g, ctx.inputs[0]!, g)] : [spec.grad(g, g, ctx.output)],
      }),
    });
    unaryDefs.set(op, def);
  }
  return def;
}

type BinaryGrad = (g: Tensor, a: Tensor, b: Tensor, out: Tensor, needs: readonly boolean[]) => readonly (Tensor | null)[];

/** Gradients of binary ops with respect to both operands. */
const BINARY_GRADS: Partial<Record<BinaryOp, { grad: BinaryGrad; saves: 'none' | 'inputs' | 'all'; savedInputs?: (rg: readonly boolean[]) => boolean[] }>> = {
  add: { grad: (g) => [g, g], saves: 'none' },
  sub: { grad: (g, _a, _b, _o, n) => [g, n[1] ? g.neg() : null], saves: 'none' },
  // Each operand is read only for the other's gradient.
  mul: { grad: (g, a, b, _o, n) => [n[0] ? g.mul(b) : null, n[1] ? g.mul(a) : null], saves: 'inputs', savedInputs: (rg) => [rg[1]!, rg[0]!] },
  div: {
    grad: (g, a, b, _o, n) => [n[0] ? g.div(b) : null, n[1] ? g.neg().mul(a).div(b.mul(b)) : null],
    saves: 'inputs',
    savedInputs: (rg) => [rg[1]!, true],
  },
  // NOTE: PyTorch's pow_backward: zero where the exponent is 0 (self), and where base == 0 with
  // a non-negative exponent (exponent), so 0 ** 0 and log(0) never leak NaN.
  pow: {
    grad: (g, a, b, out, n) => [
      n[0] ? whereFn(b.eq(0), 0, g.mul(b.mul(a.pow(b.sub(1))))) : null,
      n[1] ? whereFn(a.eq(0).logicalAnd(b.ge(0)), 0, g.mul(out.mul(a.log()))) : null,
    ],
    saves: 'all',
  },
  // NOTE: ties split the gradient evenly between both operands, as torch.maximum does.
  maximum: {
    grad: (g, a, b, _o, n) => {
      const shared = whereFn(a.eq(b), g.div(2), g);
      return [n[0] ? whereFn(a.lt(b), 0, shared) : null, n[1] ? whereFn(a.gt(b), 0, shared) : null];
    },
    saves: 'inputs',
  },
  minimum: {
    grad: (g, a, b, _o, n) => {
      const shared = whereFn(a.eq(b), g.div(2), g);
      return [n[0] ? whereFn(a.gt(b), 0, shared) : null, n[1] ? whereFn(a.lt(b), 0, shared) : null];
    },
    saves: 'inputs',
  },
  atan2: {
    grad: (g, a, b, _o, n) => {
      const r = g.div(a.mul(a).add(b.mul(b)));
      return [n[0] ? r.mul(b) : null, n[1] ? r.mul(a).neg() : null];
    },
    saves: 'inputs',
  },
};

const binaryDefs = new Map<BinaryOp, OpDef<DType>>();

/** The op record for a binary op; the attr is the output dtype. */
export function binaryOp(op: BinaryOp): OpDef<DType> {
  let def = binaryDefs.get(op);
  if (!def) {
    const spec = BINARY_GRADS[op];
    def = defineOp<DType>({
      name: op,
      forward: ([a, b], dtype) => backendOf(a!).binary(op, a!, b!, dtype),
      ...(spec && {
        saves: spec.saves,
        ...(spec.savedInputs && { savedInputs: spec.savedInputs }),
        backward: (ctx: Ctx<DType>, g: Tensor) => {
          const [a, b] = spec.saves === 'none' ? [g, g] : ctx.inputs;
          return spec.grad(g, a!, b!, spec.saves === 'all' ? ctx.output : g, ctx.needsInputGrad);
        },
      }),
    });
    binaryDefs.set(op, def);
  }
  return def;
}

/** where(cond, a, b) on equal shapes and dtypes; the condition gets no gradient. */
export const where = defineOp({
  name: 'where',
  saves: 'inputs',
  savedInputs: () => [true, false, false], // only the condition is read
  forward: ([c, a, b]) => backendOf(a!).where(c!, a!, b!),
  backward: ({ inputs: [c], needsInputGrad: n }, g) => [null, n[1] ? whereFn(c!, g, 0) : null, n[2] ? whereFn(c!, 0, g) : null],
});

/** Cast to another dtype; the gradient is cast back. */
export const cast = defineOp<{ from: DType; to: DType }>({
  name: 'to',
  saves: 'none',
  forward: ([x], { to }) => backendOf(x!).cast(x!, to),
  backward: ({ attrs: { from } }, g) => [g.to(from)],
});

/** clamp(min, max): the gradient passes where min <= x <= max (PyTorch's clamp_backward). */
export const clamp = defineOp<{ min: number | null; max: number | null }>({
  name: 'clamp',
  saves: 'inputs',
  forward: ([x], { min, max }) => {
    const be = backendOf(x!);
    let v: View = x!;
    // NOTE: maximum/minimum propagate NaN from x, as torch.clamp does.
    if (min !== null) v = be.binary('maximum', v, scalarView(v, min), v.dtype);
    if (max !== null) v = be.binary('minimum', v, scalarView(v, max), v.dtype);
    return v === x ? be.contiguous(v) : v;
  },
  backward: ({ inputs: [x], attrs: { min, max } }, g) => {
    let mask = x!.eq(x!); // all true except NaN
    if (min !== null) mask = mask.logicalAnd(x!.ge(min));
    if (max !== null) mask = mask.logicalAnd(x!.le(max));
    return [whereFn(mask, g, 0)];
  },
});

function scalarView(like: { shape: readonly number[]; dtype: DType; storage: { device: 'cpu' | 'gpu' } }, v: number) {
  const be = backendOf(like as Parameters<typeof backendOf>[0]);
  const data = be.fromArray(
    like.dtype === 'float32' ? Float32Array.of(v) : like.dtype === 'float64' ? Float64Array.of(v) : Int32Array.of(v),
    [],
  );
  return { ...data, shape: like.shape, strides: like.shape.map(() => 0) };
}

export function isDifferentiableDtype(d: DType): boolean {
  return isFloating(d);
}
