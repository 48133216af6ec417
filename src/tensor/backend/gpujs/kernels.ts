/**
 * Kernel templates. Each function returns a cache key and a gpu.js kernel source string with
 * every shape, stride and offset inlined as a literal, so one compiled kernel serves one layout
 * (no `dynamicOutput`, which silently keeps stale sizes on GL: notes §6.2). Every buffer is
 * flat and 1-D; a thread computes one output element from its flat index `this.thread.x`.
 *
 * Kernel bodies stay within what gpu.js translates to GLSL, WGSL and WebAssembly: `let`/`const`,
 * arithmetic, `Math.*`, `if`, constant-bound `for` loops, and one `return`.
 */
import type { ArgReduceOp, BinaryOp, FusedActivation, ReduceOp, UnaryOp } from '../backend.js';
import type { DType } from '../../dtype.js';
import { contiguousStrides } from '../../shape.js';

/** A strided view into a flat device buffer of `length` elements. */
export interface ArgLayout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly length: number;
}

export interface KernelSpec {
  readonly key: string;
  readonly length: number;
  readonly source: () => string;
}

export const sig = (a: ArgLayout) => `${a.length}:${a.shape.join('x')}/${a.strides.join(',')}@${a.offset}`;
export const numel = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * Decode the flat index `v` into coordinates `${p}0..` over `shape`. Float division can be off
 * by one near multiples, so the quotient is corrected with exact integer products (< 2^24).
 */
export function decode(shape: readonly number[], v: string, p: string): string[] {
  const rank = shape.length;
  if (rank === 0) return [];
  const lines = [`let ${p}r = ${v};`];
  for (let d = rank - 1; d >= 1; d--) {
    const n = shape[d]!;
    if (n === 1) {
      lines.push(`const ${p}${d} = 0;`);
      continue;
    }
    lines.push(
      `let ${p}q${d} = Math.floor(${p}r / ${n});`,
      `if (${p}q${d} * ${n} > ${p}r) { ${p}q${d} = ${p}q${d} - 1; }`,
      `if (${p}q${d} * ${n} + ${n} <= ${p}r) { ${p}q${d} = ${p}q${d} + 1; }`,
      `const ${p}${d} = ${p}r - ${p}q${d} * ${n};`,
      `${p}r = ${p}q${d};`,
    );
  }
  lines.push(`const ${p}0 = ${p}r;`);
  return lines;
}

/** `offset + Σ coord·stride` for the dims listed (stride-0 and size-1 dims drop out). */
export function index(a: ArgLayout, coord: (d: number) => string, dims?: readonly number[]): string {
  const terms: string[] = [];
  for (const d of dims ?? a.shape.map((_, i) => i)) {
    const s = a.strides[d]!;
    if (s === 0 || a.shape[d] === 1) continue;
    terms.push(s === 1 ? coord(d) : `${coord(d)} * ${s}`);
  }
  if (a.offset !== 0 || terms.length === 0) terms.push(String(a.offset));
  return terms.join(' + ');
}

