/**
 * Deterministic release of device memory. JavaScript has no reference counts a library can see,
 * so tensors on the gpu device are freed when their last owner calls `dispose()`, when a
 * `scope()` they were created in returns, or (late) by the garbage collector. The same holds for
 * large float32 CPU tensors made inside a scope, which live in WebAssembly memory (the fast path
 * then skips copies); other CPU tensors are ordinary arrays, garbage-collected as usual.
 */

/** Anything a scope can release: tensors on a device. */
export interface Disposable {
  dispose(): void;
}

interface Frame {
  readonly tracked: Set<Disposable>;
}

const stack: Frame[] = [];
/** Tensors that escape every scope (`keep`, gradients owned by their leaf). */
const kept = new WeakSet<Disposable>();

/**
 * @internal Whether a `scope()` is running: storage made now has a known end (the scope's return,
 * or `dispose()`), so the CPU backend may place it in WebAssembly memory.
 */
export function inScope(): boolean {
  return stack.length > 0;
}

/** @internal Called when a device tensor is created: the innermost scope will release it. */
export function trackInScope(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top && !kept.has(t)) top.tracked.add(t);
}

/**
 * @internal The tensors referencing a storage whose memory is freed explicitly (gpu buffers,
 * wasm-memory blocks): counted, each owner released once, each owner tracked by the innermost
 * scope so the scope's end releases it.
 * @example
 * const owners = new Owners();
 * owners.retain(tensor);
 * if (owners.release(tensor)) freeTheBuffer();
 */
export class Owners {
  private n = 0;
  private readonly released = new WeakSet<object>();

  /** References still held. */
  get count(): number {
    return this.n;
  }

  /** A tensor took a reference (the Tensor constructor calls its storage's `retain`). */
  retain(owner: object): void {
    this.n++;
    trackInScope(owner as Disposable);
  }

  /** A tensor let go (`dispose()`, scope end); true when that was the last reference. */
  release(owner: object): boolean {
    if (this.released.has(owner)) return false;
    this.released.add(owner);
    this.n--;
    return this.n <= 0;
  }
}

/**
 * Keep a tensor alive past every enclosing `scope()` (as tfjs's `keep`); it is then freed by
 * `dispose()` or the garbage collector.
 * @example
 * const w = tg.scope(() => tg.keep(tg.randn([256, 256], { device: 'gpu' })));
 */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const f of stack) f.tracked.delete(t);
  return t;
}

/** Collect the disposables reachable from a scope's result (tensors, arrays, plain objects). */
function collect(v: unknown, out: Set<unknown>, depth: number): void {
  if (typeof v !== 'object' || v === null || depth > 4 || out.has(v)) return;
  out.add(v);
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, depth + 1);
}

/**
 * Run `fn` and release the device memory of every tensor created inside it, except the tensors
 * it returns (alone, or in arrays and plain objects), gradients accumulated into `.grad`, and
 * tensors passed to `keep()`. Returned tensors move to the enclosing scope. Use it around a
 * training step the way PyTorch code relies on reference counting: intermediates (activations,
 * the graph's saved tensors, temporaries of backward and the optimizer) are freed when the step
 * returns. On the CPU it makes the step faster: large float32 results made inside it live in
 * WebAssembly memory, so the kernels read and write them in place and nothing is left for the
 * garbage collector (using such a tensor after the scope throws, as on the gpu). `fn` must be
 * synchronous.
 * @example
 * for (let step = 0; step < 1000; step++) {
 *   const loss = tg.scope(() => {
 *     const loss = model(x).sub(y).square().mean();
 *     opt.zeroGrad(); loss.backward(); opt.step();
 *     return loss;
 *   });
 *   loss.dispose();
 * }
 */
export function scope<T>(fn: () => T): T {
  const frame: Frame = { tracked: new Set() };
  stack.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    release(frame, new Set());
    throw e;
  }
  stack.pop();
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    release(frame, new Set());
    throw new TypeError('tg.scope() expects a synchronous function: await outside the scope, and wrap the synchronous part');
  }
  const keepSet = new Set<unknown>();
  collect(result, keepSet, 0);
  release(frame, keepSet);
  const parent = stack[stack.length - 1];
  if (parent) for (const t of frame.tracked) if (keepSet.has(t)) parent.tracked.add(t);
  return result;
}

function release(frame: Frame, keepSet: Set<unknown>): void {
  for (const t of frame.tracked) if (!keepSet.has(t) && !kept.has(t)) t.dispose();
}

/** @internal Mark a gradient as owned by its leaf: it escapes scopes and is freed when replaced. */
export function adoptGradient(g: Disposable): void {
  keep(g);
  owned.add(g);
}

const owned = new WeakSet<Disposable>();

/** @internal Whether `g` is a gradient autograd created (and may free when it is replaced). */
export function isOwnedGradient(g: Disposable): boolean {
  return owned.has(g);
}
