/**
 * `einsum` lowered onto differentiable primitives, so gradients of any order come for free:
 *
 * 1. per operand: a diagonal view for repeated labels, squeeze dims of size 1 that broadcast
 *    against a larger size elsewhere, and sum labels no other operand or the output uses;
 * 2. pairwise contractions in the planned order (plan.ts), each as permute → reshape → batched
 *    `matmul` (or a broadcasting `mul` when nothing is summed), so the broadcast product of all
 *    operands is never materialised;
 * 3. a final permute into the output's label order.
 */
import { apply } from '../autograd/function.js';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { alias, diagonalOfRepeated } from './diagonal.js';
import { parseEquation, sublistToEquation, type EinsumSpec, type Sublist } from './parse.js';
import { findPath, type ContractionPath, type PathStrategy } from './plan.js';

/** Options for `einsum` and `einsumPath`, passed as a trailing plain object. */
export interface EinsumOptions {
  /**
   * The contraction order for 3+ operands: a strategy (`'auto'`, the default, searches
   * exhaustively up to 6 operands and greedily beyond; `'greedy'`; `'optimal'`), or an explicit
   * path in opt_einsum's linear format, e.g. `[[1, 2], [0, 1]]`.
   */
  optimize?: PathStrategy | ContractionPath;
}

/** A tensor together with the label of each of its dims. */
interface Operand {
  readonly t: Tensor;
  readonly labels: readonly number[];
}

const TORCH_SCALAR_NAME: Record<DType, string> = { float32: 'Float', float64: 'Double', int32: 'Int', bool: 'Bool' };

/** A trailing options object (neither a Tensor, an array nor a string). */
export function isOptions(x: unknown): x is EinsumOptions {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor);
}

/** Split the variadic arguments into equation, operands and options (both call forms). */
export function resolveArgs(args: readonly unknown[]): { equation: string; operands: Tensor[]; options: EinsumOptions } {
  const last = args[args.length - 1];
  const options = args.length > 0 && isOptions(last) ? last : {};
  const rest = options === last ? args.slice(0, -1) : args;
  if (rest.length < 2) {
    throw new RangeError('einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list');
  }
  if (rest[0] instanceof Tensor) return { ...sublistToEquation(rest), options };
  const equation = rest[0];
  if (typeof equation !== 'string') throw new TypeError('einsum(): expected an equation string or a Tensor as the first argument');
  // The older interface passes the operands as one list: einsum('ij,jk', [a, b]).
  const ops = rest.length === 2 && Array.isArray(rest[1]) ? (rest[1] as readonly unknown[]) : rest.slice(1);
  if (ops.length === 0) {
    throw new RangeError('einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list');
  }
  return {
    equation,
    operands: ops.map((t, i) => {
      if (!(t instanceof Tensor)) throw new TypeError(`einsum(): expected a Tensor for operand ${i}, but got ${typeof t}`);
      return t;
    }),
    options,
  };
}

/** PyTorch's checks on an explicit contraction path (pairs of positions, n - 1 steps). */
export function checkPath(path: ContractionPath, numOps: number): void {
  const expected = numOps === 1 ? 1 : (numOps - 1) * 2;
  const got = path.reduce((s, step) => s + step.length, 0);
  if (got !== expected || path.some((step) => step.length !== Math.min(numOps, 2))) {
    throw new RangeError(`einsum(): expected contraction path given in path parameter to have size ${expected} but got ${got}`);
  }
  let live = numOps;
  for (const step of path) {
    if (step.length === 2) {
      const [i, j] = [Math.min(step[0]!, step[1]!), Math.max(step[0]!, step[1]!)];
      if (i === j || i < 0 || j >= live || !Number.isInteger(i) || !Number.isInteger(j)) {
        throw new RangeError(`einsum(): invalid contraction (${i}, ${j})${i === j ? ' cannot contract an operand with itself' : ' operand index is out of bounds'}`);
      }
      live--;
    } else if (step[0] !== 0) {
      throw new RangeError(`einsum(): invalid contraction (${step[0]}) operand index is out of bounds`);
    }
  }
}

