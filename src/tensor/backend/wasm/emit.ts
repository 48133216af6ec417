/**
 * A tiny WebAssembly emitter: an opcode table, LEB128 encoders, a function builder and a module
 * builder. Kernels are written as TypeScript functions that push instructions onto a
 * {@link FnBuilder}; {@link ModuleBuilder.bytes} assembles them into a module that imports one
 * linear memory (`env.memory`) and exports every function by name. No toolchain and no checked-in
 * `.wasm`: the bytes are generated at run time.
 *
 * @example
 * const m = new ModuleBuilder();
 * m.fn('add1', ['i32'], ['i32'], (f) => { f.get(0); f.i32(1); f.op('i32.add'); });
 * const inst = new WebAssembly.Instance(new WebAssembly.Module(m.bytes()), { env: { memory } });
 */

/**
 * Value types, with their binary codes.
 * @example
 * VALTYPE.v128; // 0x7b
 */
export const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
/** A value type's name: `'i32' | 'i64' | 'f32' | 'f64' | 'v128'`. */
export type ValType = keyof typeof VALTYPE;

/**
 * Opcodes without immediates (and the load/store families, whose memarg {@link FnBuilder.mem}
 * appends). SIMD instructions are `0xfd` followed by their LEB128-encoded index.
 */
const BASIC = {
  unreachable: 0x00, nop: 0x01, return: 0x0f, drop: 0x1a, select: 0x1b,
  'i32.load': 0x28, 'f32.load': 0x2a, 'f64.load': 0x2b,
  'i32.store': 0x36, 'f32.store': 0x38, 'f64.store': 0x39,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a, 'i32.gt_u': 0x4b, 'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  'f64.eq': 0x61, 'f64.ne': 0x62, 'f64.lt': 0x63, 'f64.gt': 0x64, 'f64.le': 0x65, 'f64.ge': 0x66,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_s': 0x6d, 'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f, 'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73,
  'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76,
  'f32.abs': 0x8b, 'f32.neg': 0x8c, 'f32.ceil': 0x8d, 'f32.floor': 0x8e, 'f32.trunc': 0x8f,
  'f32.nearest': 0x90, 'f32.sqrt': 0x91, 'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94,
  'f32.div': 0x95, 'f32.min': 0x96, 'f32.max': 0x97,
  'f64.abs': 0x99, 'f64.neg': 0x9a, 'f64.sqrt': 0x9f, 'f64.add': 0xa0, 'f64.sub': 0xa1,
  'f64.mul': 0xa2, 'f64.div': 0xa3, 'f64.min': 0xa4, 'f64.max': 0xa5,
  'i32.trunc_f32_s': 0xa8, 'f32.convert_i32_s': 0xb2, 'f32.demote_f64': 0xb6,
  'f64.convert_i32_s': 0xb7, 'f64.promote_f32': 0xbb,
  'i32.reinterpret_f32': 0xbc, 'f32.reinterpret_i32': 0xbe,
} as const;

