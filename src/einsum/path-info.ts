/**
 * `einsumPath`: the contraction order einsum would use, with opt_einsum's cost report
 * (`opt_einsum.contract_path`): FLOP estimates, scaling, the largest intermediate and a
 * printable table.
 */
import { Tensor } from '../tensor/tensor.js';
import { choosePath, isOptions, labelSets, type EinsumOptions } from './einsum.js';
import { ELLIPSIS_BASE, labelChar, parseEquation, type EinsumSpec } from './parse.js';
import { flopCount } from './plan.js';

/** One pairwise (or single-operand) step of a contraction path. */
export interface EinsumPathStep {
  /** Positions in the current operand list, ascending (the result is appended at the end). */
  readonly operands: readonly number[];
  /** This step as an equation, operands listed as opt_einsum lists them (last position first). */
  readonly equation: string;
  /** The operands left after this step, as an equation. */
  readonly remaining: string;
  /** Labels are summed away here. */
  readonly summed: readonly string[];
  /** Estimated FLOPs (opt_einsum's `flop_count`). */
  readonly flops: number;
  /** Number of distinct labels this step touches. */
  readonly scaling: number;
  /** Elements of the step's result. */
  readonly size: number;
  /** How einsum runs it: a batched `matmul`, a broadcasting `mul`, or a `sum`/view of one operand. */
  readonly kernel: 'matmul' | 'mul' | 'sum' | 'view';
}

/** What `einsumPath` returns. */
export interface EinsumPathInfo {
  /** The order, in opt_einsum's linear format: `[[0, 1], [0, 1]]`. */
  readonly path: readonly (readonly number[])[];
  readonly steps: readonly EinsumPathStep[];
  /** The complete equation with an explicit output (ellipsis dims shown as spare letters). */
  readonly equation: string;
  /** Size of every label. */
  readonly sizes: Readonly<Record<string, number>>;
  /** FLOPs of one loop over all labels at once, as opt_einsum estimates them. */
  readonly naiveFlops: number;
  /** Sum of the steps' FLOPs. */
  readonly optimizedFlops: number;
  readonly speedup: number;
  readonly naiveScaling: number;
  readonly optimizedScaling: number;
  /** Elements of the largest step result. */
  readonly largestIntermediate: number;
  /** opt_einsum's table. */
  toString(): string;
}

/** Letters for label ids; ellipsis dims take letters the equation does not use. */
function labelNames(spec: EinsumSpec): string[] {
  const used = new Set(spec.inputs.flat());
  const spare: string[] = [];
  for (let id = ELLIPSIS_BASE - 1; id >= 0 && spare.length < spec.ellipsisRank; id--) if (!used.has(id)) spare.push(labelChar(id));
  // More ellipsis dims than free letters: continue with Greek letters.
  while (spare.length < spec.ellipsisRank) spare.push(String.fromCharCode(0x3b1 + spare.length));
  return Array.from({ length: ELLIPSIS_BASE + spec.ellipsisRank }, (_, id) => (id < ELLIPSIS_BASE ? labelChar(id) : spare[id - ELLIPSIS_BASE]!));
}

function fmtE(x: number): string {
  return x.toExponential(3);
}