/** Sum the dims whose labels satisfy `drop`. */
function sumLabels(x: Operand, drop: (l: number) => boolean): Operand {
  const dims = x.labels.flatMap((l, d) => (drop(l) ? [d] : []));
  if (dims.length === 0) return x;
  return { t: x.t.sum(dims), labels: x.labels.filter((l) => !drop(l)) };
}

/** `x` with its dims in the order of `labels` (a view). */
function permuteTo(x: Operand, labels: readonly number[]): Tensor {
  return x.t.permute(labels.map((l) => x.labels.indexOf(l)));
}

/** Step 1: diagonals, squeeze broadcast size-1 dims (the label is then simply absent). */
function prepare(t: Tensor, labels: readonly number[], sizes: readonly number[]): Operand {
  const diag = diagonalOfRepeated(t, labels);
  const keep = diag.labels.map((l, d) => diag.tensor.shape[d] === sizes[l]);
  if (keep.every(Boolean)) return { t: diag.tensor, labels: diag.labels };
  return {
    t: diag.tensor.reshape(diag.tensor.shape.filter((_, d) => keep[d])),
    labels: diag.labels.filter((_, d) => keep[d]),
  };
}

/**
 * Contract two operands over their shared labels that are not in `keep`. The result's labels
 * are batch (shared, kept), then `a`'s own, then `b`'s own.
 */
