/**
 * The user-facing Tensor: metadata, validation, broadcasting, dtype promotion and PyTorch's
 * errors. Every computation goes through `apply()` (src/autograd/function.ts).
 */
import { apply, edgeOf, LeafAccumulator, Node, type OpDef } from '../autograd/function.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import * as E from '../autograd/ops/elementwise.js';
import * as I from '../autograd/ops/index-ops.js';
import * as L from '../autograd/ops/linalg.js';
import * as M from '../autograd/ops/movement.js';
import * as R from '../autograd/ops/reduce.js';
import * as S from '../autograd/ops/softmax.js';
import * as VS from '../autograd/ops/view-scatter.js';
import { backendFor, backendOf } from './backend/device.js';
import type { BinaryOp, Device, Storage, UnaryOp, View } from './backend/backend.js';
import { allocArray, castScalar, DEFAULT_FLOAT, isDType, isFloating, promoteTypes, type DType, type TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import { normalValues, uniformValues, type Generator } from './random.js';
import {
  broadcastShapes, fmtShape, inferShape, isContiguousLayout, normalizeDim, normalizeDims, numel, sameShape, viewStrides,
} from './shape.js';
import { backward as engineBackward, type BackwardOptions } from '../autograd/engine.js';
import { adoptGradient, isOwnedGradient } from './scope.js';
import {
  argTypeName, canCast, checkDType, checkInt, checkNoInternalOverlap, checkOperand, checkTensorArg, findOutOfRange, SCALAR_NAME,
} from './checks.js';

export type Scalar = number | boolean;
export type TensorLike = Tensor | Scalar;
/** Nested arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];
export type Shape = readonly number[];

/** `max(dim)`/`min(dim)` results: a `[values, indices]` tuple that also has named fields. */
export type ValuesIndices = [Tensor, Tensor] & { values: Tensor; indices: Tensor };

export interface VarOptions {
  /** Bessel's correction: divide by N - correction (default 1). */
  correction?: number;
  keepdim?: boolean;
}

export interface Hook {
  remove(): void;
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

function shapeArgs(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/** A scalar operand as a 0-d tensor on `like`'s device. */
function scalarTensor(v: Scalar, dtype: DType, device: Device): Tensor {
  const arr = allocArray(dtype, 1);
  arr[0] = castScalar(Number(v), dtype);
  return Tensor.fromView(backendFor(device).fromArray(arr, []));
}

/**
 * PyTorch's result_type: dimensioned tensors decide, 0-d tensors only when of a higher
 * category, and Python scalars raise the category to its default dtype.
 */
export function resultType(...ops: readonly TensorLike[]): DType {
  let dim: DType | null = null;
  let zero: DType | null = null;
  let scalarCat = -1;
  for (const o of ops) {
    if (o instanceof Tensor) {
      if (o.ndim > 0) dim = dim ? promoteTypes(dim, o.dtype) : o.dtype;
      else zero = zero ? promoteTypes(zero, o.dtype) : o.dtype;
    } else {
      scalarCat = Math.max(scalarCat, typeof o === 'boolean' ? 0 : Number.isInteger(o) ? 1 : 2);
    }
  }
  let out: DType = dim ?? zero ?? 'bool';
  if (dim && zero && CATEGORY[zero] > CATEGORY[dim]) out = zero;
  if (!dim && !zero) out = (['bool', 'int32', DEFAULT_FLOAT] as const)[scalarCat] ?? 'bool';
  else if (scalarCat > CATEGORY[out]) out = scalarCat === 2 ? DEFAULT_FLOAT : 'int32';
  return out;
}

let nextId = 0;

export class Tensor implements View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  private gradSlot: Tensor | null = null;
  private node: Node | null = null;
  /** The storage version when `node` was set: a view re-derives its node when it moves. */
  private nodeVersion = 0;
  /** For a view, the tensor whose storage it shares (PyTorch's `_base`). */
  base: Tensor | null = null;
  /**
   * @internal How a view relates to its base's history: made in grad mode ('grad': its graph
   * node is re-derived from the base after an in-place write, PyTorch's view replay) or under
   * `noGrad` ('noGrad': it may not be written in place with grad mode on). Null for non-views.
   */
  viewMode: 'grad' | 'noGrad' | null = null;
  /** Stable identity, used e.g. to key optimizer state. */
  readonly id = nextId++;
  private requiresGradFlag = false;
  private acc: LeafAccumulator | null = null;
  private hooks: ((g: Tensor) => Tensor | void)[] = [];
  private retains = false;

  private constructor(v: View) {
    this.storage = v.storage;
    this.shape = Object.freeze([...v.shape]);
    this.strides = Object.freeze([...v.strides]);
    this.offset = v.offset;
    this.dtype = v.dtype;
    // Device storage counts the tensors that reference it (freed by dispose() or a scope).
    v.storage.retain?.(this);
  }

  /**
   * The gradient accumulated by `backward()` (leaves, and non-leaves after `retainGrad()`).
   * NOTE: on a device, replacing or clearing a gradient autograd made (`zeroGrad()`) frees
   * its memory; `clone()` a gradient you want to keep past that.
   */
  get grad(): Tensor | null {
    return this.gradSlot;
  }
  set grad(g: Tensor | null) {
    const given: unknown = g;
    if (given === undefined) g = null;
    else if (given !== null) {
      if (!(given instanceof Tensor)) throw new TypeError(`assigned grad expected to be a Tensor or None but got grad of type ${argTypeName(given)}`);
      if (given.dtype !== this.dtype) throw new TypeError('assigned grad has data of a different type');
      if (given.device !== this.device) throw new Error('assigned grad has data located on a different device');
      if (!sameShape(given.shape, this.shape)) throw new RangeError('assigned grad has data of a different size');
    }
    const old = this.gradSlot;
    this.gradSlot = g;
    if (old && old !== g && isOwnedGradient(old)) old.dispose();
  }

  /**
   * Free this tensor's device memory now, instead of when the garbage collector gets to it
   * (its views keep the memory alive until they are disposed too). On the CPU it frees results
   * made inside `tg.scope()` (they live in WebAssembly memory) and is a no-op otherwise.
   * @example
   * const y = x.matmul(w);
   * console.log(await y.data());
   * y.dispose();
   */
  dispose(): void {
    this.storage.release?.(this);
  }

  /** Wrap a backend view (internal: use `tensor()` and friends). */
  static fromView(v: View): Tensor {
    return new Tensor(v);
  }

  /** @internal A tensor of ones shaped like `t` (backward's default seed). */
  static onesLikeInternal(t: Tensor): Tensor {
    return scalarTensor(1, t.dtype, t.device).expand(t.shape).contiguous();
  }

  // ---------------------------------------------------------------- metadata

  get device(): Device {
    return this.storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** `size()` is the shape; `size(d)` one dim. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    return dim === undefined ? [...this.shape] : this.shape[normalizeDim(dim, this.ndim)] ?? 1;
  }
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number[] | number {
    return dim === undefined ? [...this.strides] : this.strides[normalizeDim(dim, this.ndim)] ?? 1;
  }
  isContiguous(): boolean {
    return isContiguousLayout(this);
  }
  isFloatingPoint(): boolean {
    return isFloating(this.dtype);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get requiresGrad(): boolean {
    if (this.viewMode === 'grad' && this.nodeVersion !== this.storage.version) this.replayView();
    return this.requiresGradFlag;
  }
  set requiresGrad(v: boolean) {
    this.requiresGrad_(v);
  }
  /** The graph node that produced this tensor (`grad_fn`); null for leaves. */
  get gradFn(): Node | null {
    if (this.viewMode === 'grad' && this.nodeVersion !== this.storage.version) this.replayView();
    return this.node;
  }
  set gradFn(n: Node | null) {
    this.node = n;
    this.nodeVersion = this.storage.version;
  }

  /** @internal Record that this tensor, made from `parent`, is a view of `base` (called by `apply`). */
  markView(base: Tensor, parent: Tensor): void {
    this.base = base;
    // NOTE: a view of a view made under noGrad is a noGrad view too, as PyTorch's creation_meta.
    this.viewMode = isGradEnabled() && parent.viewMode !== 'noGrad' ? 'grad' : 'noGrad';
    this.nodeVersion = this.storage.version;
  }

  /**
   * After an in-place write to the base or another of its views, this view's node is re-derived
   * as a view of the base's current history (PyTorch's AsStridedBackward), so gradients never
   * flow through a stale history.
   */
  private replayView(): void {
    this.nodeVersion = this.storage.version;
    const base = this.base!;
    if (!base.requiresGrad) return;
    const node = Node.fromEdges(VS.asStrided as OpDef<unknown>, [edgeOf(base)], [{ shape: base.shape, dtype: base.dtype }], VS.viewPlace(base, this));
    this.moveRetained(node);
    this.node = node;
    this.requiresGradFlag = true;
  }

  /** Keep `retainGrad()` on this tensor when its node is replaced (an in-place op, a replay). */
  private moveRetained(next: Node | null): void {
    if (!this.retains) return;
    if (this.node?.retained === this) this.node.retained = null;
    if (next) next.retained = this;
  }

  // ---------------------------------------------------------------- autograd

  /** Set `requiresGrad` on a leaf (in place), as `Tensor.requires_grad_`. */
  requiresGrad_(requiresGrad = true): this {
    if (!this.isLeaf) {
      if (!requiresGrad) {
        throw new Error("you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use varNoGrad = var.detach().");
      }
      return this;
    }
    if (requiresGrad && !isFloating(this.dtype)) {
      throw new TypeError('only Tensors of floating point dtype can require gradients');
    }
    this.requiresGradFlag = requiresGrad;
    return this;
  }

  /** @internal */
  setRequiresGradUnchecked(v: boolean): void {
    this.requiresGradFlag = v;
  }

  /** @internal The leaf's gradient sink (one per leaf). */
  accumulator(): LeafAccumulator {
    return (this.acc ??= new LeafAccumulator(this));
  }

  /**
   * Compute the gradient of this tensor with respect to graph leaves and accumulate it into
   * their `.grad` (`Tensor.backward`). The options may come first, as PyTorch users write
   * `loss.backward(retain_graph=True)`.
   * @example
   * const x = tg.tensor([1, 2, 3], { requiresGrad: true });
   * x.mul(x).sum().backward();   // x.grad = [2, 4, 6]
   * loss.backward({ retainGraph: true });   // same as loss.backward(undefined, { retainGraph: true })
   */
  backward(opts: BackwardOptions): void;
  backward(gradient?: Tensor | null, opts?: BackwardOptions): void;
  backward(gradient?: Tensor | null | BackwardOptions, opts: BackwardOptions = {}): void {
    // PyTorch users write backward(retain_graph=True): an options object first is the options.
    if (gradient != null && !(gradient instanceof Tensor)) {
      if (Object.getPrototypeOf(gradient) !== Object.prototype) {
        throw new TypeError(`backward(): argument 'gradient' (position 1) must be Tensor, not ${argTypeName(gradient)}`);
      }
      engineBackward(this, null, gradient);
      return;
    }
    engineBackward(this, gradient ?? null, opts);
  }

  /** Keep `.grad` for this non-leaf tensor after backward (`retain_grad`). */
  retainGrad(): void {
    if (!this.requiresGrad) throw new Error("can't retain_grad on Tensor that has requires_grad=False");
    if (this.gradFn) {
      this.gradFn.retained = this;
      this.retains = true;
    }
  }

  get retainsGrad(): boolean {
    return this.retains;
  }

  /**
   * Register `hook(grad)`, called with this tensor's gradient during backward; returning a
   * tensor replaces the gradient.
   */
  registerHook(hook: (grad: Tensor) => Tensor | void): Hook {
    if (!this.requiresGrad) throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    const list = this.gradFn ? this.gradFn.tensorHooks : this.hooks;
    list.push(hook);
    return { remove: () => void list.splice(list.indexOf(hook) >>> 0, list.includes(hook) ? 1 : 0) };
  }

  /** @internal Run leaf hooks on an incoming gradient. */
  runHooks(g: Tensor): Tensor {
    for (const h of this.hooks) g = h(g) ?? g;
    return g;
  }

  /** @internal Whether hooks are registered on this leaf (they may keep the gradients they see). */
  hasHooks(): boolean {
    return this.hooks.length > 0;
  }

  /**
   * @internal Add `g` into `.grad` (in place unless building a graph, as AccumulateGrad).
   * `steal`: nothing else references `g`, so it may become `.grad` without a copy.
   */
  accumulateGrad(g: Tensor, createGraph: boolean, steal = false): void {
    // A root's user-given gradient (backward(g)) may come in another dtype: `.grad` has ours.
    if (g.dtype !== this.dtype) g = g.to(this.dtype);
    if (this.grad === null) {
      // NOTE: copy so `.grad` never aliases a tensor the graph (or the user) still holds.
      // A taken view (of an intermediate nothing else holds) is re-wrapped so `.grad` is no view.
      this.grad = createGraph ? g : steal ? (g.base ? g.detach() : g) : noGrad(() => g.contiguous() === g ? g.clone() : g.contiguous());
      // The leaf owns this copy: it outlives tg.scope() and is freed when replaced.
      if (!createGraph) adoptGradient(this.grad);
    } else if (createGraph || this.grad.requiresGrad) {
      this.grad = this.grad.add(g);
    } else {
      const sum = noGrad(() => this.grad!.add(g));
      backendOf(this.grad).copyInto(this.grad, sum);
      this.grad.storage.version++;
    }
  }

  /** A new tensor sharing storage, cut from the graph (`detach`). */
  detach(): Tensor {
    // NOTE: not a view for autograd (PyTorch's `x.detach()._base` is None): writing to it in
    // place rebases its own history, never `this`'s; the shared storage shares the version.
    return Tensor.fromView(this);
  }

  /** Cut this tensor from the graph in place. */
  detach_(): this {
    this.gradFn = null;
    this.requiresGradFlag = false;
    // A detached view no longer follows its base's history (no view replay).
    if (this.viewMode === 'grad') this.viewMode = null;
    return this;
  }

  /**
   * @internal Point this leaf at `src`'s data (storage, layout, dtype) while keeping its
   * identity, `requiresGrad` and hooks, as PyTorch's `param.data = src`. `Module.to()` uses it
   * so optimizers holding the parameter keep working after `model.to('float64')`.
   */
  setData_(src: Tensor): this {
    if (!this.isLeaf) throw new Error('setData_: only leaf tensors can have their data replaced');
    const w = this as unknown as { storage: Storage; shape: readonly number[]; strides: readonly number[]; offset: number; dtype: DType };
    src.storage.retain?.(this);
    this.storage.release?.(this);
    w.storage = src.storage;
    w.shape = Object.freeze([...src.shape]);
    w.strides = Object.freeze([...src.strides]);
    w.offset = src.offset;
    w.dtype = src.dtype;
    return this;
  }

  // ---------------------------------------------------------------- reading

  /** A contiguous copy of the elements as a TypedArray. */
  dataSync(): TypedArray {
    return backendOf(this).read(this);
  }
  /**
   * Async twin of `dataSync()`: the way to read a tensor on every device (WebGPU reads back
   * only asynchronously).
   * @example
   * const values = await tg.randn([3], { device: 'gpu' }).data();
   */
  async data(): Promise<TypedArray> {
    const be = backendOf(this);
    return be.readAsync ? be.readAsync(this) : be.read(this);
  }
  /** The elements as nested arrays (booleans for bool tensors). */
  toArray(): NestedArray {
    return this.nest(this.dataSync());
  }
  /** Alias of `toArray()` (PyTorch's `tolist`). @example tg.tensor([[1, 2]]).tolist();   // [[1, 2]] */
  tolist(): NestedArray {
    return this.toArray();
  }
  private nest(flat: TypedArray): NestedArray {
    const isBool = this.dtype === 'bool';
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[off] !== 0 : flat[off]!;
      const n = this.shape[dim]!;
      const step = numel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, off + i * step));
      return out;
    };
    return build(0, 0);
  }
  /** Async twin of `toArray()` (works on every device). */
  async array(): Promise<NestedArray> {
    return this.nest(await this.data());
  }
  /**
   * The value of a one-element tensor as a number (`Tensor.item`).
   * NOTE: a bool tensor gives 1 or 0 (PyTorch gives True/False); compare with `=== 1`.
   */
  item(): number {
    if (this.numel() !== 1) {
      throw new RangeError(`a Tensor with ${this.numel()} elements cannot be converted to Scalar`);
    }
    return backendOf(this).read(this)[0]!;
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  // ---------------------------------------------------------------- dtype/device

  /**
   * Convert to a dtype (`x.to('float64')`) or device (`x.to('gpu')`); both are differentiable
   * (the gradient is converted back).
   * @example
   * const y = x.to('gpu').mul(2).to('cpu');   // x.grad arrives on the cpu
   */
  to(target: DType | Device): Tensor {
    if (isDType(target)) {
      if (target === this.dtype) return this;
      return apply(E.cast, [this], { from: this.dtype, to: target });
    }
    if (target !== 'cpu' && target !== 'gpu') checkDType(target);
    if (target === this.device) return this;
    return apply(M.toDevice, [this], { from: this.device, to: target });
  }
  double(): Tensor {
    return this.to('float64');
  }
  float(): Tensor {
    return this.to('float32');
  }
  int(): Tensor {
    return this.to('int32');
  }
  /** Alias of `int()`: tensorgrad's integers are int32 (PyTorch's `long()` gives int64). */
  long(): Tensor {
    return this.int();
  }
  bool(): Tensor {
    return this.to('bool');
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  typeAs(other: Tensor): Tensor {
    return this.to(other.dtype);
  }

  // ---------------------------------------------------------------- elementwise

  private unary(op: UnaryOp, floatOnly = true): Tensor {
    const dtype = floatOnly && !isFloating(this.dtype) ? DEFAULT_FLOAT : this.dtype;
    return apply(E.unaryOp(op), [dtype === this.dtype ? this : this.to(dtype)], dtype);
  }
  neg(): Tensor {
    if (this.dtype === 'bool') throw new TypeError('Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logicalNot()` operator instead.');
    return this.unary('neg', false);
  }
  abs(): Tensor { return this.unary('abs', false); }
  sign(): Tensor { return this.unary('sign', false); }
  exp(): Tensor { return this.unary('exp'); }
  expm1(): Tensor { return this.unary('expm1'); }
  log(): Tensor { return this.unary('log'); }
  log1p(): Tensor { return this.unary('log1p'); }
  sqrt(): Tensor { return this.unary('sqrt'); }
  rsqrt(): Tensor { return this.unary('rsqrt'); }
  square(): Tensor { return this.unary('square', false); }
  sin(): Tensor { return this.unary('sin'); }
  cos(): Tensor { return this.unary('cos'); }
  tanh(): Tensor { return this.unary('tanh'); }
  sigmoid(): Tensor { return this.unary('sigmoid'); }
  relu(): Tensor { return this.unary('relu', false); }
  reciprocal(): Tensor { return this.unary('reciprocal'); }
  floor(): Tensor { return isFloating(this.dtype) ? this.unary('floor') : this.clone(); }
  ceil(): Tensor { return isFloating(this.dtype) ? this.unary('ceil') : this.clone(); }
  round(): Tensor { return isFloating(this.dtype) ? this.unary('round') : this.clone(); }
  logicalNot(): Tensor { return apply(E.unaryOp('logicalNot'), [this], 'bool'); }
  isnan(): Tensor { return apply(E.unaryOp('isnan'), [this], 'bool'); }
  isfinite(): Tensor { return apply(E.unaryOp('isfinite'), [this], 'bool'); }
  isinf(): Tensor { return this.isfinite().logicalOr(this.isnan()).logicalNot(); }

  /** `clamp(min, max)`; either bound may be null. */
  clamp(min?: number | null, max?: number | null): Tensor {
    for (const [name, v] of [['min', min], ['max', max]] as const) {
      if (v != null && typeof v !== 'number') throw new TypeError(`clamp(): argument '${name}' must be Number, not ${argTypeName(v)}`);
    }
    if ((min ?? null) === null && (max ?? null) === null) throw new TypeError("torch.clamp: At least one of 'min' or 'max' must not be None");
    // Bounds promote like any scalar operand: an int tensor clamped to 1.5 becomes float.
    const dtype = resultType(this, ...[min, max].filter((v): v is number => v != null));
    return apply(E.clamp, [dtype === this.dtype ? this : this.to(dtype)], { min: min ?? null, max: max ?? null });
  }
  clip(min?: number | null, max?: number | null): Tensor { return this.clamp(min, max); }
  clampMin(min: number): Tensor { return this.clamp(min, null); }
  clampMax(max: number): Tensor { return this.clamp(null, max); }

  /** Promote, broadcast and run a binary primitive. */
  private binary(op: BinaryOp, other: TensorLike, opts: { bool?: boolean; float?: boolean; swap?: boolean; name?: string } = {}): Tensor {
    checkOperand(opts.name ?? op, 'other', 1, other);
    let dtype = resultType(this, other);
    if (opts.float && !isFloating(dtype)) dtype = DEFAULT_FLOAT;
    // NOTE: on bools, + is logical or and * logical and (PyTorch), so results stay 0 or 1.
    if (dtype === 'bool' && !opts.bool) {
      if (op === 'add') return this.binary('logicalOr', other, { bool: true, name: 'add' });
      if (op === 'mul') return this.binary('logicalAnd', other, { bool: true, name: 'mul' });
    }
    let a: Tensor = this.to(dtype);
    let b: Tensor = other instanceof Tensor ? other.to(dtype) : scalarTensor(other, dtype, this.device);
    if (other instanceof Tensor && other.device !== this.device) {
      throw new Error(`Expected all tensors to be on the same device, but found at least two devices, ${this.device} and ${other.device}!`);
    }
    if (opts.swap) [a, b] = [b, a];
    if (!sameShape(a.shape, b.shape)) {
      const shape = broadcastShapes(a.shape, b.shape);
      a = a.expand(shape);
      b = b.expand(shape);
    }
    return apply(E.binaryOp(op), [a, b], opts.bool ? 'bool' : dtype);
  }

  /** `this + alpha * other` (`torch.add`). */
  add(other: TensorLike, opts: { alpha?: number } = {}): Tensor {
    checkOperand('add', 'other', 1, other);
    if (opts.alpha !== undefined && opts.alpha !== 1) other = other instanceof Tensor ? other.mul(opts.alpha) : Number(other) * opts.alpha;
    return this.binary('add', other);
  }
  /** `this - alpha * other` (`torch.sub`). */
  sub(other: TensorLike, opts: { alpha?: number } = {}): Tensor {
    checkOperand('sub', 'other', 1, other);
    if (this.dtype === 'bool' || (other instanceof Tensor && other.dtype === 'bool')) {
      throw new TypeError('Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logicalNot()` operator instead.');
    }
    if (opts.alpha !== undefined && opts.alpha !== 1) other = other instanceof Tensor ? other.mul(opts.alpha) : Number(other) * opts.alpha;
    return this.binary('sub', other);
  }
  /** `other - this` (`torch.rsub`). */
  rsub(other: TensorLike): Tensor {
    return this.binary('sub', other, { swap: true, name: 'rsub' });
  }
  mul(other: TensorLike): Tensor {
    return this.binary('mul', other);
  }
  /** True division; `roundingMode` 'trunc' or 'floor' as `torch.div`. */
  div(other: TensorLike, opts: { roundingMode?: 'trunc' | 'floor' | null } = {}): Tensor {
    checkOperand('div', 'other', 1, other);
    if (opts.roundingMode) return this.roundedDiv(other, opts.roundingMode, false);
    return this.binary('div', other, { float: true });
  }
  /** `other / this`, with `div`'s rounding modes. */
  rdiv(other: TensorLike, opts: { roundingMode?: 'trunc' | 'floor' | null } = {}): Tensor {
    checkOperand('rdiv', 'other', 1, other);
    if (opts.roundingMode) return this.roundedDiv(other, opts.roundingMode, true);
    // NOTE: PyTorch computes `scalar / x` as `reciprocal(x) * scalar`, which saves the result
    // rather than x (so a later in-place edit of x does not invalidate the graph).
    if (!(other instanceof Tensor) && isFloating(this.dtype)) return this.reciprocal().mul(other);
    return this.binary('div', other, { float: true, swap: true });
  }
  private roundedDiv(other: TensorLike, mode: 'trunc' | 'floor', swap: boolean): Tensor {
    const dtype = resultType(this, other);
    if (isFloating(dtype)) {
      const q = this.binary('div', other, { float: true, swap });
      return mode === 'trunc' ? q.sign().mul(q.abs().floor()) : q.floor();
    }
    // NOTE: integers divide in float64, where the quotient of two int32 values rounds exactly
    // (float32 would turn 16777217 / 1 into 16777216).
    const divisor = swap ? this : other;
    if (divisor instanceof Tensor ? backendOf(divisor).canReadSync?.(divisor) !== false && divisor.eq(0).any().item() === 1 : Number(divisor) === 0) {
      throw new RangeError('ZeroDivisionError');
    }
    const a = this.to('float64');
    const b = other instanceof Tensor ? other.to('float64') : other;
    const q = a.binary('div', b, { float: true, swap });
    return (mode === 'trunc' ? q.sign().mul(q.abs().floor()) : q.floor()).to(dtype);
  }
  pow(exponent: TensorLike): Tensor {
    checkOperand('pow', 'exponent', 1, exponent);
    const dtype = resultType(this, exponent);
    if (!isFloating(dtype) && (exponent instanceof Tensor ? exponent.lt(0).any().item() : Number(exponent) < 0)) {
      throw new RangeError('Integers to negative integer powers are not allowed.');
    }
    return this.binary('pow', exponent);
  }
  /** `base ** this` for a scalar base. */
  rpow(base: Scalar): Tensor {
    return this.binary('pow', base, { swap: true, name: 'rpow' });
  }
  maximum(other: TensorLike): Tensor {
    return this.binary('maximum', other);
  }
  minimum(other: TensorLike): Tensor {
    return this.binary('minimum', other);
  }
  atan2(other: TensorLike): Tensor {
    return this.binary('atan2', other, { float: true });
  }
  eq(other: TensorLike): Tensor { return this.binary('eq', other, { bool: true }); }
  ne(other: TensorLike): Tensor { return this.binary('ne', other, { bool: true }); }
  lt(other: TensorLike): Tensor { return this.binary('lt', other, { bool: true }); }
  le(other: TensorLike): Tensor { return this.binary('le', other, { bool: true }); }
  gt(other: TensorLike): Tensor { return this.binary('gt', other, { bool: true }); }
  ge(other: TensorLike): Tensor { return this.binary('ge', other, { bool: true }); }
  logicalAnd(other: TensorLike): Tensor { return this.binary('logicalAnd', other, { bool: true }); }
  logicalOr(other: TensorLike): Tensor { return this.binary('logicalOr', other, { bool: true }); }
  logicalXor(other: TensorLike): Tensor { return this.bool().ne(other instanceof Tensor ? other.bool() : Boolean(other)); }
  /** True when shapes match and all elements are equal (`torch.equal`). */
  equal(other: Tensor): boolean {
    return sameShape(this.shape, other.shape) && this.eq(other).all().item() === 1;
  }
  /** `torch.allclose`. */
  allclose(other: Tensor, opts: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
    return this.isclose(other, opts).all().item() === 1;
  }
  isclose(other: Tensor, { rtol = 1e-5, atol = 1e-8, equalNan = false }: { rtol?: number; atol?: number; equalNan?: boolean } = {}): Tensor {
    const close = this.sub(other).abs().le(other.abs().mul(rtol).add(atol)).logicalOr(this.eq(other));
    return equalNan ? close.logicalOr(this.isnan().logicalAnd(other.isnan())) : close;
  }

  /** `torch.where(condition, this, other)`, PyTorch's `Tensor.where`. */
  where(condition: Tensor, other: TensorLike): Tensor {
    return where(condition, this, other);
  }
  /** Elements where `mask` is true replaced by `value` (`masked_fill`). */
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    checkTensorArg('masked_fill', 'mask', 1, mask);
    checkOperand('masked_fill', 'value', 2, value);
    if (value instanceof Tensor && value.ndim !== 0) {
      throw new RangeError(`masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`);
    }
    if (mask.dtype !== 'bool') throw new TypeError(`masked_fill_ only supports boolean masks, but got mask with dtype ${mask.dtype}`);
    const v = value instanceof Tensor ? value.to(this.dtype) : value;
    return where(mask, v, this).to(this.dtype);
  }

  // ---------------------------------------------------------------- reductions

  private reduceAxes(dim: number | readonly number[] | null | undefined): number[] {
    if (dim === null || dim === undefined) return this.shape.map((_, i) => i);
    const dims = typeof dim === 'number' ? [dim] : [...dim];
    // NOTE: an empty dim list reduces everything, as PyTorch 1.x's sum(dim=[]) does.
    if (dims.length === 0) return this.shape.map((_, i) => i);
    if (this.ndim === 0) {
      dims.forEach((d) => normalizeDim(d, 0));
      return [];
    }
    return normalizeDims(dims, this.ndim).sort((a, b) => a - b);
  }

  private squeezeAxes(t: Tensor, axes: readonly number[], keepdim: boolean): Tensor {
    if (keepdim) return t;
    return t.reshape(this.shape.filter((_, i) => !axes.includes(i)));
  }

  private reduceWith(def: OpDef<R.ReduceAttrs>, dim: number | readonly number[] | null | undefined, keepdim: boolean, dtype: DType): Tensor {
    const axes = this.reduceAxes(dim);
    return apply(def, [this.to(dtype)], { axes, dtype, inShape: this.shape, keepdim });
  }

  /**
   * Sum over `dim` (all dims when omitted). Integer and bool inputs sum to int32 (PyTorch gives
   * int64): int32 sums accumulate exactly in float64 and throw a RangeError when the result does
   * not fit in int32.
   */
  sum(dim?: number | readonly number[] | null, keepdim = false, opts: { dtype?: DType } = {}): Tensor {
    if (opts.dtype !== undefined) checkDType(opts.dtype);
    const dtype = opts.dtype ?? (isFloating(this.dtype) ? this.dtype : 'int32');
    // NOTE: a bool sum counts, so it always fits.
    if (dtype !== 'int32' || this.dtype === 'bool') return this.reduceWith(R.sum, dim, keepdim, dtype);
    const src = this.dtype === 'int32' ? this : this.to('int32');
    const wide = src.reduceWith(R.sum, dim, keepdim, 'float64');
    if (backendOf(wide).canReadSync?.(wide) !== false) {
      for (const v of wide.dataSync()) {
        if (v > 2147483647 || v < -2147483648) {
          throw new RangeError(`sum(): the result ${v} overflows int32 (tensorgrad has no int64)\n- help: sum in floating point instead: x.sum(dim, keepdim, { dtype: 'float64' })`);
        }
      }
    }
    return wide.to('int32');
  }
  mean(dim?: number | readonly number[] | null, keepdim = false, opts: { dtype?: DType } = {}): Tensor {
    if (opts.dtype !== undefined) checkDType(opts.dtype);
    const dtype = opts.dtype ?? this.dtype;
    if (!isFloating(dtype)) {
      throw new TypeError(`mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${dtype === 'int32' ? 'Int' : 'Bool'}`);
    }
    return this.reduceWith(R.mean, dim, keepdim, dtype);
  }
  /** Product over one dim, or over all elements. */
  prod(dim?: number | null, keepdim = false, opts: { dtype?: DType } = {}): Tensor {
    if (opts.dtype !== undefined) checkDType(opts.dtype);
    return this.reduceWith(R.prod, dim, keepdim, opts.dtype ?? (isFloating(this.dtype) ? this.dtype : 'int32'));
  }
  /** Max over `dim` (all dims when omitted), values only (`torch.amax`). */
  amax(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    this.checkNonEmpty('amax', dim);
    return this.reduceWith(R.amax, dim, keepdim, this.dtype);
  }
  amin(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    this.checkNonEmpty('amin', dim);
    return this.reduceWith(R.amin, dim, keepdim, this.dtype);
  }

  private checkNonEmpty(op: string, dim: number | readonly number[] | null | undefined): void {
    if (this.numel() !== 0) return;
    const dims = dim == null ? [] : typeof dim === 'number' ? [dim] : dim;
    if (dims.length === 0) {
      throw new RangeError(`${op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`);
    }
    // Only an empty reduced dim is an error: amax(1) of a [0, 3] tensor is an empty [0] (PyTorch).
    const empty = dims.find((d) => this.shape[normalizeDim(d, this.ndim)] === 0);
    if (empty !== undefined) throw new RangeError(`${op}(): Expected reduction dim ${empty} to have non-zero size.`);
  }

  /**
   * `max()`: the largest element; `max(dim, keepdim)`: `[values, indices]`; `max(other)`:
   * elementwise maximum.
   */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ValuesIndices;
  max(other: Tensor): Tensor;
  max(arg?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
    if (arg instanceof Tensor) return this.maximum(arg);
    if (arg === undefined) {
      this.checkNonEmpty('max', null);
      return this.amax();
    }
    return this.extremum('argmax', arg, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ValuesIndices;
  min(other: Tensor): Tensor;
  min(arg?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
    if (arg instanceof Tensor) return this.minimum(arg);
    if (arg === undefined) {
      this.checkNonEmpty('min', null);
      return this.amin();
    }
    return this.extremum('argmin', arg, keepdim);
  }

  private extremum(op: 'argmax' | 'argmin', dim: number, keepdim: boolean): ValuesIndices {
    this.checkNonEmpty(op === 'argmax' ? 'max' : 'min', dim);
    const d = normalizeDim(dim, this.ndim);
    const src = this.ndim === 0 ? this.reshape([1]) : this;
    const idx = Tensor.fromView(backendOf(src).argReduce(op, src, d));
    // NOTE: the gradient goes to the returned index only (gather's backward).
    // The indices are valid by construction, so skip gather's range check (a device readback).
    let values = apply(I.gather, [src, idx], { dim: d, inShape: src.shape });
    let indices = idx;
    if (!keepdim || this.ndim === 0) {
      values = values.squeeze(this.ndim === 0 ? 0 : d);
      indices = indices.squeeze(this.ndim === 0 ? 0 : d);
    }
    return Object.assign([values, indices] as [Tensor, Tensor], { values, indices });
  }

  /** Index of the max (over the flattened tensor when `dim` is omitted). */
  argmax(dim?: number | null, keepdim = false): Tensor {
    return this.argExtremum('argmax', dim, keepdim);
  }
  argmin(dim?: number | null, keepdim = false): Tensor {
    return this.argExtremum('argmin', dim, keepdim);
  }
  private argExtremum(op: 'argmax' | 'argmin', dim: number | null | undefined, keepdim: boolean): Tensor {
    this.checkNonEmpty(op, dim);
    if (dim === null || dim === undefined) {
      const flat = this.reshape([-1]);
      const r = Tensor.fromView(backendOf(flat).argReduce(op, flat, 0));
      return keepdim ? r.reshape(this.shape.map(() => 1)) : r.reshape([]);
    }
    const d = normalizeDim(dim, this.ndim);
    const src = this.ndim === 0 ? this.reshape([1]) : this;
    const r = Tensor.fromView(backendOf(src).argReduce(op, src, d));
    if (this.ndim === 0) return r.reshape([]);
    return keepdim ? r : r.squeeze(d);
  }

  /**
   * Variance with Bessel's `correction` (default 1), over `dim` or all elements. PyTorch's
   * positional `unbiased` works too: `var(1, false)` is `var(1, { correction: 0 })`, and
   * `var(false)` reduces everything.
   * @example
   * tg.tensor([[1, 2, 4], [3, 5, 9]]).var(1, false);   // [1.5556, 6.2222]
   */
  var(dim?: number | readonly number[] | null | boolean, opts: VarOptions | boolean = {}, keepdimArg?: boolean): Tensor {
    if (typeof dim === 'boolean') return this.var(null, dim, typeof opts === 'boolean' ? opts : keepdimArg);
    const { correction = 1, keepdim = false } = typeof opts === 'boolean' ? { correction: opts ? 1 : 0, keepdim: keepdimArg ?? false } : opts;
    if (!isFloating(this.dtype)) throw new TypeError('std and var only support floating point and complex dtypes');
    const axes = this.reduceAxes(dim);
    const n = axes.reduce((s, d) => s * this.shape[d]!, 1);
    const centered = this.sub(this.mean(axes, true));
    return centered.mul(centered).sum(axes, keepdim).div(Math.max(0, n - correction));
  }
  /** Standard deviation; its gradient is 0 where the std is 0 (as PyTorch's std_backward). */
  std(dim?: number | readonly number[] | null | boolean, opts: VarOptions | boolean = {}, keepdim?: boolean): Tensor {
    return safeSqrt(this.var(dim, opts, keepdim));
  }
  /** `log(sum(exp(x)))` over `dim`, computed stably by subtracting the max. */
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor {
    const x = isFloating(this.dtype) ? this : this.to(DEFAULT_FLOAT);
    const axes = x.reduceAxes(dim);
    const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return apply(S.logsumexp, [x], { axes, keptShape, keepdim });
  }
  /**
   * The p-norm over `dim` (all elements by default): p = 2 ('fro'), 1, Infinity, -Infinity, 0 or
   * any other p. Gradients follow PyTorch's norm_backward (0 where the norm is 0).
   */
  norm(p: number | 'fro' = 2, dim?: number | readonly number[] | null, keepdim = false): Tensor {
    if (!isFloating(this.dtype)) {
      throw new TypeError(`norm(): input dtype should be either floating point or complex. Got ${SCALAR_NAME[this.dtype]} instead.\n- help: convert first: x.float().norm()`);
    }
    const x: Tensor = this;
    const pv = p === 'fro' ? 2 : p;
    const axes = x.reduceAxes(dim);
    const out = normOp(x, pv, axes);
    return x.squeezeAxes(out, axes, keepdim);
  }
  all(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return this.logicalReduce('all', dim, keepdim);
  }
  any(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return this.logicalReduce('any', dim, keepdim);
  }
  private logicalReduce(op: 'all' | 'any', dim: number | readonly number[] | null | undefined, keepdim: boolean): Tensor {
    const axes = this.reduceAxes(dim);
    const out = Tensor.fromView(backendOf(this).reduce(op, this, axes, 'bool'));
    return this.squeezeAxes(out, axes, keepdim);
  }
  /** `softmax` along `dim`, stable (the row max is subtracted first). */
  softmax(dim: number): Tensor {
    const x = isFloating(this.dtype) ? this : this.to(DEFAULT_FLOAT);
    return x.ndim === 0 ? x.mul(0).add(1) : apply(S.softmax, [x], { dim: normalizeDim(dim, x.ndim) });
  }
  /** `log(softmax(x))` along `dim`, as `(x - max) - log(sum(exp(x - max)))`. */
  logSoftmax(dim: number): Tensor {
    const x = isFloating(this.dtype) ? this : this.to(DEFAULT_FLOAT);
    return x.ndim === 0 ? x.mul(0) : apply(S.logSoftmax, [x], { dim: normalizeDim(dim, x.ndim) });
  }
  /** Sum broadcast dims away so the result has `shape` (the reverse of `expand`). */
  sumTo(shape: Shape): Tensor {
    if (sameShape(this.shape, shape)) return this;
    const lead = this.ndim - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < this.ndim; i++) {
      if (i < lead || (shape[i - lead] === 1 && this.shape[i] !== 1)) axes.push(i);
    }
    const s = axes.length ? this.sum(axes, true) : this;
    return s.reshape(shape);
  }

  // ---------------------------------------------------------------- linear algebra

  /** Matrix product with `torch.matmul` semantics (1-D, 2-D, batched, broadcast batch dims). */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }
  mm(other: Tensor): Tensor {
    if (this.ndim !== 2) throw new RangeError(`self must be a matrix`);
    if (other.ndim !== 2) throw new RangeError(`mat2 must be a matrix`);
    return matmul(this, other);
  }
  bmm(other: Tensor): Tensor {
    if (this.ndim !== 3) throw new RangeError(`batch1 must be a 3D tensor`);
    if (other.ndim !== 3) throw new RangeError(`batch2 must be a 3D tensor`);
    if (this.shape[0] !== other.shape[0] || this.shape[2] !== other.shape[1]) {
      throw new RangeError(`Expected size for first two dimensions of batch2 tensor to be: [${this.shape[0]}, ${this.shape[2]}] but got: [${other.shape[0]}, ${other.shape[1]}].`);
    }
    return matmul(this, other);
  }
  mv(vec: Tensor): Tensor {
    if (this.ndim !== 2 || vec.ndim !== 1) throw new RangeError(`vector + matrix @ vector expected, got ${this.ndim}, ${vec.ndim}`);
    return matmul(this, vec);
  }
  dot(other: Tensor): Tensor {
    if (this.ndim !== 1 || other.ndim !== 1) {
      throw new RangeError(`1D tensors expected, but got ${this.ndim}D and ${other.ndim}D tensors`);
    }
    return matmul(this, other);
  }
  /** Outer product of two vectors. */
  outer(other: Tensor): Tensor {
    if (this.ndim !== 1 || other.ndim !== 1) throw new RangeError(`outer: expected 1D tensors, but got ${this.ndim}D and ${other.ndim}D tensors`);
    return this.unsqueeze(1).mul(other.unsqueeze(0));
  }

  // ---------------------------------------------------------------- movement (views)

  /** Reshape (a view when strides allow it, else a copy); one dim may be -1. */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    const target = inferShape(shapeArgs(shape), this.numel());
    if (sameShape(target, this.shape)) return this;
    return apply(M.reshape, [this], { shape: target, inShape: this.shape });
  }
  /** Like reshape, but never copies: throws when the layout cannot be viewed as `shape`. */
  view(...shape: (number | readonly number[])[]): Tensor {
    const target = inferShape(shapeArgs(shape), this.numel());
    if (!sameShape(target, this.shape) && !viewStridesOk(this, target)) {
      throw new Error('view size is not compatible with input tensor\'s size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.');
    }
    return this.reshape(target);
  }
  viewAs(other: Tensor): Tensor {
    return this.view(other.shape);
  }
  reshapeAs(other: Tensor): Tensor {
    return this.reshape(other.shape);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    const d = shapeArgs(dims);
    if (d.length !== this.ndim) {
      throw new RangeError(`permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${this.ndim} is not equal to len(dims) = ${d.length}`);
    }
    const nd = d.map((v) => normalizeDim(v, this.ndim));
    if (new Set(nd).size !== nd.length) throw new RangeError('permute(): duplicate dims are not allowed.');
    if (nd.every((v, i) => v === i)) return this;
    return apply(M.permute, [this], { dims: nd });
  }
  transpose(dim0: number, dim1: number): Tensor {
    if (this.ndim < 2 && this.ndim === 0) return this;
    const a = normalizeDim(dim0, this.ndim);
    const b = normalizeDim(dim1, this.ndim);
    if (a === b || this.ndim < 2) return this;
    const dims = this.shape.map((_, i) => i);
    [dims[a], dims[b]] = [b, a];
    return this.permute(dims);
  }
  swapaxes(a: number, b: number): Tensor {
    return this.transpose(a, b);
  }
  /** Transpose of a tensor of at most 2 dims. */
  t(): Tensor {
    if (this.ndim > 2) throw new RangeError(`t() expects a tensor with <= 2 dimensions, but self is ${this.ndim}D`);
    return this.ndim < 2 ? this : this.transpose(0, 1);
  }
  /**
   * All dims reversed (PyTorch's `.T`; for a matrix, the transpose).
   * @example
   * tg.zeros([2, 3, 4]).T.shape;   // [4, 3, 2]
   */
  get T(): Tensor {
    return this.ndim < 2 ? this : this.permute(this.shape.map((_, i) => this.ndim - 1 - i));
  }
  /** The transpose of the last two dims (`mT`). */
  get mT(): Tensor {
    if (this.ndim < 2) throw new RangeError(`tensor.mT is only supported on matrices or batches of matrices. Got ${this.ndim}-D tensor.`);
    return this.transpose(-2, -1);
  }
  /** Broadcast to `sizes` as a stride-0 view; -1 keeps a dim. */
  expand(...sizes: (number | readonly number[])[]): Tensor {
    const s = shapeArgs(sizes);
    s.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isInteger(d)) throw new TypeError(`expand(): argument 'size' must be tuple of ints, but found element of type ${typeof d === 'number' ? 'float' : argTypeName(d)} at pos ${i + 1}`);
    });
    const target = s.map((d, i) => (d === -1 && i >= s.length - this.ndim ? this.shape[i - (s.length - this.ndim)]! : d));
    if (sameShape(target, this.shape)) return this;
    return apply(M.expand, [this], { shape: s, inShape: this.shape });
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  /** Remove size-1 dims (all, or the given one). */
  squeeze(dim?: number | readonly number[]): Tensor {
    if (dim === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const dims = typeof dim === 'number' ? [dim] : dim;
    const nd = dims.map((d) => normalizeDim(d, this.ndim));
    return this.reshape(this.shape.filter((d, i) => !(nd.includes(i) && d === 1)));
  }
  unsqueeze(dim: number): Tensor {
    const d = normalizeDim(dim, this.ndim + 1);
    const shape = [...this.shape];
    shape.splice(d, 0, 1);
    return this.reshape(shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.ndim === 0) return this.reshape([1]);
    const s = normalizeDim(startDim, this.ndim);
    const e = normalizeDim(endDim, this.ndim);
    if (s > e) throw new RangeError('flatten() has invalid args: start_dim cannot come after end_dim');
    const shape = [...this.shape.slice(0, s), numel(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(shape);
  }
  unflatten(dim: number, sizes: readonly number[]): Tensor {
    const d = normalizeDim(dim, this.ndim);
    const inner = inferShape(sizes, this.shape[d]!);
    return this.reshape([...this.shape.slice(0, d), ...inner, ...this.shape.slice(d + 1)]);
  }
  /** Elements `start .. start+length` of `dim`, as a view. */
  narrow(dim: number, start: number, length: number): Tensor {
    if (this.ndim === 0) throw new RangeError('narrow() cannot be applied to a 0-dim tensor.');
    checkInt('narrow', 'start', 2, start);
    checkInt('narrow', 'length', 3, length);
    const d = normalizeDim(dim, this.ndim);
    const size = this.shape[d]!;
    if (start < -size || start > size) {
      throw new RangeError(`start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`);
    }
    const s = start < 0 ? start + size : start;
    if (length < 0 || s + length > size) {
      throw new RangeError(`start (${s}) + length (${length}) exceeds dimension size (${size}).`);
    }
    return this.sliceRaw(d, s, length, 1);
  }
  /**
   * Python's `x[..., start:end:step]` on one dim, as a view. Negative and out-of-range bounds
   * clamp like Python slices; `step` must be positive.
   */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    if (this.ndim === 0) throw new RangeError('slice() cannot be applied to a 0-dim tensor.');
    const d = normalizeDim(dim, this.ndim);
    if (!Number.isInteger(step) || step <= 0) throw new RangeError('slice step must be positive');
    const size = this.shape[d]!;
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const s = start == null ? 0 : clampIdx(start);
    const e = end == null ? size : clampIdx(end);
    const length = e > s ? Math.ceil((e - s) / step) : 0;
    return this.sliceRaw(d, s, length, step);
  }
  private sliceRaw(dim: number, start: number, length: number, step: number): Tensor {
    if (start === 0 && step === 1 && length === this.shape[dim]) return this;
    return apply(M.slice, [this], { dim, start, length, step, inShape: this.shape });
  }
  /** The `index`-th slice along `dim`, with that dim removed (a view). */
  select(dim: number, index: number): Tensor {
    if (this.ndim === 0) throw new RangeError('select() cannot be applied to a 0-dim tensor.');
    const d = normalizeDim(dim, this.ndim);
    const size = this.shape[d]!;
    if (!Number.isInteger(index) || index < -size || index >= size) {
      throw new RangeError(`select(): index ${index} out of range for tensor of size ${fmtShape(this.shape)} at dimension ${d}`);
    }
    return this.sliceRaw(d, index < 0 ? index + size : index, 1, 1).squeeze(d);
  }
  /** Split into pieces of `size` (a number) or of the listed sizes, along `dim`. */
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    const d = normalizeDim(dim, this.ndim);
    const size = this.shape[d]!;
    let sizes: number[];
    if (typeof splitSizeOrSections === 'number') {
      const s = splitSizeOrSections;
      if (!Number.isInteger(s) || s < 0 || (s === 0 && size !== 0)) throw new RangeError(`split_size can only be 0 if dimension size is 0, but got dimension size of ${size}`);
      sizes = [];
      for (let i = 0; i < size; i += s) sizes.push(Math.min(s, size - i));
      if (sizes.length === 0) sizes.push(0);
    } else {
      sizes = [...splitSizeOrSections];
      const total = sizes.reduce((a, b) => a + b, 0);
      if (total !== size) {
        throw new RangeError(`split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${fmtShape(sizes)}`);
      }
    }
    let start = 0;
    return sizes.map((n) => {
      const t = this.narrow(d, start, n);
      start += n;
      return t;
    });
  }
  /** Split into `chunks` nearly equal pieces along `dim` (the last may be smaller). */
  chunk(chunks: number, dim = 0): Tensor[] {
    if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError('chunk expects `chunks` to be greater than 0, got: ' + chunks);
    const size = this.shape[normalizeDim(dim, this.ndim)]!;
    return this.split(Math.max(1, Math.ceil(size / chunks)), dim);
  }
  unbind(dim = 0): Tensor[] {
    if (this.ndim === 0) throw new RangeError(`Dimension specified as ${dim} but tensor has no dimensions`);
    const d = normalizeDim(dim, this.ndim);
    return Array.from({ length: this.shape[d]! }, (_, i) => this.select(d, i));
  }
  /** A contiguous tensor with the same values (itself when already contiguous). */
  contiguous(): Tensor {
    return this.isContiguous() ? this : apply(M.copy, [this], undefined);
  }
  /** A copy with its own storage; gradients flow back to this tensor. */
  clone(): Tensor {
    return apply(M.copy, [this], undefined);
  }

  // ---------------------------------------------------------------- indexing

  private checkIndex(op: string, dim: number, index: Tensor): number {
    checkTensorArg(op, 'index', 2, index);
    if (index.dtype !== 'int32') throw new TypeError(`${op}(): Expected dtype int32 for index, got ${index.dtype}`);
    const d = normalizeDim(dim, this.ndim);
    if (index.ndim !== Math.max(this.ndim, 1) && !(this.ndim === 0 && index.ndim <= 1)) {
      throw new RangeError(`Index tensor must have the same number of dimensions as ${op === 'gather' ? 'input' : 'self'} tensor`);
    }
    return d;
  }
  private checkIndexRange(op: string, d: number, index: Tensor): void {
    const size = this.shape[d] ?? 1;
    const bad = findOutOfRange(index, size);
    if (bad !== null) throw new RangeError(`${op}(): index ${bad} is out of bounds for dimension ${d} with size ${size}`);
  }
  /** @internal gather without the index range check, for indices valid by construction. */
  gatherUnchecked(dim: number, index: Tensor): Tensor {
    return apply(I.gather, [this, index], { dim: normalizeDim(dim, this.ndim), inShape: this.shape });
  }
  /** `out[i][j] = x[index[i][j]][j]` for dim 0, and so on (`torch.gather`). */
  gather(dim: number, index: Tensor): Tensor {
    const d = this.checkIndex('gather', dim, index);
    for (let i = 0; i < index.ndim; i++) {
      if (i !== d && index.shape[i]! > (this.shape[i] ?? 1)) {
        throw new RangeError(`Size does not match at dimension ${i} expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(this.shape)} apart from dimension ${d}`);
      }
    }
    this.checkIndexRange('gather', d, index);
    return apply(I.gather, [this, index], { dim: d, inShape: this.shape });
  }
  /** A copy with `src` values written at `index` along `dim` (`torch.scatter`). */
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor {
    return this.scatterImpl('scatter', dim, index, src, false);
  }
  /** A copy with `src` values added at `index` along `dim` (`torch.scatter_add`). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return this.scatterImpl('scatter_add', dim, index, src, true);
  }
  private scatterImpl(op: string, dim: number, index: Tensor, src: TensorLike, accumulate: boolean): Tensor {
    checkTensorArg(op, 'index', 2, index);
    checkOperand(op, 'src', 3, src);
    const d = this.checkIndex(op, dim, index);
    let s = src instanceof Tensor ? src.to(this.dtype) : scalarTensor(src, this.dtype, this.device).expand(index.shape);
    for (let i = 0; i < index.ndim; i++) {
      if ((i !== d && index.shape[i]! > (this.shape[i] ?? 1)) || index.shape[i]! > (s.shape[i] ?? 1)) {
        throw new RangeError(`Expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(this.shape)} apart from dimension ${d} and to be smaller size than src ${fmtShape(s.shape)}`);
      }
    }
    this.checkIndexRange(op, d, index);
    // Only the index-shaped corner of src is read.
    for (let i = 0; i < index.ndim; i++) if (s.shape[i] !== index.shape[i]) s = s.narrow(i, 0, index.shape[i]!);
    return apply(I.scatter, [this, index, s], { dim: d, accumulate });
  }
  /** Rows (or slices along `dim`) picked by a 1-D `index` (`torch.index_select`). */
  indexSelect(dim: number, index: Tensor): Tensor {
    checkTensorArg('index_select', 'index', 2, index);
    if (index.dtype !== 'int32') throw new TypeError(`index_select(): Expected dtype int32 for index, got ${index.dtype}`);
    if (index.ndim > 1) throw new RangeError('index_select(): Index is supposed to be a vector');
    const d = normalizeDim(dim, this.ndim);
    const idx = index.reshape([-1]);
    if (findOutOfRange(idx, this.shape[d] ?? 1) !== null) throw new RangeError('index out of range in self');
    const shape = this.shape.map((s, i) => (i === d ? idx.numel() : s));
    const view = [...this.shape.map(() => 1)];
    view[d] = idx.numel();
    // Checked once above: gather's own check would read the expanded index again.
    if (this.ndim === 0) return this.gatherUnchecked(0, idx).reshape(index.ndim === 0 ? [] : [1]);
    return this.gatherUnchecked(d, idx.reshape(view).expand(shape));
  }
  /** Lower triangle of the last two dims (below `diagonal`), zeros elsewhere. */
  tril(diagonal = 0): Tensor {
    return this.triMask(diagonal, true);
  }
  triu(diagonal = 0): Tensor {
    return this.triMask(diagonal, false);
  }
  private triMask(diagonal: number, lower: boolean): Tensor {
    if (this.ndim < 2) throw new RangeError(`${lower ? 'tril' : 'triu'}: input tensor must have at least 2 dimensions`);
    const [r, c] = [this.shape[this.ndim - 2]!, this.shape[this.ndim - 1]!];
    const mask = new Uint8Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) mask[i * c + j] = (lower ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
    const m = Tensor.fromView(backendFor(this.device).fromArray(mask, [r, c]));
    return where(m, this, 0);
  }

  // ---------------------------------------------------------------- in place

  /**
   * Check PyTorch's in-place rules, compute the op once and write its result into this tensor's
   * storage. `operands` are the op's other inputs (they decide whether the write is recorded).
   */
  private inplace(op: string, operands: readonly unknown[], compute: (self: Tensor) => Tensor, opts: { overlapOk?: boolean } = {}): this {
    if (!opts.overlapOk) checkNoInternalOverlap(this);
    const recording = isGradEnabled();
    if (recording && this.isLeaf && this.requiresGrad) {
      throw new Error(`a leaf Variable that requires grad is being used in an in-place operation. (${op})`);
    }
    const base = this.viewMode === null ? null : this.base;
    const graph = recording && (this.requiresGrad || (base?.requiresGrad ?? false) || operands.some((o) => o instanceof Tensor && o.requiresGrad));
    if (!graph) {
      const result = compute(this);
      // NOTE: only an operand missing from `operands` gets here with a graph; record it then.
      if (!result.requiresGrad || !recording) return this.writeRaw(this.castForWrite(op, result));
    }
    if (base) {
      if (this.viewMode === 'noGrad') {
        throw new Error('A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don\'t want the inplace to be tracked) or both outside (if you want the inplace to be tracked).');
      }
      if (base.isLeaf && base.requiresGrad) throw new Error(`a view of a leaf Variable that requires grad is being used in an in-place operation. (${op})`);
    }
    // NOTE: the op runs on a copy of the old value, so what its backward saves (y.mul_(w) needs
    // the old y for w's gradient) is not overwritten below, as PyTorch saves `original_self`.
    const old = this.clone();
    const written = this.castForWrite(op, compute(old));
    if (base) return this.copySlices(base, written);
    // Rebase history: this tensor now stands for the op's result (PyTorch rebases grad_fn).
    // NOTE: a non-leaf that requires grad is rebased even when the new value ignores the old one
    // (fill_, zero_): its old history then gets a zero gradient, as PyTorch's FillBackward.
    const rebased = written.requiresGrad || !old.requiresGrad ? written : where(scalarTensor(true, 'bool', this.device).expand(this.shape), written, old);
    this.writeRaw(rebased);
    if (rebased.requiresGrad) {
      this.moveRetained(rebased.gradFn);
      this.gradFn = rebased.gradFn;
      this.requiresGradFlag = true;
    }
    return this;
  }

  /** The op's result as this tensor's dtype, with PyTorch's shape and casting rules. */
  private castForWrite(op: string, result: Tensor): Tensor {
    if (!sameShape(result.shape, this.shape)) {
      throw new RangeError(`output with shape ${fmtShape(this.shape)} doesn't match the broadcast shape ${fmtShape(result.shape)}`);
    }
    if (result.dtype === this.dtype) return result;
    if (!canCast(result.dtype, this.dtype)) {
      throw new TypeError(`result type ${SCALAR_NAME[result.dtype]} can't be cast to the desired output type ${SCALAR_NAME[this.dtype]} (${op})`);
    }
    return result.to(this.dtype);
  }

  private writeRaw(value: Tensor): this {
    backendOf(this).copyInto(this, value);
    this.storage.version++;
    return this;
  }

  /**
   * A write through a view (PyTorch's CopySlices): the base gets a new history, its old one with
   * the view's region replaced by `src`, and this view becomes a view of that new history.
   */
  private copySlices(base: Tensor, src: Tensor): this {
    if (!base.requiresGrad && !src.requiresGrad) return this.writeRaw(src);
    const place = VS.viewPlace(base, this);
    const baseMeta = { shape: base.shape, dtype: base.dtype };
    const node = Node.fromEdges(VS.copySlices as OpDef<unknown>, [edgeOf(base), edgeOf(src)], [baseMeta, { shape: src.shape, dtype: src.dtype }], place);
    this.writeRaw(src);
    base.moveRetained(node);
    base.gradFn = node;
    base.requiresGradFlag = true;
    const viewNode = Node.fromEdges(VS.asStrided as OpDef<unknown>, [node], [baseMeta], place);
    this.moveRetained(viewNode);
    this.gradFn = viewNode;
    this.requiresGradFlag = true;
    return this;
  }

  add_(other: TensorLike, opts: { alpha?: number } = {}): this { return this.inplace('add_', [other], (s) => s.add(other, opts)); }
  sub_(other: TensorLike, opts: { alpha?: number } = {}): this { return this.inplace('sub_', [other], (s) => s.sub(other, opts)); }
  mul_(other: TensorLike): this { return this.inplace('mul_', [other], (s) => s.mul(other)); }
  div_(other: TensorLike, opts: { roundingMode?: 'trunc' | 'floor' | null } = {}): this { return this.inplace('div_', [other], (s) => s.div(other, opts)); }
  pow_(exponent: TensorLike): this { return this.inplace('pow_', [exponent], (s) => s.pow(exponent)); }
  neg_(): this { return this.inplace('neg_', [], (s) => s.neg()); }
  sqrt_(): this { return this.inplace('sqrt_', [], (s) => s.sqrt()); }
  exp_(): this { return this.inplace('exp_', [], (s) => s.exp()); }
  relu_(): this { return this.inplace('relu_', [], (s) => s.relu()); }
  clamp_(min?: number | null, max?: number | null): this { return this.inplace('clamp_', [], (s) => s.clamp(min, max)); }
  maximum_(other: Tensor): this { return this.inplace('maximum_', [other], (s) => s.maximum(other)); }
  maskedFill_(mask: Tensor, value: TensorLike): this {
    // NOTE: PyTorch allows masked_fill_ on expanded tensors (with a deprecation warning).
    return this.inplace('masked_fill_', [value], (s) => s.maskedFill(mask, value), { overlapOk: true });
  }
  /** `this += value * t1 * t2`. */
  addcmul_(t1: Tensor, t2: Tensor, opts: { value?: number } = {}): this {
    checkTensorArg('addcmul_', 'tensor1', 1, t1);
    checkTensorArg('addcmul_', 'tensor2', 2, t2);
    return this.inplace('addcmul_', [t1, t2], (s) => s.add(t1.mul(t2).mul(opts.value ?? 1)));
  }
  /** `this += value * t1 / t2`. */
  addcdiv_(t1: Tensor, t2: Tensor, opts: { value?: number } = {}): this {
    checkTensorArg('addcdiv_', 'tensor1', 1, t1);
    checkTensorArg('addcdiv_', 'tensor2', 2, t2);
    return this.inplace('addcdiv_', [t1, t2], (s) => s.add(t1.div(t2).mul(opts.value ?? 1)));
  }
  /** `this += weight * (end - this)`. */
  lerp_(end: Tensor, weight: number | Tensor): this {
    checkTensorArg('lerp_', 'end', 1, end);
    checkOperand('lerp_', 'weight', 2, weight);
    return this.inplace('lerp_', [end, weight], (s) => s.add(end.sub(s).mul(weight)));
  }
  /** Copy `src` (broadcast to this shape) into this tensor, casting to this dtype. */
  copy_(src: Tensor): this {
    checkTensorArg('copy_', 'src', 1, src);
    // NOTE: `where(true, src, self)` (not `src + 0 * self`) keeps self in the graph with a zero
    // gradient without letting inf/NaN in the old values leak into the copy.
    return this.inplace('copy_', [src], (s) => where(scalarTensor(true, 'bool', s.device).expand(s.shape), (src.device === s.device ? src : src.to(s.device)).to(s.dtype).expand(s.shape), s));
  }
  zero_(): this {
    return this.fill_(0);
  }
  /** Fill with `value` (allowed on expanded tensors, as PyTorch). */
  fill_(value: number | boolean): this {
    checkOperand('fill_', 'value', 1, value);
    return this.inplace('fill_', [value], (s) => scalarTensor(value, s.dtype, s.device).expand(s.shape), { overlapOk: true });
  }
  /** Fill with uniform samples from [low, high) (`uniform_`); floating dtypes only. */
  uniform_(low = 0, high = 1, opts: { generator?: Generator } = {}): this {
    if (!isFloating(this.dtype)) throw new TypeError(`"check_uniform_bounds" not implemented for '${SCALAR_NAME[this.dtype]}'`);
    return this.fillFromArray_(uniformValues(this.numel(), low, high, this.dtype === 'float64', opts.generator), 'uniform_');
  }
  /** Fill with normal samples (`normal_`); floating dtypes only. */
  normal_(mean = 0, std = 1, opts: { generator?: Generator } = {}): this {
    if (!isFloating(this.dtype)) throw new TypeError(`"normal_kernel_cpu" not implemented for '${SCALAR_NAME[this.dtype]}'`);
    return this.fillFromArray_(normalValues(this.numel(), mean, std, this.dtype === 'float64', opts.generator), 'normal_');
  }
  /** Fill with values from a flat array, in row-major order (internal for random init). */
  fillFromArray_(values: ArrayLike<number>, op = 'fill_'): this {
    return this.inplace(op, [], (s) => {
      const arr = allocArray(s.dtype, s.numel());
      for (let i = 0; i < arr.length; i++) arr[i] = castScalar(values[i]!, s.dtype);
      return Tensor.fromView(backendFor(s.device).fromArray(arr, s.shape));
    });
  }

  /** @internal apply an op record (used by op backward formulas). */
  applyOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
    return apply(def, inputs, attrs);
  }

  /** @internal identity-matrix helper for backward formulas. */
  eyeLike(n: number): Tensor {
    const arr = allocArray(this.dtype, n * n);
    for (let i = 0; i < n; i++) arr[i * n + i] = 1;
    return Tensor.fromView(backendFor(this.device).fromArray(arr, [n, n]));
  }
  /** @internal zeros of this shape and dtype (no grad). */
  zerosLike(): Tensor {
    return Tensor.fromView(backendFor(this.device).fromArray(allocArray(this.dtype, this.numel()), this.shape));
  }
}

