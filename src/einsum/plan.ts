/**
 * Contraction planning: in which order to contract the operands of a 3+-operand einsum.
 *
 * Ports of opt_einsum 3.4's `greedy` (lowest "memory removed" first, then outer products of the
 * smallest) and `optimal` (depth-first search over all pairwise orders, pruned by the best FLOP
 * count so far), with its cost model: a pairwise step over the labels `L` costs
 * `Π size(L) · (1 + [some label is summed])`. Paths use opt_einsum's linear format: each step
 * names positions in the current operand list, those operands are removed and the result is
 * appended at the end.
 *
 * Label sets are sorted arrays of label ids; all a planner needs is the sets and their sizes.
 */

/** How to choose the contraction order. */
export type PathStrategy = 'auto' | 'greedy' | 'optimal';

/** Steps of positions in the shrinking operand list (opt_einsum's linear path format). */
export type ContractionPath = readonly (readonly number[])[];

type LabelSet = readonly number[];

const keyOf = (s: LabelSet): string => s.join(',');
const union = (a: LabelSet, b: LabelSet): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);
const sizeOf = (s: Iterable<number>, sizes: readonly number[]): number => {
  let n = 1;
  for (const l of s) n *= sizes[l]!;
  return n;
};

/** opt_einsum's `flop_count`: elements touched times (terms - 1, at least 1, plus 1 for a sum). */
export function flopCount(labels: Iterable<number>, inner: boolean, numTerms: number, sizes: readonly number[]): number {
  return sizeOf(labels, sizes) * (Math.max(1, numTerms - 1) + (inner ? 1 : 0));
}

/** Static-single-assignment ids (every result a new id) to linear positions. */
export function ssaToLinear(ssaPath: readonly (readonly number[])[]): number[][] {
  const n = ssaPath.reduce((s, c) => s + c.length, 0) - ssaPath.length + 1;
  const ids = Array.from({ length: n }, (_, i) => i);
  let ssa = n;
  return ssaPath.map((step) => {
    const con = step.map((s) => ids.indexOf(s)).sort((a, b) => a - b);
    for (let k = con.length - 1; k >= 0; k--) ids.splice(con[k]!, 1);
    ids.push(ssa++);
    return con;
  });
}

// ------------------------------------------------------------------------------ greedy

interface Candidate {
  /** (memory removed, larger ssa id, smaller ssa id): the tuple opt_einsum orders by. */
  readonly cost: readonly [number, number, number];
  readonly k1: string;
  readonly k2: string;
  readonly k12: LabelSet;
}

const lessCost = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
};