function contractPair(a0: Operand, b0: Operand, keep: ReadonlySet<number>): Operand {
  // Labels only one side has and nobody needs later are summed first (cheaper than carrying them).
  const a = sumLabels(a0, (l) => !keep.has(l) && !b0.labels.includes(l));
  const b = sumLabels(b0, (l) => !keep.has(l) && !a0.labels.includes(l));
  const inB = (l: number): boolean => b.labels.includes(l);
  const batch = a.labels.filter((l) => inB(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB(l) && !keep.has(l));
  const left = a.labels.filter((l) => !inB(l));
  const right = b.labels.filter((l) => !a.labels.includes(l));
  const sizeOf = (x: Operand) => (l: number): number => x.t.shape[x.labels.indexOf(l)]!;
  const batchSizes = batch.map(sizeOf(a));
  const leftSizes = left.map(sizeOf(a));
  const rightSizes = right.map(sizeOf(b));
  const labels = [...batch, ...left, ...right];
  if (summed.length === 0) {
    // Nothing to sum: a broadcasting product, whose size is the result's (as PyTorch's sumproduct_pair).
    const ta = permuteTo(a, [...batch, ...left]).reshape([...batchSizes, ...leftSizes, ...right.map(() => 1)]);
    const tb = permuteTo(b, [...batch, ...right]).reshape([...batchSizes, ...left.map(() => 1), ...rightSizes]);
    return { t: ta.mul(tb), labels };
  }
  if (a.t.dtype !== b.t.dtype) {
    throw new TypeError(`expected scalar type ${TORCH_SCALAR_NAME[a.t.dtype]} but found ${TORCH_SCALAR_NAME[b.t.dtype]}`);
  }
  // Batch dims stay as they are (matmul takes any batch strides, and flattening a permuted
  // batch could copy); only the row, summed and column groups are merged into one dim each.
  const prod = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
  const k = prod(summed.map(sizeOf(a)));
  const [m, n] = [prod(leftSizes), prod(rightSizes)];
  const ta = permuteTo(a, [...batch, ...left, ...summed]).reshape([...batchSizes, m, k]);
  const tb = permuteTo(b, [...batch, ...summed, ...right]).reshape([...batchSizes, k, n]);
  return { t: ta.matmul(tb).reshape([...batchSizes, ...leftSizes, ...rightSizes]), labels };
}

/** Run a parsed equation on `tensors` along `path` (opt_einsum's linear format). */
export function contract(spec: EinsumSpec, tensors: readonly Tensor[], path: ContractionPath): Tensor {
  const output = new Set(spec.output);
  let ops = tensors.map((t, i) => prepare(t, spec.inputs[i]!, spec.sizes));
  const uses = new Map<number, number>();
  for (const op of ops) for (const l of op.labels) uses.set(l, (uses.get(l) ?? 0) + 1);
  ops = ops.map((op) => sumLabels(op, (l) => !output.has(l) && uses.get(l) === 1));

  for (const step of path) {
    if (step.length < 2) continue;
    const [i, j] = [Math.min(step[0]!, step[1]!), Math.max(step[0]!, step[1]!)];
    let a = ops[i]!;
    let b = ops[j]!;
    ops = ops.filter((_, k) => k !== i && k !== j);
    const keep = new Set(output);
    for (const op of ops) for (const l of op.labels) keep.add(l);
    if (ops.length === 0) {
      // Last step: put first the operand whose own labels come first in the output, which
      // often makes the final permute the identity (`jk,ij->ik`).
      const first = spec.output.find((l) => a.labels.includes(l) !== b.labels.includes(l));
      if (first !== undefined && b.labels.includes(first)) [a, b] = [b, a];
    }
    ops.push(contractPair(a, b, keep));
  }

  const result = sumLabels(ops[0]!, (l) => !output.has(l));
  const out = permuteTo(result, spec.output);
  return tensors.includes(out) ? apply(alias, [out], undefined) : out;
}

/** The label set (sorted, unique) of every operand: what the planner sees, as opt_einsum does. */
export function labelSets(spec: EinsumSpec): number[][] {
  return spec.inputs.map((ls) => [...new Set(ls)].sort((x, y) => x - y));
}

/** The contraction path for `spec` under `options`, checked when given explicitly. */
export function choosePath(spec: EinsumSpec, options: EinsumOptions): ContractionPath {
  const opt = options.optimize ?? 'auto';
  if (typeof opt !== 'string') {
    checkPath(opt, spec.inputs.length);
    return opt;
  }
  if (spec.inputs.length <= 2) return [spec.inputs.map((_, i) => i)];
  const sets = labelSets(spec);
  // Planning 5-6 operands exhaustively takes milliseconds: remember paths (a training loop
  // calls the same equation on the same shapes every step).
  const key = `${opt}|${sets.map((s) => s.map((l) => `${l}:${spec.sizes[l]}`).join(' ')).join(',')}|${spec.output.join(' ')}`;
  let path = pathCache.get(key);
  if (!path) {
    if (pathCache.size >= PATH_CACHE_SIZE) pathCache.clear();
    path = findPath(sets, spec.output, spec.sizes, opt);
    pathCache.set(key, path);
  }
  return path;
}

const PATH_CACHE_SIZE = 256;
const pathCache = new Map<string, ContractionPath>();

/**
 * Einstein summation with `torch.einsum`'s semantics: explicit (`'ij,jk->ik'`) and implicit
 * (`'ij,jk'`: labels seen once, uppercase before lowercase) outputs, `...` broadcasting,
 * repeated labels (diagonals, traces), size-1 broadcasting, any number of operands (contracted
 * in the order `einsumPath` reports), and the sublist form. Differentiable to any order.
 * @example
 * const a = tg.randn([2, 3]), b = tg.randn([3, 4]);
 * tg.einsum('ij,jk->ik', a, b);            // a.matmul(b)
 * tg.einsum('ii', tg.eye(3));              // trace: 3
 * tg.einsum(a, [0, 1], b, [1, 2], [0, 2]); // sublist form of the first line
 */
export function einsum(equation: string, ...operands: readonly Tensor[]): Tensor;
export function einsum(equation: string, ...operandsThenOptions: [...Tensor[], EinsumOptions]): Tensor;
export function einsum(equation: string, operands: readonly Tensor[], options?: EinsumOptions): Tensor;
export function einsum(...sublistForm: readonly (Tensor | Sublist | EinsumOptions)[]): Tensor;
export function einsum(...args: readonly unknown[]): Tensor {
  const { equation, operands, options } = resolveArgs(args);
  const spec = parseEquation(equation, operands.map((t) => t.shape));
  return contract(spec, operands, choosePath(spec, options));
}