function viewStridesOk(t: Tensor, shape: readonly number[]): boolean {
  return viewStrides(t, shape) !== null;
}

/** `torch.where(condition, a, b)` with broadcasting and promotion. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensorArg('where', 'condition', 1, condition);
  checkOperand('where', 'input', 2, a);
  checkOperand('where', 'other', 3, b);
  if (condition.dtype !== 'bool') throw new TypeError(`where expected condition to be a boolean tensor, but got a tensor with dtype ${condition.dtype}`);
  const dtype = resultType(a, b);
  const device = condition.device;
  let ta = a instanceof Tensor ? a.to(dtype) : scalarTensor(a, dtype, device);
  let tb = b instanceof Tensor ? b.to(dtype) : scalarTensor(b, dtype, device);
  let c = condition;
  const shape = broadcastShapes(broadcastShapes(c.shape, ta.shape), tb.shape);
  c = c.expand(shape);
  ta = ta.expand(shape);
  tb = tb.expand(shape);
  return apply(E.where, [c, ta, tb], undefined);
}

/** sqrt whose gradient is 0 (not NaN) where the input is 0, as std_backward masks. */
function safeSqrt(v: Tensor): Tensor {
  return v.applyOp(safeSqrtOp, [v], undefined);
}
const safeSqrtOp: OpDef<undefined> = {
  name: 'std',
  saves: 'output',
  forward: ([x]) => backendOf(x!).unary('sqrt', x!, x!.dtype),
  backward: ({ output }, g) => [where(output.eq(0), 0, g.div(output.mul(2)))],
};