export function isDenseOver(a: ArgLayout, shape: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && a.strides[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

export function fn(args: readonly string[], lines: readonly string[]): string {
  return `function (${args.join(', ')}) {\n  ${lines.join('\n  ')}\n}`;
}

// NOTE: float32 has no NaN/Infinity literals in GLSL; these expressions avoid needing them.
const MAX_F32 = '3.4028234663852886e38';

/** expm1 without cancellation for |x| < 0.5 (Taylor to x^9), exp(x) - 1 elsewhere. */
const expm1 = (x: string) =>
  `(Math.abs(${x}) < 0.5 ? ${x} * (1 + ${x} / 2 * (1 + ${x} / 3 * (1 + ${x} / 4 * (1 + ${x} / 5 * (1 + ${x} / 6 * (1 + ${x} / 7 * (1 + ${x} / 8 * (1 + ${x} / 9)))))))) : Math.exp(${x}) - 1)`;

/**
 * Statements returning erf(x) in float32: the Maclaurin series to x¹³ for |x| < 0.5 (truncation
 * below 5e-10, so small arguments keep their relative accuracy), else 1 − erfc with Numerical
 * Recipes' Chebyshev erfc (relative error below 1.2e-7). Both branches are computed and one chosen
 * (a ternary, no early return in the shader).
 */
export const ERF_SRC = (x: string): string[] => [
  `const ax = Math.abs(${x});`,
  `const z = ${x} * ${x};`,
  `const small = ${x} * (1.1283791670955126 + z * (-0.3761263890318375 + z * (0.11283791670955126 + z * (-0.026866170645131252 + z * (0.005223977625442188 + z * (-0.0008548327023450853 + z * 0.00012055332981789664))))));`,
  'const t = 1 / (1 + 0.5 * ax);',
  'const r = t * Math.exp(-(ax * ax) - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));',
  `const big = ${x} < 0 ? r - 1 : 1 - r;`,
  'return ax < 0.5 ? small : big;',
];

/**
 * sin or cos in float32 arithmetic without the GPU's builtins, whose error GLSL, Vulkan and WGSL
 * only bound absolutely (2^-11 on [-π, π]; SwiftShader's WebGL2 sin was off by 1.5e-4 at 1.28):
 * Cephes' sinf/cosf. |x| is reduced by multiples j of π/4 (j even) with a three-part Cody-Waite
 * π/4 whose first part has few bits (so `j·DP1` is exact), then a degree-7 sine or degree-8
 * cosine polynomial on [-π/4, π/4] is chosen by j mod 8. Accurate to a few float32 ulps for
 * |x| below about 8192 (Cephes' range for the single-precision reduction).
 */
function sinCos(x: string, which: 'sin' | 'cos'): string[] {
  return [
    `const ax = Math.abs(${x});`,
    'const j0 = Math.floor(ax * 1.2732395447351628);',
    'const j = j0 + (j0 - 2 * Math.floor(j0 / 2));',
    'const q = j - 8 * Math.floor(j / 8);',
    'const r = ((ax - j * 0.78515625) - j * 2.4187564849853515625e-4) - j * 3.77489497744594108e-8;',
    'const z = r * r;',
    'const sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;',
    'const cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1;',
    ...(which === 'sin'
      ? ['const v = q < 1 ? sp : (q < 3 ? cp : (q < 5 ? -sp : -cp));', `return ${x} < 0 ? -v : v;`]
      : ['return q < 1 ? cp : (q < 3 ? -sp : (q < 5 ? -cp : sp));']),
  ];
}

/** Statements that turn `x` into the unary result (last line returns). */
export const UNARY_SRC: Record<UnaryOp, (x: string) => string[]> = {
  neg: (x) => [`return -${x};`],
  abs: (x) => [`return Math.abs(${x});`],
  sign: (x) => [`return ${x} > 0 ? 1 : (${x} < 0 ? -1 : 0);`],
  exp: (x) => [`return Math.exp(${x});`],
  expm1: (x) => [`return ${expm1(x)};`],
  log: (x) => [`return Math.log(${x});`],
  // NOTE: GPU log is accurate to an absolute, not a relative, error near 1 (WebGPU on llvmpipe
  // was off by 1e-4 relative at x = 1e-3), so |x| < 0.1 uses log1p(x) = 2·atanh(s), s = x/(2+x),
  // |s| < 0.053: five series terms reach 1e-13. Elsewhere Kahan's log1p: the rounding of 1 + x
  // is compensated by x / (u - 1).
  log1p: (x) => [
    `const s = ${x} / (2 + ${x});`,
    'const s2 = s * s;',
    `if (Math.abs(${x}) < 0.1) { return 2 * s * (1 + s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285 + s2 * 0.1111111111111111)))); }`,
    `const u = 1 + ${x};`,
    `return Math.log(u) * ${x} / (u - 1);`,
  ],
  sqrt: (x) => [`return Math.sqrt(${x});`],
  rsqrt: (x) => [`return 1 / Math.sqrt(${x});`],
  square: (x) => [`return ${x} * ${x};`],
  sin: (x) => sinCos(x, 'sin'),
  cos: (x) => sinCos(x, 'cos'),
  // tanh = -expm1(-2|x|) / (2 + expm1(-2|x|)), signed: accurate near 0, no overflow.
  tanh: (x) => [`const t = -2 * Math.abs(${x});`, `const e = ${expm1('t')};`, `const y = -e / (2 + e);`, `return ${x} < 0 ? -y : y;`],
  sigmoid: (x) => [`return 1 / (1 + Math.exp(-${x}));`],
  relu: (x) => [`return ${x} > 0 ? ${x} : 0;`],
  reciprocal: (x) => [`return 1 / ${x};`],
  floor: (x) => [`return Math.floor(${x});`],
  ceil: (x) => [`return Math.ceil(${x});`],
  // Round half to even, as torch.round.
  round: (x) => [`let r = Math.floor(${x} + 0.5);`, `if (r - ${x} == 0.5 && r - 2 * Math.floor(r / 2) != 0) { r = r - 1; }`, `return r;`],
  logicalNot: (x) => [`return ${x} == 0 ? 1 : 0;`],
  isnan: (x) => [`return ${x} == ${x} ? 0 : 1;`],
  isfinite: (x) => [`return Math.abs(${x}) <= ${MAX_F32} ? 1 : 0;`],
};

/** Statements combining `a` and `b` (last line returns). */
export const BINARY_SRC: Record<BinaryOp, (a: string, b: string) => string[]> = {
  add: (a, b) => [`return ${a} + ${b};`],
  sub: (a, b) => [`return ${a} - ${b};`],
  mul: (a, b) => [`return ${a} * ${b};`],
  div: (a, b) => [`return ${a} / ${b};`],
  // NOTE: GLSL/WGSL pow is undefined for a < 0 or a = 0; handle signs and zero as Math.pow does.
  pow: (a, b) => [
    `if (${b} == 0) { return 1; }`,
    `let y = Math.pow(Math.abs(${a}), ${b});`,
    `if (${a} == 0) { y = ${b} > 0 ? 0 : 1 / Math.abs(${a}); }`,
    `if (${a} < 0 && ${b} - 2 * Math.floor(${b} / 2) == 1) { y = -y; }`,
    `return y;`,
  ],
  maximum: (a, b) => [`return Math.max(${a}, ${b});`],
  minimum: (a, b) => [`return Math.min(${a}, ${b});`],
  atan2: (a, b) => [`return Math.atan2(${a}, ${b});`],
  eq: (a, b) => [`return ${a} == ${b} ? 1 : 0;`],
  ne: (a, b) => [`return ${a} != ${b} ? 1 : 0;`],
  lt: (a, b) => [`return ${a} < ${b} ? 1 : 0;`],
  le: (a, b) => [`return ${a} <= ${b} ? 1 : 0;`],
  gt: (a, b) => [`return ${a} > ${b} ? 1 : 0;`],
  ge: (a, b) => [`return ${a} >= ${b} ? 1 : 0;`],
  logicalAnd: (a, b) => [`return ${a} != 0 && ${b} != 0 ? 1 : 0;`],
  logicalOr: (a, b) => [`return ${a} != 0 || ${b} != 0 ? 1 : 0;`],
};

/** The value conversion a cast to `dtype` applies (int32 truncates, non-finite to 0; bool tests != 0). */
export function castSrc(dtype: DType): (x: string) => string[] {
  if (dtype === 'int32') return (x) => [`if (!(Math.abs(${x}) <= ${MAX_F32})) { return 0; }`, `return ${x} < 0 ? Math.ceil(${x}) : Math.floor(${x});`];
  if (dtype === 'bool') return (x) => [`return ${x} != 0 ? 1 : 0;`];
  return (x) => [`return ${x};`];
}

/**
 * An elementwise kernel over `shape`: reads each argument at the thread's coordinates (strided,
 * broadcast through stride 0) and runs `body` on the values.
 */
export function elementwise(name: string, shape: readonly number[], args: readonly ArgLayout[], body: (xs: string[]) => string[]): KernelSpec {
  const key = `ew|${name}|${shape.join('x')}|${args.map(sig).join('|')}`;
  return {
    key,
    length: numel(shape),
    source: () => {
      const names = args.map((_, k) => `a${k}`);
      const needDecode = args.some((a) => !isDenseOver(a, shape));
      const lines = ['const i = this.thread.x;', ...(needDecode ? decode(shape, 'i', 'c') : [])];
      args.forEach((a, k) => {
        const idx = isDenseOver(a, shape) ? (a.offset ? `i + ${a.offset}` : 'i') : index(a, (d) => `c${d}`);
        lines.push(`const x${k} = ${names[k]}[${idx}];`);
      });
      lines.push(...body(args.map((_, k) => `x${k}`)));
      return fn(names, lines);
    },
  };
}

/**
 * Reduce `x` over `axes` (kept as size 1 in `outShape`): one thread per output element, looping
 * over the reduced coordinates with constant bounds.
 */
export function reduce(op: ReduceOp, x: ArgLayout, axes: readonly number[]): KernelSpec {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return {
    key: `reduce|${op}|${axes.join(',')}|${sig(x)}`,
    length: numel(outShape),
    source: () => {
      const lines = ['const i = this.thread.x;', ...decode(outShape, 'i', 'c'), `const base = ${index(x, (d) => `c${d}`, kept)};`];
      const init = { sum: '0', prod: '1', all: '1', any: '0', max: 'a[base]', min: 'a[base]' }[op];
      lines.push(`let acc = ${init};`);
      let open = '';
      for (const d of axes) open += `for (let j${d} = 0; j${d} < ${x.shape[d]}; j${d}++) { `;
      const off = axes.filter((d) => x.strides[d] !== 0).map((d) => `j${d} * ${x.strides[d]}`);
      const update = {
        sum: 'acc = acc + v;',
        prod: 'acc = acc * v;',
        max: 'acc = Math.max(acc, v);',
        min: 'acc = Math.min(acc, v);',
        all: 'if (v == 0) { acc = 0; }',
        any: 'if (v != 0) { acc = 1; }',
      }[op];
      lines.push(`${open}const v = a[${['base', ...off].join(' + ')}]; ${update} ${'} '.repeat(axes.length)}`);
      lines.push('return acc;');
      return fn(['a'], lines);
    },
  };
}

/**
 * Row statistics of `x` over `axes` for softmax and logSoftmax (`mode` 'stats'): two segments of
 * the kept shape's size, `[shift | sum]`, the row max (0 where it is not finite, as the composite
 * forward's shift) and Σ exp(x − shift); or (`mode` 'lse') logsumexp itself, log(sum) + shift.
 * One thread per row (per segment), two passes over the row with constant bounds.
 */
export function rowStats(x: ArgLayout, axes: readonly number[], mode: 'stats' | 'lse'): KernelSpec {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const rows = numel(outShape);
  return {
    key: `rowstats|${mode}|${axes.join(',')}|${sig(x)}`,
    length: mode === 'stats' ? 2 * rows : rows,
    source: () => {
      let open = '';
      for (const d of axes) open += `for (let j${d} = 0; j${d} < ${x.shape[d]}; j${d}++) { `;
      const close = '} '.repeat(axes.length);
      const at = `a[${['base', ...axes.filter((d) => x.strides[d] !== 0).map((d) => `j${d} * ${x.strides[d]}`)].join(' + ')}]`;
      return fn(['a'], [
        'const i = this.thread.x;',
        ...(mode === 'stats' ? ['let k = 0;', `if (i >= ${rows}) { k = 1; }`, `const r = i - k * ${rows};`] : ['const r = i;']),
        ...decode(outShape, 'r', 'c'),
        `const base = ${index(x, (d) => `c${d}`, kept)};`,
        'let m = a[base];',
        `${open}m = Math.max(m, ${at}); ${close}`,
        `const sh = Math.abs(m) <= ${MAX_F32} ? m : 0;`,
        ...(mode === 'stats' ? ['if (k == 0) { return sh; }'] : []),
        'let s = 0;',
        `${open}s = s + Math.exp(${at} - sh); ${close}`,
        mode === 'stats' ? 'return s;' : 'return Math.log(s) + sh;',
      ]);
    },
  };
}

/**
 * softmax (`exp(x − shift) / sum`) or logSoftmax (`(x − shift) − log(sum)`) of `x` over `axes`
 * from `rowStats`' `[shift | sum]` (argument `st`), elementwise: the composite forward's formulas.
 */
export function softmaxFromStats(x: ArgLayout, axes: readonly number[], log: boolean): KernelSpec {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const rows = numel(outShape);
  const rowStrides = contiguousStrides(outShape).map((st, d) => (axes.includes(d) ? 0 : st));
  const row: ArgLayout = { shape: x.shape, strides: rowStrides, offset: 0, length: 2 * rows };
  return {
    key: `softmax|${log}|${axes.join(',')}|${sig(x)}`,
    length: numel(x.shape),
    source: () =>
      fn(['a', 'st'], [
        'const i = this.thread.x;',
        ...decode(x.shape, 'i', 'c'),
        `const r = ${index(row, (d) => `c${d}`)};`,
        `const v = a[${index(x, (d) => `c${d}`)}] - st[r];`,
        log ? `return v - Math.log(st[r + ${rows}]);` : `return Math.exp(v) / st[r + ${rows}];`,
      ]),
  };
}

/** Index of the first max/min along `axis` (kept as size 1). */
export function argReduce(op: ArgReduceOp, x: ArgLayout, axis: number): KernelSpec {
  const outShape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const kept = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const s = x.strides[axis]!;
  return {
    key: `arg|${op}|${axis}|${sig(x)}`,
    length: numel(outShape),
    source: () =>
      fn(['a'], [
        'const i = this.thread.x;',
        ...decode(outShape, 'i', 'c'),
        `const base = ${index(x, (d) => `c${d}`, kept)};`,
        'let best = a[base];',
        'let bi = 0;',
        `for (let j = 1; j < ${x.shape[axis]}; j++) { const v = a[base + j * ${s}]; if (v ${op === 'argmax' ? '>' : '<'} best) { best = v; bi = j; } }`,
        'return bi;',
      ]),
  };
}

/**
 * Batched matmul `[..., m, k] @ [..., k, n]` on strided operands: transposed and broadcast
 * operands (the backward's `g @ bᵀ`, `aᵀ @ g`) are read through their strides, never copied.
 */
export function matmul(a: ArgLayout, b: ArgLayout, bias?: ArgLayout, activation?: FusedActivation): KernelSpec {
  const rank = a.shape.length;
  const [m, k, n] = [a.shape[rank - 2]!, a.shape[rank - 1]!, b.shape[rank - 1]!];
  const outShape = [...a.shape.slice(0, rank - 2), m, n];
  const batchDims = outShape.slice(0, rank - 2).map((_, i) => i);
  return {
    key: `mm|${sig(a)}|${sig(b)}${bias ? `|bias|${sig(bias)}` : ''}${bias && activation ? `|${activation}` : ''}`,
    length: numel(outShape),
    source: () => {
      const coord = (d: number) => `c${d}`;
      const aBase = index(a, coord, [...batchDims, rank - 2]);
      const bBase = index(b, coord, [...batchDims, rank - 1]);
      const ak = a.strides[rank - 1]!;
      const bk = b.strides[rank - 2]!;
      return fn(bias ? ['a', 'b', 'c'] : ['a', 'b'], [
        'const i = this.thread.x;',
        ...decode(outShape, 'i', 'c'),
        `const ab = ${aBase};`,
        `const bb = ${bBase};`,
        'let s = 0;',
        `for (let p = 0; p < ${k}; p++) { s = s + a[ab + p * ${ak}] * b[bb + p * ${bk}]; }`,
        // The fused bias (addmm): the product is rounded to float32 first, then the bias added,
        // as the unfused matmul + add does.
        // A fused activation (linear + relu/tanh/sigmoid) applies the unary kernel's own
        // statements (UNARY_SRC) to the sum.
        ...(!bias ? ['return s;'] : activation ? [`const lin = s + c[${index(bias, coord)}];`, ...UNARY_SRC[activation]('lin')] : [`return s + c[${index(bias, coord)}];`]),
      ]);
    },
  };
}

/** `out[c] = x[c with c[dim] = index[c]]` over the index's shape (torch.gather). */
export function gather(x: ArgLayout, dim: number, idx: ArgLayout): KernelSpec {
  return {
    key: `gather|${dim}|${sig(x)}|${sig(idx)}`,
    length: numel(idx.shape),
    source: () =>
      fn(['a', 'ix'], [
        'const i = this.thread.x;',
        ...decode(idx.shape, 'i', 'c'),
        `const j = ix[${index(idx, (d) => `c${d}`)}];`,
        // A size-1 or broadcast `dim` drops out of the index: the only valid index there is 0.
        `return a[${index(x, (d) => (d === dim ? 'j' : `c${d}`))}];`,
      ]),
  };
}

/**
 * scatter / scatter_add as a gather: each output element of `self`'s shape scans the index
 * entries along `dim` that share its other coordinates (no atomics needed). With duplicates,
 * assignment keeps the last write, as the CPU backend does.
 */
export function scatter(self: ArgLayout, dim: number, idx: ArgLayout, src: ArgLayout, accumulate: boolean): KernelSpec {
  return {
    key: `scatter|${dim}|${accumulate}|${sig(self)}|${sig(idx)}|${sig(src)}`,
    length: numel(self.shape),
    source: () => {
      const inside = self.shape.map((_, d) => d).filter((d) => d !== dim && idx.shape[d]! < self.shape[d]!).map((d) => `c${d} < ${idx.shape[d]}`);
      const coord = (d: number) => (d === dim ? 't' : `c${d}`);
      return fn(['a', 'ix', 'sv'], [
        'const i = this.thread.x;',
        ...decode(self.shape, 'i', 'c'),
        `let acc = a[${index(self, (d) => `c${d}`)}];`,
        ...(inside.length ? [`if (${inside.join(' && ')}) {`] : []),
        `for (let t = 0; t < ${idx.shape[dim]}; t++) { if (ix[${index(idx, coord)}] == c${dim}) { acc = ${accumulate ? 'acc + ' : ''}sv[${index(src, coord)}]; } }`,
        ...(inside.length ? ['}'] : []),
        'return acc;',
      ]);
    },
  };
}

/** Concatenate up to 8 views along `dim` (the backend chains longer lists). */
export function cat(xs: readonly ArgLayout[], dim: number): KernelSpec {
  const shape = [...xs[0]!.shape];
  shape[dim] = xs.reduce((s, x) => s + x.shape[dim]!, 0);
  return {
    key: `cat|${dim}|${xs.map(sig).join('|')}`,
    length: numel(shape),
    source: () => {
      const lines = ['const i = this.thread.x;', ...decode(shape, 'i', 'c')];
      let start = 0;
      xs.forEach((x, k) => {
        const end = start + x.shape[dim]!;
        const at = index(x, (d) => (d === dim ? `(c${d} - ${start})` : `c${d}`));
        lines.push(k === xs.length - 1 ? `return a${k}[${at}];` : `if (c${dim} < ${end}) { return a${k}[${at}]; }`);
        start = end;
      });
      return fn(xs.map((_, k) => `a${k}`), lines);
    },
  };
}

/**
 * Dims of a strided view sorted by stride (descending), when every stride exceeds the span of
 * the dims inside it: then a storage position maps back to at most one coordinate, so an
 * in-place write can be done by a kernel over the whole storage. Null otherwise.
 */
export function nestedOrder(v: ArgLayout): number[] | null {
  const dims = v.shape.map((_, i) => i).filter((d) => v.shape[d]! > 1);
  dims.sort((x, y) => v.strides[y]! - v.strides[x]!);
  let span = 0;
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]!;
    if (v.strides[d]! <= span) return null;
    span += (v.shape[d]! - 1) * v.strides[d]!;
  }
  return dims;
}

