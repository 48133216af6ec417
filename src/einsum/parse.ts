/**
 * Einsum equations: parsing and validation, following PyTorch 1.13's `at::einsum` step by step
 * so that the first error PyTorch would raise is the one we raise, worded the same way.
 *
 * Labels become small integers in PyTorch's order: 0–25 are `A`–`Z`, 26–51 are `a`–`z` (so an
 * implicit output lists uppercase labels before lowercase ones). Dims covered by an ellipsis get
 * ids `52 + j`, where `j` counts the broadcast ellipsis dims right-aligned across operands, as
 * NumPy broadcasting aligns trailing dims.
 */
import { Tensor } from '../tensor/tensor.js';

/** Number of letter labels (`A`–`Z`, `a`–`z`); ellipsis dim `j` has id `ELLIPSIS_BASE + j`. */
export const ELLIPSIS_BASE = 52;

/** A parsed, validated equation. */
export interface EinsumSpec {
  /** Per operand, the label id of every dim (ellipsis expanded). */
  readonly inputs: readonly (readonly number[])[];
  /** The label ids of the output, in order. */
  readonly output: readonly number[];
  /** Broadcast size of every label id (index = id; 1 for ids no operand uses). */
  readonly sizes: readonly number[];
  /** Number of dims the ellipsis stands for (the largest over operands). */
  readonly ellipsisRank: number;
}

/** One element of a sublist: a label number in [0, 52) or `'...'` for an ellipsis. */
export type SublistItem = number | '...';
/** The subscripts of one operand (or of the output) in the sublist form: `[0, 1]`, `['...', 0]`. */
export type Sublist = readonly SublistItem[];

/** An einsum error: PyTorch's message with its `einsum():` prefix. */
function fail(message: string): never {
  throw new RangeError(`einsum(): ${message}`);
}

const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

/** `A`–`Z` → 0–25, `a`–`z` → 26–51 (PyTorch's `label_to_subscript`). */
function labelId(c: string): number {
  const code = c.charCodeAt(0);
  return c >= 'a' ? code - 97 + 26 : code - 65;
}

/** The letter of a label id (ids ≥ 52, ellipsis dims, have none). */
export function labelChar(id: number): string {
  return String.fromCharCode(id < 26 ? 65 + id : 97 + id - 26);
}

const ELL = -1;

/**
 * Parse `equation` for operands of the given shapes and check it as PyTorch does: characters,
 * ellipses, operand count, subscript counts, the output, then sizes operand by operand.
 */