const SIMD = {
  'v128.load': 0x00, 'v128.load32_splat': 0x09, 'v128.load64_splat': 0x0a, 'v128.store': 0x0b,
  'i32x4.splat': 0x11, 'f32x4.splat': 0x13, 'f64x2.splat': 0x14,
  'f32x4.extract_lane': 0x1f, 'f32x4.replace_lane': 0x20, 'f64x2.extract_lane': 0x21,
  'i32x4.eq': 0x37, 'i32x4.gt_s': 0x3b,
  'f32x4.eq': 0x41, 'f32x4.ne': 0x42, 'f32x4.lt': 0x43, 'f32x4.gt': 0x44, 'f32x4.le': 0x45, 'f32x4.ge': 0x46,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51,
  'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'v128.store64_lane': 0x5b, 'v128.load64_zero': 0x5d,
  'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f,
  'f32x4.ceil': 0x67, 'f32x4.floor': 0x68, 'f32x4.trunc': 0x69, 'f32x4.nearest': 0x6a,
  'i32x4.shl': 0xab, 'i32x4.shr_s': 0xac, 'i32x4.shr_u': 0xad, 'i32x4.add': 0xae, 'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5, 'i32x4.min_s': 0xb6, 'i32x4.max_s': 0xb8,
  'f32x4.abs': 0xe0, 'f32x4.neg': 0xe1, 'f32x4.sqrt': 0xe3, 'f32x4.add': 0xe4, 'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6, 'f32x4.div': 0xe7, 'f32x4.min': 0xe8, 'f32x4.max': 0xe9,
  'f32x4.pmin': 0xea, 'f32x4.pmax': 0xeb,
  'f64x2.abs': 0xec, 'f64x2.neg': 0xed, 'f64x2.sqrt': 0xef, 'f64x2.add': 0xf0, 'f64x2.sub': 0xf1,
  'f64x2.mul': 0xf2, 'f64x2.div': 0xf3, 'f64x2.min': 0xf4, 'f64x2.max': 0xf5,
  'i32x4.trunc_sat_f32x4_s': 0xf8, 'f32x4.convert_i32x4_s': 0xfa,
  // Relaxed SIMD (used only after WebAssembly.validate says the engine has it).
  'f32x4.relaxed_madd': 0x105,
} as const;

/** Names of the core opcodes in the table (`'i32.add'`, `'f32.load'`, ...). */
export type BasicOp = keyof typeof BASIC;
/** Names of the SIMD opcodes in the table (`'f32x4.mul'`, `'v128.load'`, ...). */
export type SimdOp = keyof typeof SIMD;
/** Any opcode {@link FnBuilder.op} or {@link FnBuilder.mem} accepts. */
export type Op = BasicOp | SimdOp;

/** log2 of each memory op's natural alignment (the memarg's default). */
const NATURAL_ALIGN: Partial<Record<Op, number>> = {
  'i32.load': 2, 'f32.load': 2, 'f64.load': 3, 'i32.store': 2, 'f32.store': 2, 'f64.store': 3,
  'v128.load': 4, 'v128.store': 4, 'v128.load32_splat': 2, 'v128.load64_splat': 3, 'v128.load64_zero': 3,
  'v128.store64_lane': 3,
};