/** Build the report for `path`, step by step as opt_einsum's `contract_path` does. */
export function describePath(spec: EinsumSpec, path: readonly (readonly number[])[]): EinsumPathInfo {
  const names = labelNames(spec);
  const str = (ids: readonly number[]): string => ids.map((id) => names[id]).join('');
  const sizes = spec.sizes;
  const sets = labelSets(spec);
  const output = new Set(spec.output);
  const outStr = str(spec.output);
  const terms = spec.inputs.map(str);
  const equation = `${terms.join(',')}->${outStr}`;
  const all = [...new Set(spec.inputs.flat())];

  const steps: EinsumPathStep[] = [];
  path.forEach((step, n) => {
    const positions = [...step].sort((a, b) => b - a);
    const contracted = positions.map((p) => sets.splice(p, 1)[0]!);
    const stepTerms = positions.map((p) => terms.splice(p, 1)[0]!);
    const touched = [...new Set(contracted.flat())];
    const remain = new Set([...output, ...sets.flat()]);
    const result = touched.filter((l) => remain.has(l));
    const summed = touched.filter((l) => !remain.has(l));
    const joined = stepTerms.join('');
    const firstAt = (l: number): number => joined.indexOf(names[l]!);
    const resultStr = n === path.length - 1 ? outStr : str([...result].sort((a, b) => firstAt(a) - firstAt(b)));
    sets.push(result);
    terms.push(resultStr);
    const shared = contracted.length === 2 && summed.some((l) => contracted.every((s) => s.includes(l)));
    steps.push({
      operands: [...step].sort((a, b) => a - b),
      equation: `${stepTerms.join(',')}->${resultStr}`,
      remaining: `${terms.join(',')}->${outStr}`,
      summed: summed.map((l) => names[l]!),
      flops: flopCount(touched, summed.length > 0, positions.length, sizes),
      scaling: touched.length,
      size: result.reduce((p, l) => p * sizes[l]!, 1),
      kernel: contracted.length === 2 ? (shared ? 'matmul' : 'mul') : summed.length > 0 ? 'sum' : 'view',
    });
  });

  const inner = labelSets(spec).reduce((s, x) => s + x.length, 0) - all.length > 0;
  const naiveFlops = flopCount(all, inner, spec.inputs.length, sizes);
  const optimizedFlops = steps.reduce((s, x) => s + x.flops, 0);
  const info: EinsumPathInfo = {
    path: path.map((s) => [...s]),
    steps,
    equation,
    sizes: Object.fromEntries(all.map((l) => [names[l]!, sizes[l]!])),
    naiveFlops,
    optimizedFlops,
    speedup: naiveFlops / Math.max(optimizedFlops, 1),
    naiveScaling: all.length,
    optimizedScaling: Math.max(0, ...steps.map((s) => s.scaling)),
    largestIntermediate: Math.max(1, ...steps.map((s) => s.size)),
    toString: () => report(info),
  };
  return info;
}

function report(p: EinsumPathInfo): string {
  const lines = [
    `  Complete contraction:  ${p.equation}`,
    `         Naive scaling:  ${p.naiveScaling}`,
    `     Optimized scaling:  ${p.optimizedScaling}`,
    `      Naive FLOP count:  ${fmtE(p.naiveFlops)}`,
    `  Optimized FLOP count:  ${fmtE(p.optimizedFlops)}`,
    `   Theoretical speedup:  ${fmtE(p.speedup)}`,
    `  Largest intermediate:  ${fmtE(p.largestIntermediate)} elements`,
    '-'.repeat(80),
    `${'scaling'.padStart(6)} ${'kernel'.padStart(11)} ${'current'.padStart(22)} ${'remaining'.padStart(37)}`,
    '-'.repeat(80),
  ];
  for (const s of p.steps) {
    const width = Math.max(0, 56 - Math.max(22, s.equation.length));
    lines.push(`${String(s.scaling).padStart(4)} ${s.kernel.padStart(14)} ${s.equation.padStart(22)}    ${s.remaining.padStart(width)}`);
  }
  return lines.join('\n');
}

/**
 * The contraction order `einsum` uses for these operands (tensors or plain shapes), with
 * opt_einsum's estimates: FLOPs per step and in total, scaling and the largest intermediate.
 * `toString()` prints opt_einsum's table. A trailing `{ optimize }` picks the strategy.
 * @example
 * const info = tg.einsumPath('ij,jk,kl->il', [2, 3], [3, 4], [4, 5]);
 * info.path;            // [[0, 1], [0, 1]]
 * info.optimizedFlops;  // 128
 * console.log(info.toString());
 */
export function einsumPath(equation: string, ...shapesOrTensors: readonly (Tensor | readonly number[])[]): EinsumPathInfo;
export function einsumPath(equation: string, ...shapesThenOptions: [...(Tensor | readonly number[])[], EinsumOptions]): EinsumPathInfo;
export function einsumPath(equation: string, ...args: readonly unknown[]): EinsumPathInfo {
  const last = args[args.length - 1];
  const options = isOptions(last) ? last : {};
  const operands = options === last ? args.slice(0, -1) : args;
  if (operands.length === 0) {
    throw new RangeError('einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list');
  }
  const shapes = operands.map((x, i) => {
    if (x instanceof Tensor) return x.shape;
    if (Array.isArray(x) && x.every((d) => Number.isInteger(d) && d >= 0)) return x as readonly number[];
    throw new TypeError(`einsumPath(): expected a Tensor or a shape (array of sizes) for operand ${i}`);
  });
  const spec = parseEquation(equation, shapes);
  return describePath(spec, choosePath(spec, options));
}