/** The p-norm primitive over `axes` (kept as size 1), with PyTorch's norm_backward. */
function normOp(x: Tensor, p: number, axes: readonly number[]): Tensor {
  return apply(normDef, [x], { p, axes });
}
const normDef: OpDef<{ p: number; axes: readonly number[] }> = {
  name: 'norm',
  forward: ([x], { p, axes }) => {
    const be = backendOf(x!);
    const a = be.unary('abs', x!, x!.dtype);
    if (p === Infinity) return be.reduce('max', a, axes, x!.dtype);
    if (p === -Infinity) return be.reduce('min', a, axes, x!.dtype);
    if (p === 0) return be.reduce('sum', be.cast(be.cast(a, 'bool'), x!.dtype), axes, x!.dtype);
    if (p === 1) return be.reduce('sum', a, axes, x!.dtype);
    if (p === 2) return be.unary('sqrt', be.reduce('sum', be.binary('mul', a, a, x!.dtype), axes, x!.dtype), x!.dtype);
    const pv = Tensor.fromView(be.fromArray(allocArray(x!.dtype, 1).fill(p), [])).expand(x!.shape);
    const s = be.reduce('sum', be.binary('pow', a, pv, x!.dtype), axes, x!.dtype);
    const inv = Tensor.fromView(be.fromArray(allocArray(x!.dtype, 1).fill(1 / p), [])).expand(s.shape);
    return be.binary('pow', s, inv, x!.dtype);
  },
  backward: ({ inputs: [x], output: norm, attrs: { p, axes } }, g) => {
    const self = x!;
    if (p === 0) return [self.mul(0)];
    if (p === 1) return [self.sign().mul(g)];
    if (p === 2) return [self.mul(where(norm.eq(0), 0, g.div(norm)))];
    if (!Number.isFinite(p)) {
      const ax = self.abs();
      const mask = ax.eq(norm).logicalOr(ax.isnan()).to(self.dtype);
      return [self.sign().mul(g.div(mask.sum(axes, true)).mul(mask))];
    }
    let scaled = p < 2 ? self.sign().mul(self.abs().pow(p - 1)) : self.mul(self.abs().pow(p - 2));
    // NOTE: for p < 1, |x|^(p-1) is infinite at 0; PyTorch's norm_backward masks it to 0.
    if (p < 1) scaled = where(self.eq(0), 0, scaled);
    const scale = where(norm.eq(0), 0, g.div(norm.pow(p - 1)));
    return [scaled.mul(scale)];
  },
};