/**
 * Unsigned LEB128.
 * @example
 * uleb(624485); // [0xe5, 0x8e, 0x26]
 */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * Signed LEB128 of a 32-bit integer.
 * @example
 * sleb(-64); // [0x40]
 */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** `dst.push(...src)` without spreading (bodies can exceed the engine's argument limit). */
function append(dst: number[], src: readonly number[]): void {
  for (const b of src) dst.push(b);
}

function opBytes(name: Op): number[] {
  if (name in SIMD) return [0xfd, ...uleb(SIMD[name as SimdOp])];
  return [BASIC[name as BasicOp]];
}

const f32Scratch = new DataView(new ArrayBuffer(8));

/**
 * Builds one function body. Locals are plain indices (parameters first); instructions go on in
 * stack-machine order, exactly as the binary format reads.
 * @example
 * // (i32 n) -> i32: sum of 0..n-1
 * m.fn('sum', ['i32'], ['i32'], (f) => {
 *   const i = f.local('i32');
 *   const acc = f.local('i32');
 *   f.forRange(i, () => f.i32(0), () => f.get(0), 1, () => void f.get(acc).get(i).op('i32.add').set(acc));
 *   f.get(acc);
 * });
 */
export class FnBuilder {
  readonly code: number[] = [];
  readonly localTypes: ValType[] = [];
  private readonly nParams: number;

  constructor(nParams: number) {
    this.nParams = nParams;
  }

  /** Declare a local; returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }

  /** Emit instructions that take no immediates. */
  op(...names: Op[]): this {
    for (const n of names) this.code.push(...opBytes(n));
    return this;
  }
  get(l: number): this { this.code.push(0x20, ...uleb(l)); return this; }
  set(l: number): this { this.code.push(0x21, ...uleb(l)); return this; }
  tee(l: number): this { this.code.push(0x22, ...uleb(l)); return this; }
  i32(v: number): this { this.code.push(0x41, ...sleb(v)); return this; }
  f32(v: number): this {
    f32Scratch.setFloat32(0, v, true);
    this.code.push(0x43, ...new Uint8Array(f32Scratch.buffer, 0, 4));
    return this;
  }
  f64(v: number): this {
    f32Scratch.setFloat64(0, v, true);
    this.code.push(0x44, ...new Uint8Array(f32Scratch.buffer, 0, 8));
    return this;
  }
  /** A load or store with a constant byte `offset` (added to the address on the stack). */
  mem(name: Op, offset = 0): this {
    const align = NATURAL_ALIGN[name];
    if (align === undefined) throw new Error(`internal: ${name} is not a memory op`);
    this.code.push(...opBytes(name), ...uleb(align), ...uleb(offset));
    return this;
  }
  /** A lane store (`v128.store64_lane`): memarg, then the lane index. */
  memLane(name: 'v128.store64_lane', offset: number, lane: number): this {
    this.mem(name, offset);
    this.code.push(lane);
    return this;
  }
  /** `i8x16.shuffle` of f32 lanes: 0-3 pick from the first operand, 4-7 from the second. */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    return this.shuffle(lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]));
  }
  /** Lane extract/replace ops carry the lane index. */
  lane(name: 'f32x4.extract_lane' | 'f32x4.replace_lane' | 'f64x2.extract_lane', lane: number): this {
    this.code.push(...opBytes(name), lane);
    return this;
  }
  /** `i8x16.shuffle` with 16 byte selectors (0-15 pick from the first operand, 16-31 the second). */
  shuffle(bytes: readonly number[]): this {
    this.code.push(0xfd, 0x0d, ...bytes);
    return this;
  }
  /** `v128.const` holding four i32 lanes. */
  i32x4(a: number, b = a, c = a, d = a): this {
    this.code.push(0xfd, 0x0c);
    const dv = new DataView(new ArrayBuffer(16));
    [a, b, c, d].forEach((v, i) => dv.setInt32(i * 4, v, true));
    this.code.push(...new Uint8Array(dv.buffer));
    return this;
  }
  /** `v128.const` holding four equal f32 lanes. */
  f32x4(v: number): this {
    this.code.push(0xfd, 0x0c);
    const dv = new DataView(new ArrayBuffer(16));
    for (let i = 0; i < 4; i++) dv.setFloat32(i * 4, v, true);
    this.code.push(...new Uint8Array(dv.buffer));
    return this;
  }
  call(index: number): this { this.code.push(0x10, ...uleb(index)); return this; }
  br(depth: number): this { this.code.push(0x0c, ...uleb(depth)); return this; }
  brIf(depth: number): this { this.code.push(0x0d, ...uleb(depth)); return this; }

  block(body: () => void): this { this.code.push(0x02, 0x40); body(); this.code.push(0x0b); return this; }
  loop(body: () => void): this { this.code.push(0x03, 0x40); body(); this.code.push(0x0b); return this; }
  /** `if` on the i32 on the stack, with an optional `else`. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    then();
    if (otherwise) { this.code.push(0x05); otherwise(); }
    this.code.push(0x0b);
    return this;
  }

  /**
   * `for (i = start; i < end; i += step) body()` as a guarded do-while (one compare per trip).
   * `start` and `end` push an i32; `end` is re-evaluated each trip, so pass a local or constant.
   */
  forRange(i: number, start: () => void, end: () => void, step: number, body: () => void): this {
    start();
    this.set(i);
    this.get(i); end(); this.op('i32.lt_s');
    return this.if(() => this.loop(() => {
      body();
      this.get(i).i32(step).op('i32.add').tee(i);
      end();
      this.op('i32.lt_s').brIf(0);
    }));
  }

  /** Increment an i32 local by a constant. */
  inc(l: number, by: number): this {
    return this.get(l).i32(by).op('i32.add').set(l);
  }

  /** The encoded body: locals (run-length grouped) then code then `end`. */
  body(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const bytes = [...uleb(groups.length)];
    for (const [n, t] of groups) bytes.push(...uleb(n), VALTYPE[t]);
    append(bytes, this.code);
    bytes.push(0x0b);
    const out = uleb(bytes.length);
    append(out, bytes);
    return out;
  }
}

