/**
 * The single doorway between tensors and kernels: `apply(op, inputs, attrs)` runs an op's
 * forward on backend views and, when grad mode is on and an input requires grad, records a
 * graph `Node` whose backward is written in differentiable Tensor ops.
 */
import { isFloating, torchTypeName, type DType } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import type { View } from '../tensor/backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from './grad-mode.js';

/** What a backward formula sees (PyTorch's ctx plus derivatives.yaml's `self`/`result`). */
export interface Ctx<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
  /** Which inputs need a gradient; return null for the others to save work. */
  readonly needsInputGrad: readonly boolean[];
}

export interface OpDef<A> {
  readonly name: string;
  /** The node's printed name when it is not `<Name>Backward` (PyTorch's `CopySlices`). */
  readonly nodeName?: string;
  /** Compute the result from backend views (no graph is recorded here). */
  forward(inputs: readonly Tensor[], attrs: A): View;
  /** One gradient per input (null where none), written with Tensor methods. */
  backward?: (ctx: Ctx<A>, grad: Tensor) => readonly (Tensor | null)[];
  /**
   * What the backward reads: drives PyTorch's "backward through the graph a second time" error
   * and the in-place version check. Default `'all'`.
   */
  readonly saves?: 'none' | 'inputs' | 'output' | 'all';
  /**
   * Which inputs' values the backward reads, given which inputs require grad (default: every
   * saved input). Skipped inputs are not version-checked, so `y = x.mul(c); x.add_(1)` stays
   * valid when only x needs a gradient: PyTorch saves `other` only when `self` requires grad.
   */
  readonly savedInputs?: (requiresGrad: readonly boolean[]) => readonly boolean[];
}

export function defineOp<A = undefined>(def: OpDef<A>): OpDef<A> {
  return def;
}

/** Where a leaf's gradient lands (PyTorch's AccumulateGrad). One per leaf tensor. */
export class LeafAccumulator {
  readonly tensor: Tensor;
  constructor(tensor: Tensor) {
    this.tensor = tensor;
  }
}

export type Edge = Node | LeafAccumulator | null;

export interface InputMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A recorded op application: the graph node behind a non-leaf tensor's `gradFn`. */
export class Node {
  readonly name: string;
  readonly def: OpDef<unknown>;
  readonly attrs: unknown;
  readonly next: Edge[];
  readonly inputMeta: InputMeta[];
  /** Hooks registered on the output tensor (`registerHook` on a non-leaf). */
  readonly tensorHooks: ((g: Tensor) => Tensor | void)[] = [];
  /** The output tensor when `retainGrad()` was called on it. */
  retained: Tensor | null = null;
  private saved: { inputs: readonly Tensor[]; output: Tensor; versions: number[] } | null;
  private freed = false;
  /** Which saved inputs the backward reads (see `OpDef.savedInputs`). */
  private readonly readsInput: readonly boolean[];

  constructor(def: OpDef<unknown>, inputs: readonly Tensor[], attrs: unknown, output: Tensor | null, edges?: { next: Edge[]; meta: InputMeta[] }) {
    this.name = def.nodeName ?? `${def.name[0]!.toUpperCase()}${def.name.slice(1)}Backward`;
    this.def = def;
    this.attrs = attrs;
    this.next = edges ? edges.next : inputs.map(edgeOf);
    this.inputMeta = edges ? edges.meta : inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
    this.readsInput = def.savedInputs?.(inputs.map((t) => t.requiresGrad)) ?? inputs.map(() => true);
    // NOTE: ops that read nothing in backward keep no references, so their inputs can be freed.
    this.saved = (def.saves ?? 'all') === 'none' || !output
      ? null
      : { inputs, output, versions: [...inputs.map((t) => t.storage.version), output.storage.version] };
  }

  /**
   * @internal A node wired to explicit graph edges rather than input tensors (CopySlices, view
   * replay), for an op that saves nothing.
   */
  static fromEdges(def: OpDef<unknown>, next: Edge[], meta: InputMeta[], attrs: unknown): Node {
    if ((def.saves ?? 'all') !== 'none') throw new Error(`Node.fromEdges: ${def.name} must save nothing`);
    return new Node(def, [], attrs, null, { next, meta });
  }

  /** Run this node's backward formula for the incoming gradient. */
  apply(grad: Tensor, needsInputGrad: readonly boolean[]): readonly (Tensor | null)[] {
    const saves = this.def.saves ?? 'all';
    if (saves !== 'none' && (this.freed || !this.saved)) {
      throw new Error(
        'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
          'Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). ' +
          'Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.',
      );
    }
    if (saves !== 'none') this.checkVersions(saves);
    const s = this.saved;
    const ctx: Ctx<unknown> = {
      get inputs() {
        if (!s) throw new Error('saved tensors were freed');
        return s.inputs;
      },
      get output() {
        if (!s) throw new Error('saved tensors were freed');
        return s.output;
      },
      attrs: this.attrs,
      needsInputGrad,
    };
    return this.def.backward!(ctx, grad);
  }

  /** Whether a tensor this node saved (input or output) uses `storage`. */
  savesStorage(storage: View['storage']): boolean {
    const s = this.saved;
    return s !== null && (s.output.storage === storage || s.inputs.some((t) => t.storage === storage));
  }

  /** Drop saved tensors (after a backward without `retainGraph`). */
  release(): void {
    this.freed = true;
    this.saved = null;
  }

  private checkVersions(saves: 'inputs' | 'output' | 'all'): void {
    const s = this.saved!;
    const check = (t: Tensor, expected: number, what: string) => {
      if (t.storage.version !== expected) {
        throw new Error(
          `one of the variables needed for gradient computation has been modified by an inplace operation: [${torchTypeName(t.dtype)} ${fmtShape(t.shape)}], which is ${what} of ${this.name}, is at version ${t.storage.version}; expected version ${expected} instead. ` +
            'Hint: replace the in-place operation (e.g. add_) with its out-of-place form (add), or clone() the tensor before modifying it.',
        );
      }
    };
    if (saves !== 'output') s.inputs.forEach((t, i) => this.readsInput[i] !== false && check(t, s.versions[i]!, `input ${i}`));
    if (saves !== 'inputs') check(s.output, s.versions[s.inputs.length]!, 'output 0');
  }
}

/** Where gradients for `t` go: its node, its leaf accumulator, or nowhere. */
export function edgeOf(t: Tensor): Edge {
  if (!t.requiresGrad) return null;
  if (t.gradFn) return t.gradFn;
  return t.accumulator();
}

/** Run `def` on `inputs` and record it for autograd when needed. */
export function apply<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const view = def.forward(inputs, attrs);
  const out = Tensor.fromView(view);
  // A view of an input shares its version counter and remembers its base (in-place checks).
  for (const x of inputs) {
    if (view.storage === x.storage) {
      out.markView(x.base ?? x, x);
      break;
    }
  }
  if (def.backward && isGradEnabled() && isFloating(out.dtype) && inputs.some((t) => t.requiresGrad)) {
    out.gradFn = new Node(def as OpDef<unknown>, inputs, attrs, out);
    out.setRequiresGradUnchecked(true);
  }
  return out;
}
