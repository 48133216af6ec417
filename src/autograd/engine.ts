/**
 * The backward walk: collect the graph reachable from the outputs, keep only nodes that lead
 * to a wanted input, then visit nodes in reverse topological order summing incoming gradients,
 * exactly once each (micrograd's walk, with PyTorch's bookkeeping).
 */
import { fmtShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { LeafAccumulator, Node, type Edge } from './function.js';
import { isAnomalyEnabled, setGradEnabled } from './grad-mode.js';
import { scope } from '../tensor/scope.js';

type GraphNode = Node | LeafAccumulator;

export interface BackwardOptions {
  /** Keep saved tensors so the graph can be walked again (`retain_graph`). */
  retainGraph?: boolean;
  /** Record the backward ops so gradients are differentiable (`create_graph`). */
  createGraph?: boolean;
  /** Accumulate only into these tensors (`inputs=`). */
  inputs?: Tensor | readonly Tensor[];
}

export interface GradOptions {
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null;
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

function rootEdge(t: Tensor): GraphNode {
  return t.gradFn ?? t.accumulator();
}

/** The default gradient of a root: ones for a scalar, an error otherwise (as PyTorch). */
function defaultGrad(t: Tensor): Tensor {
  if (t.numel() !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
  return Tensor.onesLikeInternal(t);
}

function checkRoot(t: Tensor): void {
  if (!t.requiresGrad) {
    throw new Error('element 0 of tensors does not require grad and does not have a grad_fn');
  }
}

/**
 * Core walk. `capture` maps graph nodes whose total incoming gradient the caller wants
 * (autograd.grad) to slots; when absent, leaf gradients accumulate into `.grad`.
 */
function run(
  roots: readonly Tensor[],
  grads: readonly Tensor[],
  opts: { retainGraph: boolean; createGraph: boolean; targets: Set<GraphNode> | null; capture: Map<GraphNode, Tensor | null> | null },
): void {
  // 1. Topological order (iterative DFS post-order) over the reachable graph.
  const order: GraphNode[] = [];
  const visited = new Set<GraphNode>();
  const stack: [GraphNode, number][] = [];
  for (const r of roots) {
    const e = rootEdge(r);
    if (visited.has(e)) continue;
    visited.add(e);
    stack.push([e, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      const next = node instanceof Node ? node.next : [];
      if (i < next.length) {
        top[1] = i + 1;
        const child = next[i];
        if (child && !visited.has(child)) {
          visited.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  // 2. Which nodes lead to something we want (post-order: children come first).
  const useful = new Set<GraphNode>();
  for (const node of order) {
    if (node instanceof LeafAccumulator) {
      if (!opts.targets || opts.targets.has(node)) useful.add(node);
    } else if ((opts.targets?.has(node) ?? false) || node.next.some((c) => c && useful.has(c))) useful.add(node);
  }
  // 3. Walk in reverse topological order.
  const pending = new Map<GraphNode, Tensor>();
  // Gradients nothing else references (PyTorch's use_count check in AccumulateGrad): a leaf may
  // take one as its `.grad` instead of copying it.
  const fresh = new WeakSet<Tensor>();
  const add = (node: GraphNode, g: Tensor, isFresh = false) => {
    const prev = pending.get(node);
    const sum = prev ? prev.add(g) : g;
    pending.set(node, sum);
    if ((prev && sum.device === 'cpu') || isFresh) fresh.add(sum);
  };
  roots.forEach((r, i) => add(rootEdge(r), grads[i]!));
  setGradEnabled(opts.createGraph, () => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!;
      let g = pending.get(node);
      pending.delete(node);
      // NOTE: nodes that do not run keep their saved tensors (as PyTorch), so another backward
      // can still go through them: grad(loss1, [head]) then loss2.backward() via a shared trunk.
      if (!g || !useful.has(node)) continue;
      const incoming = g;
      if (node instanceof LeafAccumulator) {
        g = checkHookShape(incoming, node.tensor.runHooks(g));
        if (opts.capture) {
          if (opts.capture.has(node)) opts.capture.set(node, g);
        } else node.tensor.accumulateGrad(g, opts.createGraph, !node.tensor.hasHooks() && fresh.has(g) && wholeBuffer(g));
        continue;
      }
      for (const h of node.tensorHooks) g = checkHookShape(incoming, h(g) ?? g, h.name);
      if (node.retained) node.retained.accumulateGrad(g, opts.createGraph);
      if (opts.capture?.has(node)) opts.capture.set(node, g);
      const needs = node.next.map((c) => c !== null && useful.has(c));
      if (!needs.some(Boolean)) continue;
      // A hook on this node saw the incoming gradient (and may keep it); otherwise a fresh one is
      // ours to hand on, and so are views of it the formula returns (transpose, reshape, ...).
      const incomingFresh = g === incoming && node.tensorHooks.length === 0 && fresh.has(g);
      const inGrads = node.apply(g, needs);
      if (!opts.retainGraph) node.release();
      node.next.forEach((child, i) => {
        const gi = inGrads[i];
        if (!child || !needs[i] || !gi) return;
        const meta = node.inputMeta[i]!;
        if (!sameShape(gi.shape, meta.shape)) {
          throw new Error(
            `Function ${node.name} returned an invalid gradient at index ${i} - got ${fmtShape(gi.shape)} but expected shape compatible with ${fmtShape(meta.shape)}`,
          );
        }
        // NOTE: only NaN is an anomaly; infinite gradients (log at 0) pass, as in PyTorch.
        if (isAnomalyEnabled() && gi.isnan().any().item()) {
          throw new Error(`Function '${node.name}' returned nan values in its ${i}th output.`);
        }
        if (gi.dtype !== meta.dtype) add(child, gi.to(meta.dtype), true);
        else add(child, gi, ownsStorage(gi, g, incomingFresh, node, inGrads));
      });
    }
  });
}

/** A contiguous tensor covering its whole storage (one a leaf can keep as `.grad`). */
function wholeBuffer(t: Tensor): boolean {
  return t.offset === 0 && t.storage.data.length === t.numel() && t.isContiguous();
}

/**
 * Whether `gi`, one of `node`'s input gradients, has a storage only the walk holds: shared with
 * no other input gradient and no tensor the node saved, and not with the incoming gradient
 * unless that one was itself fresh (a transpose or reshape of a fresh gradient, as the `w.t()` of
 * a linear layer). Backward formulas are built-in ops that keep nothing, so such a buffer, when
 * whole and contiguous, can become a leaf's `.grad` without a copy.
 */
function ownsStorage(gi: Tensor, incoming: Tensor, incomingFresh: boolean, node: Node, inGrads: readonly (Tensor | null)[]): boolean {
  const st = gi.storage;
  if (gi.device !== 'cpu') return false;
  if ((st === incoming.storage && !incomingFresh) || node.savesStorage(st)) return false;
  let seen = 0;
  for (const other of inGrads) if (other && other.storage === st) seen++;
  return seen === 1;
}

/** A hook may replace a gradient, never reshape it (PyTorch checks the same after each hook). */
function checkHookShape(before: Tensor, after: Tensor, name = 'hook'): Tensor {
  if (!sameShape(before.shape, after.shape)) {
    throw new Error(`hook '${name || 'hook'}' has changed the size of value: expected ${fmtShape(before.shape)}, got ${fmtShape(after.shape)}`);
  }
  return after;
}

function toList<T>(x: T | readonly T[]): T[] {
  return Array.isArray(x) ? [...(x as readonly T[])] : [x as T];
}

/**
 * Accumulate gradients of `tensors` into the `.grad` of the leaves they depend on
 * (`torch.autograd.backward`).
 */
export function backward(
  tensors: Tensor | readonly Tensor[],
  gradTensors?: Tensor | readonly (Tensor | null | undefined)[] | null,
  opts: BackwardOptions = {},
): void {
  const roots = toList(tensors);
  const gl = gradTensors == null ? [] : toList(gradTensors as Tensor | readonly (Tensor | null | undefined)[]);
  const grads = roots.map((r, i) => {
    checkRoot(r);
    const g = gl[i];
    if (!g) return defaultGrad(r);
    checkGradShape(r, g, i);
    return g;
  });
  const createGraph = opts.createGraph ?? false;
  let targets: Set<GraphNode> | null = null;
  if (opts.inputs !== undefined) {
    const ins = toList(opts.inputs);
    if (ins.length === 0) throw new Error("'inputs' argument to backward() cannot be empty.");
    targets = new Set();
    for (const t of ins) {
      if (!t.requiresGrad) throw new Error('One of the differentiated Tensors does not require grad');
      // A non-leaf input gets its gradient retained, as PyTorch does for `inputs=`.
      if (t.gradFn) t.retainGrad();
      targets.add(rootEdge(t));
    }
  }
  const go = () => run(roots, grads, { retainGraph: opts.retainGraph ?? createGraph, createGraph, targets, capture: null });
  // Device memory of backward's temporaries is freed on return; `.grad`s escape (their leaf owns them).
  if (createGraph) go();
  else {
    scope(go);
    // The default ones seeds are backward's own temporaries too (`.grad` holds copies).
    grads.forEach((g, i) => gl[i] || g.dispose());
  }
}

function checkGradShape(out: Tensor, g: Tensor, i: number): void {
  if (!sameShape(out.shape, g.shape)) {
    throw new Error(`Mismatch in shape: grad_output[${i}] has a shape of ${fmtShape(g.shape)} and output[${i}] has a shape of ${fmtShape(out.shape)}.`);
  }
}

/**
 * Gradients of `outputs` with respect to `inputs`, returned instead of accumulated
 * (`torch.autograd.grad`).
 * @example
 * const [dx] = tg.autograd.grad(x.pow(3).sum(), [x], { createGraph: true });
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = toList(outputs);
  const ins = toList(inputs);
  const gl = opts.gradOutputs == null ? [] : toList(opts.gradOutputs as Tensor | readonly (Tensor | null)[]);
  const grads = outs.map((o, i) => {
    checkRoot(o);
    const g = gl[i];
    if (!g) return defaultGrad(o);
    checkGradShape(o, g, i);
    return g;
  });
  const capture = new Map<GraphNode, Tensor | null>();
  const slots = ins.map((t) => {
    if (!t.requiresGrad) throw new Error('One of the differentiated Tensors does not require grad');
    const e = rootEdge(t);
    capture.set(e, null);
    return e;
  });
  const createGraph = opts.createGraph ?? false;
  const go = () => {
    run(outs, grads, { retainGraph: opts.retainGraph ?? createGraph, createGraph, targets: new Set(slots), capture });
    return [...capture.values()];
  };
  // As in backward(), temporaries are freed on return; the returned gradients escape the scope.
  if (createGraph) go();
  else scope(go);
  return slots.map((e, i) => {
    const g = capture.get(e) ?? null;
    if (!g && !opts.allowUnused) {
      throw new Error(
        `One of the differentiated Tensors (input ${i}) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.`,
      );
    }
    return g;
  });
}

export type { Edge };