interface FnDef {
  readonly name: string;
  readonly type: number;
  readonly builder: FnBuilder;
  readonly exported: boolean;
}

/**
 * Memory import limits: pages of 64 KiB; `shared` needs a maximum.
 * @example
 * new ModuleBuilder({ initial: 1, maximum: 65536, shared: true });
 */
export interface MemoryLimits {
  readonly initial: number;
  readonly maximum: number;
  readonly shared: boolean;
}

/**
 * Collects function types and bodies; {@link bytes} returns the module binary.
 * @example
 * const m = new ModuleBuilder();
 * m.fn('twice', ['f32'], ['f32'], (f) => void f.get(0).get(0).op('f32.add'));
 * WebAssembly.validate(m.bytes()); // true
 */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly fns: FnDef[] = [];
  private readonly memory: MemoryLimits;

  constructor(memory: MemoryLimits = { initial: 1, maximum: 65536, shared: false }) {
    this.memory = memory;
  }

  /** Index of a function by name (for `call`). */
  indexOf(name: string): number {
    const i = this.fns.findIndex((f) => f.name === name);
    if (i < 0) throw new Error(`internal: unknown wasm function ${name}`);
    return i;
  }

  /**
   * Define a function; `build` emits its body (params are locals 0..n-1). Functions are exported
   * by name unless `exported` is false; define callees before their callers.
   */
  fn(name: string, params: readonly ValType[], results: readonly ValType[], build: (f: FnBuilder) => void, exported = true): number {
    const sig = `${params.join(',')}->${results.join(',')}`;
    let type = this.types.indexOf(sig);
    if (type < 0) type = this.types.push(sig) - 1;
    const builder = new FnBuilder(params.length);
    build(builder);
    return this.fns.push({ name, type, builder, exported }) - 1;
  }

  bytes(): Uint8Array {
    const section = (id: number, payload: number[]): number[] => {
      const out = [id, ...uleb(payload.length)];
      append(out, payload);
      return out;
    };
    const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
    const vec = (items: number[][]): number[] => {
      const out = uleb(items.length);
      for (const item of items) append(out, item);
      return out;
    };

    const typeSec = vec(this.types.map((sig) => {
      const [ps, rs] = sig.split('->') as [string, string];
      const list = (s: string) => vec(s ? s.split(',').map((t) => [VALTYPE[t as ValType]]) : []);
      return [0x60, ...list(ps), ...list(rs)];
    }));
    const { initial, maximum, shared } = this.memory;
    const importSec = vec([[...str('env'), ...str('memory'), 0x02, shared ? 0x03 : 0x01, ...uleb(initial), ...uleb(maximum)]]);
    const funcSec = vec(this.fns.map((f) => uleb(f.type)));
    const exportSec = vec(this.fns.flatMap((f, i) => (f.exported ? [[...str(f.name), 0x00, ...uleb(i)]] : [])));
    const codeSec = vec(this.fns.map((f) => f.builder.body()));
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    for (const [id, payload] of [[1, typeSec], [2, importSec], [3, funcSec], [7, exportSec], [10, codeSec]] as const) {
      append(out, section(id, payload));
    }
    return new Uint8Array(out);
  }
}