export function parseEquation(equation: string, shapes: readonly (readonly number[])[]): EinsumSpec {
  const numOps = shapes.length;
  if (numOps === 0) fail('must provide at least one operand');
  const arrow = equation.indexOf('->');
  const lhs = arrow < 0 ? equation : equation.slice(0, arrow);

  // Operand subscripts, with ELL marking an ellipsis.
  const opLabels: number[][] = shapes.map(() => []);
  let ellInInput = false;
  let cur = 0;
  for (let i = 0; i < lhs.length; i++) {
    const c = lhs[i]!;
    if (c === ' ') continue;
    if (c === '.') {
      if (ellInInput) fail(`found '.' for operand ${cur} for which an ellipsis was already found`);
      // NOTE: the increments consume the next two dots, as PyTorch's `lhs[++i] == '.'`.
      if (!(i + 2 < lhs.length && lhs[++i] === '.' && lhs[++i] === '.')) {
        fail(`found '.' for operand ${cur} that is not part of any ellipsis`);
      }
      opLabels[cur]!.push(ELL);
      ellInInput = true;
    } else if (c === ',') {
      cur++;
      if (cur >= numOps) fail('fewer operands were provided than specified in the equation');
      ellInInput = false;
    } else {
      if (!isLetter(c)) fail(`invalid subscript given at index ${i} in the equation string, subscripts must be in [a-zA-Z]`);
      opLabels[cur]!.push(labelId(c));
    }
  }
  if (cur !== numOps - 1) fail('more operands were provided than specified in the equation');

  // Label frequencies and the number of dims the ellipsis covers.
  const labelCount = new Array<number>(ELLIPSIS_BASE).fill(0);
  let ellRank = 0;
  opLabels.forEach((labels, i) => {
    const ndim = shapes[i]!.length;
    let nlabels = labels.length;
    let hasEll = false;
    for (const l of labels) {
      if (l === ELL) {
        nlabels--;
        hasEll = true;
        ellRank = Math.max(ellRank, ndim - nlabels);
      } else labelCount[l]!++;
    }
    if (hasEll ? nlabels > ndim : nlabels !== ndim) {
      fail(
        `the number of subscripts in the equation (${nlabels}) ${hasEll ? 'is more than' : 'does not match'} the number of dimensions (${ndim}) for operand ${i}${hasEll ? '' : ' and no ellipsis was given'}`,
      );
    }
  });
  const ellIds = Array.from({ length: ellRank }, (_, j) => ELLIPSIS_BASE + j);

  // The output: explicit after '->', else the ellipsis then the labels seen exactly once.
  const output: number[] = [];
  if (arrow < 0) {
    output.push(...ellIds);
    for (let l = 0; l < ELLIPSIS_BASE; l++) if (labelCount[l] === 1) output.push(l);
  } else {
    const rhs = equation.slice(arrow + 2);
    let ellInOutput = false;
    for (let i = 0; i < rhs.length; i++) {
      const c = rhs[i]!;
      if (c === ' ') continue;
      if (c === '.') {
        if (ellInOutput) fail("found '.' for output but an ellipsis (...) was already found");
        if (!(i + 2 < rhs.length && rhs[++i] === '.' && rhs[++i] === '.')) {
          fail("found '.' for output that is not part of any ellipsis (...)");
        }
        output.push(...ellIds);
        ellInOutput = true;
      } else {
        if (!isLetter(c)) {
          fail(`invalid subscript given at index ${lhs.length + 2 + i} in the equation string, subscripts must be in [a-zA-Z]`);
        }
        const l = labelId(c);
        if (output.includes(l)) fail(`output subscript ${c} appears more than once in the output`);
        if (labelCount[l] === 0) fail(`output subscript ${c} does not appear in the equation for any input operand`);
        output.push(l);
      }
    }
  }

  // Sizes, operand by operand: size-1 dims broadcast, repeated labels must match exactly.
  const sizes = new Array<number>(ELLIPSIS_BASE + ellRank).fill(1);
  const inputs = opLabels.map((labels, i) => {
    const shape = shapes[i]!;
    const ids: number[] = [];
    // `dim` counts dims of the operand after earlier diagonals (PyTorch's messages use it).
    let dim = 0;
    for (const l of labels) {
      if (l === ELL) {
        const covered = shape.length - (labels.length - 1);
        for (let j = ellRank - covered; j < ellRank; j++) {
          const size = shape[ids.length]!;
          if (size !== 1) {
            if (sizes[ELLIPSIS_BASE + j] !== 1 && sizes[ELLIPSIS_BASE + j] !== size) {
              // NOTE: PyTorch 1.13's message lacks the space before "has"; kept verbatim.
              fail(
                `dimension ${dim} covered by ellipsis in operand ${i}has size ${size} which does not broadcast with previously seen ellipsis with size ${sizes[ELLIPSIS_BASE + j]} for the respective dimension`,
              );
            }
            sizes[ELLIPSIS_BASE + j] = size;
          }
          ids.push(ELLIPSIS_BASE + j);
          dim++;
        }
        continue;
      }
      const size = shape[ids.length]!;
      const first = ids.indexOf(l);
      if (first < 0) {
        if (size !== 1) {
          if (sizes[l] !== 1 && sizes[l] !== size) {
            fail(`subscript ${labelChar(l)} has size ${size} for operand ${i} which does not broadcast with previously seen size ${sizes[l]}`);
          }
          sizes[l] = size;
        }
        dim++;
      } else if (size !== shape[first]) {
        fail(`subscript ${labelChar(l)} is repeated for operand ${i} but the sizes don't match, ${size} != ${shape[first]}`);
      }
      ids.push(l);
    }
    return ids;
  });
  return { inputs, output, sizes, ellipsisRank: ellRank };
}

function sublistLabel(item: unknown): string {
  if (item === '...') return '...';
  if (typeof item === 'number' && Number.isInteger(item) && item >= 0 && item < ELLIPSIS_BASE) return labelChar(item);
  throw new RangeError('einsum(): subscript in subscript list is not within the valid range [0, 52)');
}

function toSublist(x: unknown, what: string): Sublist {
  if (!Array.isArray(x)) throw new TypeError(`einsum(): expected a subscript list after ${what}, but got ${x instanceof Tensor ? 'a Tensor' : typeof x}`);
  return x as Sublist;
}

/**
 * The sublist form `einsum(a, [0, 1], b, [1, 2], [0, 2])` as an equation and its operands, as
 * `torch.functional.einsum` converts it (0–25 → `A`–`Z`, 26–51 → `a`–`z`, `'...'` → ellipsis).
 */
export function sublistToEquation(args: readonly unknown[]): { equation: string; operands: Tensor[] } {
  const operands: Tensor[] = [];
  const terms: string[] = [];
  let i = 0;
  for (; i + 1 < args.length; i += 2) {
    const t = args[i];
    if (!(t instanceof Tensor)) throw new TypeError(`einsum(): expected a Tensor as argument ${i} of the sublist form`);
    operands.push(t);
    terms.push(toSublist(args[i + 1], `operand ${operands.length - 1}`).map(sublistLabel).join(''));
  }
  let equation = terms.join(',');
  if (i < args.length) equation += '->' + toSublist(args[i], 'the operands').map(sublistLabel).join('');
  return { equation, operands };
}
