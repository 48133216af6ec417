/**
 * Shapes, strides and the layout edits behind view ops, plus every shape error, worded as
 * PyTorch words it.
 */

/** How a tensor's elements sit in its storage: `element[i0..] = storage[offset + Σ ik·strides[k]]`. */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when the layout walks storage in row-major order without gaps (size-1 dims ignored). */
export function isContiguousLayout(l: Layout): boolean {
  let expected = 1;
  for (let i = l.shape.length - 1; i >= 0; i--) {
    const d = l.shape[i]!;
    if (d === 1) continue;
    if (l.strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy/PyTorch broadcasting of two shapes, with PyTorch's error. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  // NOTE: right to left, so the error names the last mismatching dim, as PyTorch's infer_size.
  for (let i = n - 1; i >= 0; i--) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function broadcastAll(shapes: readonly (readonly number[])[]): number[] {
  let out: number[] = [];
  for (const s of shapes) out = broadcastShapes(out, s);
  return out;
}

/** Wrap a possibly negative dim into `[0, rank)`, with PyTorch's message. A 0-d tensor accepts -1 and 0. */
export function normalizeDim(dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new RangeError(`Dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalise a dim list, rejecting repeats (`dim 1 appears multiple times in the list of dims`). */
export function normalizeDims(dims: readonly number[], rank: number): number[] {
  const out = dims.map((d) => normalizeDim(d, rank));
  const seen = new Set<number>();
  for (const d of out) {
    if (seen.has(d)) throw new RangeError(`dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  return out;
}

/** Resolve a `-1` in a reshape target and check the element count. */
export function inferShape(shape: readonly number[], size: number): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === -1) {
      if (infer >= 0) throw new RangeError('only one dimension can be inferred');
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`invalid shape dimension ${d}`);
    } else known *= d;
  }
  const out = [...shape];
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) throw new RangeError(`shape '${fmtShape(shape)}' is invalid for input of size ${size}`);
    out[infer] = size / known;
  } else if (known !== size) {
    throw new RangeError(`shape '${fmtShape(shape)}' is invalid for input of size ${size}`);
  }
  return out;
}

/**
 * Strides for viewing `l` as `shape` without copying, or null when impossible
 * (PyTorch's `computeStride`: split/merge only dims that are contiguous with each other).
 */
export function viewStrides(l: Layout, shape: readonly number[]): number[] | null {
  const oldShape = l.shape;
  const oldStrides = l.strides;
  if (numel(oldShape) === 0) return contiguousStrides(shape);
  const newStrides = new Array<number>(shape.length).fill(0);
  if (oldShape.length === 0) return newStrides.map(() => 1);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
    tensorNumel *= oldShape[tensorD]!;
    if (tensorD === 0 || (oldShape[tensorD - 1] !== 1 && oldStrides[tensorD - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (tensorD > 0) {
        chunkBase = oldStrides[tensorD - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

function negativeExpand(size: number, dim: number, shape: readonly number[]): RangeError {
  return new RangeError(`The expanded size of the tensor (${size}) isn't allowed at dimension ${dim}: sizes must be non-negative, or -1 to keep a dim.  Target sizes: ${fmtShape(shape)}`);
}

/**
 * Check the sizes of a tensor to create (PyTorch's wording): integers, non-negative.
 * @example
 * checkSizes('zeros', [2, -1]);   // RangeError: Trying to create tensor with negative dimension -1: [2, -1]
 */
export function checkSizes(op: string, shape: readonly unknown[]): asserts shape is readonly number[] {
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new TypeError(`${op}(): argument 'size' must be tuple of ints, but found element of type ${typeof d === 'number' ? 'float' : Array.isArray(d) ? 'list' : typeof d} at pos ${i + 1}`);
    }
  });
  for (const d of shape as readonly number[]) {
    if (d < 0) throw new RangeError(`Trying to create tensor with negative dimension ${d}: ${fmtShape(shape as readonly number[])}`);
  }
}

/** The layout of `expand(shape)`: new leading dims and size-1 dims get stride 0. */
export function expandLayout(l: Layout, shape: readonly number[]): Layout {
  const n = shape.length;
  const k = l.shape.length;
  if (n < k) {
    throw new RangeError(
      `expand: the number of sizes provided (${n}) must be greater or equal to the number of dimensions in the tensor (${k})`,
    );
  }
  const strides = new Array<number>(n);
  const outShape = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    const j = i - (n - k);
    let target = shape[i]!;
    if (j >= 0) {
      const d = l.shape[j]!;
      if (target === -1) target = d;
      if (target < 0) throw negativeExpand(target, i, shape);
      if (d === target) strides[i] = l.strides[j]!;
      else if (d === 1) strides[i] = 0;
      else {
        throw new RangeError(
          `The expanded size of the tensor (${target}) must match the existing size (${d}) at non-singleton dimension ${i}.  Target sizes: ${fmtShape(shape)}.  Tensor sizes: ${fmtShape(l.shape)}`,
        );
      }
    } else {
      if (target === -1) throw new RangeError(`The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`);
      if (target < 0) throw negativeExpand(target, i, shape);
      strides[i] = 0;
    }
    outShape[i] = target;
  }
  return { shape: outShape, strides, offset: l.offset };
}

/** Flat storage offsets of every element of `l`, in row-major order. */
export function layoutOffsets(l: Layout): Int32Array {
  const n = numel(l.shape);
  const out = new Int32Array(n);
  const rank = l.shape.length;
  if (n === 0) return out;
  if (rank === 0) {
    out[0] = l.offset;
    return out;
  }
  const shape = l.shape;
  const strides = l.strides;
  const last = rank - 1;
  const lastDim = shape[last]!;
  const lastStride = strides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let base = l.offset;
  let o = 0;
  while (o < n) {
    for (let j = 0, p = base; j < lastDim; j++, p += lastStride) out[o++] = p;
    // advance the outer counters
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}