/**
 * In-place write as a new buffer: every storage position covered by the strided `dst` view
 * takes the matching `src` element (converted by `conv`); the rest keeps `old`.
 */
export function writeInto(dst: ArgLayout, order: readonly number[], src: ArgLayout, dtype: DType): KernelSpec {
  return {
    key: `write|${dtype}|${sig(dst)}|${sig(src)}`,
    length: dst.length,
    source: () => {
      const lines = ['const p = this.thread.x;', `let r = p - ${dst.offset};`, 'if (r < 0) { return old[p]; }'];
      for (const d of order) {
        const s = dst.strides[d]!;
        lines.push(
          `let c${d} = Math.floor(r / ${s});`,
          `if (c${d} * ${s} > r) { c${d} = c${d} - 1; }`,
          `if (c${d} * ${s} + ${s} <= r) { c${d} = c${d} + 1; }`,
          `if (c${d} >= ${dst.shape[d]}) { return old[p]; }`,
          `r = r - c${d} * ${s};`,
        );
      }
      lines.push('if (r != 0) { return old[p]; }');
      for (let d = 0; d < dst.shape.length; d++) if (!order.includes(d)) lines.push(`const c${d} = 0;`);
      lines.push(`const x = sv[${index(src, (d) => `c${d}`)}];`, ...castSrc(dtype)('x'));
      return fn(['old', 'sv'], lines);
    },
  };
}