/** torch.matmul: promote 1-D operands, broadcast batch dims, run the batched primitive. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`);
  }
  if (a.dtype !== b.dtype) {
    throw new TypeError(`expected m1 and m2 to have the same dtype, but got: ${a.dtype} != ${b.dtype}`);
  }
  if (a.device !== b.device) {
    throw new Error(`Expected all tensors to be on the same device, but found at least two devices, ${a.device} and ${b.device}!`);
  }
  if (a.dtype === 'bool') {
    // The kernel PyTorch's matmul lowers these shapes to, as its error names it.
    const mv = b.ndim === 1 || (a.ndim === 1 && b.ndim > 2);
    const kernel = a.ndim === 1 && b.ndim === 1 ? 'dot' : mv ? 'addmv_impl_cpu' : a.ndim > 2 && b.ndim > 2 ? 'bmm' : 'addmm_impl_cpu_';
    throw new TypeError(`"${kernel}" not implemented for 'Bool'\n- help: convert first, e.g. a.int().matmul(b.int())`);
  }
  const k1 = a.shape[a.ndim - 1]!;
  const k2 = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (k1 !== k2) {
    if (a.ndim === 1 && b.ndim === 1) {
      throw new RangeError(`inconsistent tensor size, expected tensor [${k1}] and src [${k2}] to have the same number of elements, but got ${k1} and ${k2} elements respectively`);
    }
    if (a.ndim === 2 && b.ndim === 1) throw new RangeError(`size mismatch, got input (${a.shape[0]}), mat (${a.shape[0]}x${k1}), vec (${k2})`);
    const am = a.ndim === 1 ? `1x${k1}` : `${numel(a.shape.slice(0, -1))}x${k1}`;
    const bm = b.ndim === 1 ? `${k2}x1` : `${k2}x${b.shape[b.ndim - 1]}`;
    throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (${am} and ${bm})`);
  }
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const ae = a2.expand([...batch, ...a2.shape.slice(-2)]);
  const bexp = b2.expand([...batch, ...b2.shape.slice(-2)]);
  let out = apply(L.matmul, [ae, bexp], undefined);
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  return out;
}
