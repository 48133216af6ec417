/**
 * Just enough of vitest's API (describe/it/beforeAll/afterAll, `expect` with the matchers the
 * device suites use, `assert.fail`) to run those suites unchanged inside headless Chromium:
 * run.mjs bundles them with `vitest` aliased to this file. `run()` executes what was registered,
 * in order, and returns one result per test.
 */
type Fn = () => unknown;

interface Suite {
  readonly title: string;
  readonly skip: boolean;
  readonly before: Fn[];
  readonly after: Fn[];
  readonly items: (Suite | Test)[];
}
interface Test {
  readonly title: string;
  readonly fn: Fn;
  readonly skip: boolean;
}

export interface ShimResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

const root: Suite = { title: '', skip: false, before: [], after: [], items: [] };
let current = root;

function addSuite(title: string, fn: () => void, skip: boolean): void {
  const s: Suite = { title, skip, before: [], after: [], items: [] };
  current.items.push(s);
  const parent = current;
  current = s;
  try {
    fn();
  } finally {
    current = parent;
  }
}

export const describe = Object.assign((title: string, fn: () => void) => addSuite(title, fn, false), {
  skip: (title: string, fn: () => void) => addSuite(title, fn, true),
});
/** vitest's title formatting for `it.each`: `%s`/`%i`/`%d`/`%j` take the case (or its next element). */
function format(title: string, args: readonly unknown[]): string {
  let k = 0;
  return title.replace(/%[sidj%]/g, (m) => (m === '%%' ? '%' : m === '%j' ? show(args[k++]) : String(args[k++])));
}

export const it = Object.assign((title: string, fn: Fn) => void current.items.push({ title, fn, skip: false }), {
  skip: (title: string, fn: Fn) => void current.items.push({ title, fn, skip: true }),
  each: <T>(cases: readonly T[]) => (title: string, fn: (...args: never[]) => unknown) => {
    for (const c of cases) {
      const args = Array.isArray(c) ? c : [c];
      current.items.push({ title: format(title, args), fn: () => (fn as (...a: unknown[]) => unknown)(...args), skip: false });
    }
  },
});
export const test = it;
export const beforeAll = (fn: Fn): void => void current.before.push(fn);
export const afterAll = (fn: Fn): void => void current.after.push(fn);

/** Run every registered suite and test in order; `filter` keeps tests whose full name matches. */
export async function run(filter?: RegExp, onResult?: (r: ShimResult) => void): Promise<ShimResult[]> {
  const results: ShimResult[] = [];
  /** Whether `s` (its full name starting with `prefix`) has a test that runs. */
  const runs = (s: Suite, prefix: string): boolean => {
    if (s.skip) return false;
    const name = s.title ? `${prefix}${s.title} > ` : prefix;
    return s.items.some((x) => ('items' in x ? runs(x, name) : !x.skip && (!filter || filter.test(`${name}${x.title}`))));
  };
  const walk = async (s: Suite, prefix: string): Promise<void> => {
    if (s.skip) return;
    const name = s.title ? `${prefix}${s.title} > ` : prefix;
    if (!runs(s, prefix)) return;
    let setupError: unknown = null;
    for (const f of s.before) {
      try {
        await f();
      } catch (e) {
        setupError = e;
        break;
      }
    }
    for (const item of s.items) {
      if ('items' in item) {
        await walk(item, name);
        continue;
      }
      if (item.skip || (filter && !filter.test(`${name}${item.title}`))) continue;
      const t0 = performance.now();
      try {
        if (setupError) throw setupError;
        await item.fn();
        results.push({ name: `${name}${item.title}`, ok: true, ms: performance.now() - t0 });
      } catch (e) {
        results.push({ name: `${name}${item.title}`, ok: false, error: String((e as Error).stack ?? e), ms: performance.now() - t0 });
      }
      onResult?.(results[results.length - 1]!);
    }
    for (const f of s.after) await f();
  };
  await walk(root, '');
  return results;
}

class AssertionError extends Error {}

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Set) return `Set(${show([...v])})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${show(Array.from(v as unknown as ArrayLike<number>))})`;
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
};