/** A binary min-heap (opt_einsum uses Python's heapq; ties are fully broken by the cost tuple). */
class MinHeap<T> {
  private readonly items: T[] = [];
  private readonly less: (a: T, b: T) => boolean;
  constructor(less: (a: T, b: T) => boolean) {
    this.less = less;
  }
  get size(): number {
    return this.items.length;
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * opt_einsum's greedy path: contract the pair that removes the most memory (ties: lowest ids),
 * after merging operands with identical label sets (Hadamard products), then join what is left
 * with outer products, smallest first.
 */
export function greedyPath(inputs: readonly LabelSet[], output: LabelSet, sizes: readonly number[]): number[][] {
  if (inputs.length === 1) return [[0]];
  // A label shared by every operand can only be contracted at the end: treat it as an output.
  const out = new Set([...output, ...inputs[0]!.filter((l) => inputs.every((s) => s.includes(l)))]);
  const labelsOf = new Map<string, LabelSet>();
  const remaining = new Map<string, number>(); // label-set key -> ssa id
  const ssaPath: [number, number][] = [];
  let nextSsa = inputs.length;
  inputs.forEach((s, id) => {
    const key = keyOf(s);
    labelsOf.set(key, s);
    const prev = remaining.get(key);
    if (prev === undefined) remaining.set(key, id);
    else {
      ssaPath.push([prev, id]);
      remaining.set(key, nextSsa++);
    }
  });

  const dimToKeys = new Map<number, Set<string>>();
  const keysOf = (l: number): Set<string> => {
    let s = dimToKeys.get(l);
    if (!s) dimToKeys.set(l, (s = new Set()));
    return s;
  };
  for (const key of remaining.keys()) for (const l of labelsOf.get(key)!) if (!out.has(l)) keysOf(l).add(key);
  const ref2 = new Set<number>();
  const ref3 = new Set<number>();
  for (const [l, keys] of dimToKeys) {
    if (keys.size >= 2) ref2.add(l);
    if (keys.size >= 3) ref3.add(l);
  }
  const footprint = new Map<string, number>();
  for (const key of remaining.keys()) footprint.set(key, sizeOf(labelsOf.get(key)!, sizes));

  const candidate = (k1: string, k2: string): Candidate => {
    const s1 = labelsOf.get(k1)!;
    const s2 = labelsOf.get(k2)!;
    const k12 = union(s1, s2).filter((l) => {
      const both = s1.includes(l) && s2.includes(l);
      return out.has(l) || (both ? ref3.has(l) : ref2.has(l));
    });
    const cost = sizeOf(k12, sizes) - footprint.get(k1)! - footprint.get(k2)!;
    let [a, b] = [k1, k2];
    if (remaining.get(a)! > remaining.get(b)!) [a, b] = [b, a];
    return { cost: [cost, remaining.get(b)!, remaining.get(a)!], k1: a, k2: b, k12 };
  };
  const queue = new MinHeap<Candidate>((x, y) => lessCost(x.cost, y.cost));
  const pushBest = (k1: string, k2s: Iterable<string>): void => {
    let best: Candidate | null = null;
    for (const k2 of k2s) {
      const c = candidate(k1, k2);
      if (!best || lessCost(c.cost, best.cost)) best = c;
    }
    if (best) queue.push(best);
  };
  for (const keys of dimToKeys.values()) {
    const list = [...keys].sort((a, b) => remaining.get(a)! - remaining.get(b)!);
    for (let i = 0; i < list.length - 1; i++) pushBest(list[i]!, list.slice(i + 1));
  }

  while (queue.size > 0) {
    const { k1, k2, k12 } = queue.pop();
    if (!remaining.has(k1) || !remaining.has(k2)) continue; // stale candidate
    const s1 = labelsOf.get(k1)!;
    const s2 = labelsOf.get(k2)!;
    ssaPath.push([remaining.get(k1)!, remaining.get(k2)!]);
    remaining.delete(k1);
    remaining.delete(k2);
    for (const l of s1) if (!out.has(l)) keysOf(l).delete(k1);
    for (const l of s2) if (!out.has(l)) keysOf(l).delete(k2);
    const key12 = keyOf(k12);
    labelsOf.set(key12, k12);
    if (remaining.has(key12)) ssaPath.push([remaining.get(key12)!, nextSsa++]);
    else for (const l of k12) if (!out.has(l)) keysOf(l).add(key12);
    remaining.set(key12, nextSsa++);
    // NOTE: opt_einsum updates the counts of `k1 | k2 - output`, i.e. k1 ∪ (k2 \ output).
    for (const l of new Set([...s1, ...s2.filter((x) => !out.has(x))])) {
      const count = dimToKeys.get(l)?.size ?? 0;
      if (count >= 2) ref2.add(l);
      else ref2.delete(l);
      if (count >= 3) ref3.add(l);
      else ref3.delete(l);
    }
    footprint.set(key12, sizeOf(k12, sizes));
    const partners = new Set<string>();
    for (const l of k12) for (const k of dimToKeys.get(l) ?? []) partners.add(k);
    partners.delete(key12);
    pushBest(key12, partners);
  }

  // Outer products of what is left, smallest first.
  type Entry = { size: number; id: number; labels: LabelSet };
  const final = new MinHeap<Entry>((a, b) => a.size < b.size || (a.size === b.size && a.id < b.id));
  for (const [key, id] of remaining) {
    const labels = labelsOf.get(key)!.filter((l) => out.has(l));
    final.push({ size: sizeOf(labels, sizes), id, labels });
  }
  let first = final.pop();
  while (final.size > 0) {
    const second = final.pop();
    ssaPath.push([Math.min(first.id, second.id), Math.max(first.id, second.id)]);
    const labels = union(first.labels, second.labels).filter((l) => out.has(l));
    final.push({ size: sizeOf(labels, sizes), id: nextSsa++, labels });
    first = final.pop();
  }
  return ssaToLinear(ssaPath);
}

// ----------------------------------------------------------------------------- optimal

/**
 * opt_einsum's optimal path: every pairwise order, depth first, pruned when the FLOPs so far
 * reach the best complete path's. Exponential: meant for a handful of operands.
 */
export function optimalPath(inputs: readonly LabelSet[], output: LabelSet, sizes: readonly number[]): number[][] {
  let bestFlops = Infinity;
  let bestPath: (readonly number[])[] = [inputs.map((_, i) => i)];
  // NOTE: like opt_einsum, results are cached by the two label sets alone, although the labels
  // to keep also depend on the other remaining operands; we keep the quirk to choose its paths.
  const cache = new Map<string, { k12: LabelSet; flops: number }>();
  const iterate = (path: (readonly number[])[], remaining: readonly number[], sets: readonly LabelSet[], flops: number): void => {
    if (remaining.length === 1) {
      bestFlops = flops;
      bestPath = path;
      return;
    }
    for (let a = 0; a < remaining.length; a++) {
      for (let b = a + 1; b < remaining.length; b++) {
        const i = remaining[a]!;
        const j = remaining[b]!;
        const key = `${keyOf(sets[i]!)}|${keyOf(sets[j]!)}`;
        let hit = cache.get(key);
        if (!hit) {
          const keep = new Set(output);
          for (const r of remaining) if (r !== i && r !== j) for (const l of sets[r]!) keep.add(l);
          const either = union(sets[i]!, sets[j]!);
          const summed = either.some((l) => sets[i]!.includes(l) && sets[j]!.includes(l) && !keep.has(l));
          hit = { k12: either.filter((l) => keep.has(l)), flops: flopCount(either, summed, 2, sizes) };
          cache.set(key, hit);
        }
        const total = flops + hit.flops;
        if (total >= bestFlops) continue;
        const rest = remaining.filter((r) => r !== i && r !== j);
        rest.push(sets.length);
        iterate([...path, [i, j]], rest, [...sets, hit.k12], total);
      }
    }
  };
  iterate([], inputs.map((_, i) => i), inputs, 0);
  return ssaToLinear(bestPath);
}

/**
 * The path for `strategy`. `'auto'` searches exhaustively up to 6 operands and is greedy beyond
 * (opt_einsum's `auto` uses `optimal` up to 4 and branch-and-bound searches up to 14).
 * One or two operands need no search: `[[0]]` or `[[0, 1]]`.
 */
export function findPath(inputs: readonly LabelSet[], output: LabelSet, sizes: readonly number[], strategy: PathStrategy = 'auto'): number[][] {
  if (inputs.length <= 2) return [inputs.map((_, i) => i)];
  const exhaustive = strategy === 'optimal' || (strategy === 'auto' && inputs.length <= 6);
  return exhaustive ? optimalPath(inputs, output, sizes) : greedyPath(inputs, output, sizes);
}