function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((x) => [...b].some((y) => equal(x, y)));
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    return a.constructor === b.constructor && equal(Array.from(a as unknown as ArrayLike<number>), Array.from(b as unknown as ArrayLike<number>));
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function matches(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null) return Object.is(actual, expected) || equal(actual, expected);
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([k, v]) => matches((actual as Record<string, unknown>)[k], v));
}

function thrown(fn: unknown): unknown {
  try {
    (fn as () => unknown)();
  } catch (e) {
    return e;
  }
  throw new AssertionError('expected the function to throw');
}

function checkThrown(e: unknown, pattern?: RegExp | string): void {
  if (pattern === undefined) return;
  const msg = (e as Error)?.message ?? String(e);
  const ok = typeof pattern === 'string' ? msg.includes(pattern) : pattern.test(msg);
  if (!ok) throw new AssertionError(`expected the error ${show(msg)} to match ${String(pattern)}`);
}

export function expect(actual: unknown, message?: string) {
  const fail = (what: string) => {
    throw new AssertionError(`${message ? `${message}: ` : ''}expected ${show(actual)} ${what}`);
  };
  const num = () => actual as number;
  return {
    toBe: (e: unknown) => void (Object.is(actual, e) || fail(`to be ${show(e)}`)),
    toEqual: (e: unknown) => void (equal(actual, e) || fail(`to equal ${show(e)}`)),
    toMatchObject: (e: unknown) => void (matches(actual, e) || fail(`to match ${show(e)}`)),
    toBeNull: () => void (actual === null || fail('to be null')),
    toBeDefined: () => void (actual !== undefined || fail('to be defined')),
    toBeUndefined: () => void (actual === undefined || fail('to be undefined')),
    toBeTruthy: () => void (actual || fail('to be truthy')),
    toBeFalsy: () => void (!actual || fail('to be falsy')),
    toBeLessThan: (e: number) => void (num() < e || fail(`to be less than ${e}`)),
    toBeLessThanOrEqual: (e: number) => void (num() <= e || fail(`to be at most ${e}`)),
    toBeGreaterThan: (e: number) => void (num() > e || fail(`to be greater than ${e}`)),
    toBeGreaterThanOrEqual: (e: number) => void (num() >= e || fail(`to be at least ${e}`)),
    toBeCloseTo: (e: number, digits = 2) => void (Math.abs(num() - e) < 10 ** -digits / 2 || fail(`to be close to ${e}`)),
    toBeInstanceOf: (c: abstract new (...a: never[]) => unknown) => void (actual instanceof c || fail(`to be an instance of ${c.name}`)),
    toHaveLength: (n: number) => void ((actual as { length: number }).length === n || fail(`to have length ${n}`)),
    toContain: (e: unknown) => void ((actual as { includes(x: unknown): boolean }).includes(e) || fail(`to contain ${show(e)}`)),
    toMatch: (p: RegExp | string) => void ((typeof p === 'string' ? String(actual).includes(p) : p.test(String(actual))) || fail(`to match ${String(p)}`)),
    toThrow: (p?: RegExp | string) => checkThrown(thrown(actual), p),
    rejects: {
      toThrow: async (p?: RegExp | string) => {
        try {
          await (actual as Promise<unknown>);
        } catch (e) {
          checkThrown(e, p);
          return;
        }
        throw new AssertionError('expected the promise to reject');
      },
    },
  };
}

/** `vi.spyOn(obj, key).mockReturnValue(v)` and `mockRestore()`: the mocking the device suites use. */
export const vi = {
  spyOn<T extends object, K extends keyof T>(obj: T, key: K) {
    const original = obj[key];
    return {
      mockReturnValue(value: unknown) {
        (obj as Record<K, unknown>)[key] = () => value;
        return this;
      },
      mockRestore() {
        obj[key] = original;
      },
    };
  },
};

export const assert = {
  fail(message?: string): never {
    throw new AssertionError(message ?? 'assert.fail()');
  },
  ok(value: unknown, message?: string): void {
    if (!value) throw new AssertionError(message ?? `expected ${show(value)} to be truthy`);
  },
};
