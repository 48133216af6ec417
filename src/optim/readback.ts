/**
 * Host algorithms on devices whose readback is asynchronous. LBFGS, Newton and NewtonCG read
 * the loss and flat gradients on every closure evaluation and branch on them (as PyTorch's
 * LBFGS calls `float(loss)`), which WebGPU can only do with `await t.data()`. Each is written
 * once, as a generator that yields what it needs from the outside world (a tensor's elements,
 * a closure evaluation) and is resumed with the answer:
 * ```
 * const loss = yield* call(closure, true);   // evaluate the closure with gradients on
 * const g = yield* read(p.grad);             // p.grad's elements as a flat float array
 * ```
 * `runSync` answers synchronously (`opt.step(closure)`: `dataSync()`), `runAsync` with awaits
 * (`await opt.stepAsync(closure)`: `await t.data()`, awaited closures). Writes to the device
 * (`overwrite`) are uploads and stay synchronous everywhere.
 */
import { isGradEnabled, setGradEnabled } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/backend/backend.js';
import { backendOf } from '../tensor/backend/device.js';
import { gpu } from '../tensor/backend/gpujs/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { floatArrayLike, readFloats, type FloatArray } from './flat.js';

/** What a host algorithm asks its driver for. */
export type HostRequest =
  | { readonly kind: 'read'; readonly tensor: Tensor }
  | { readonly kind: 'call'; readonly fn: () => unknown; readonly grad: boolean };

/** A host algorithm (or a part of one) returning `R`: `yield*` it from another. */
export type HostSteps<R> = Generator<HostRequest, R, unknown>;

/**
 * The elements of `t` as a flat float array (see `readFloats`: for a contiguous CPU tensor, its
 * storage itself, not to be written).
 * @example
 * function* gradNorm(p: Tensor): HostSteps<number> { return Math.hypot(...(yield* read(p.grad!))); }
 */
export function* read(t: Tensor): HostSteps<FloatArray> {
  return (yield { kind: 'read', tensor: t }) as FloatArray;
}

/**
 * The value of a one-element tensor (`t.item()`).
 * @example
 * const f0 = yield* item(loss);
 */
export function* item(t: Tensor): HostSteps<number> {
  if (t.numel() !== 1) throw new RangeError(`a Tensor with ${t.numel()} elements cannot be converted to Scalar`);
  return (yield* read(t))[0]!;
}

/**
 * Call `fn` with gradient recording on or off and return its (awaited, under `runAsync`) result.
 * NOTE: an async `fn` runs its code after its first `await` in the caller's grad mode (grad mode
 * is global and cannot span an await).
 * @example
 * const loss = yield* call(closure, true);
 */
export function* call(fn: () => unknown, grad: boolean): HostSteps<unknown> {
  return yield { kind: 'call', fn, grad };
}

/**
 * Overwrite the elements of float tensor `t` with `data` (no readback: an upload off the CPU)
 * and bump its version, as an in-place op would.
 * @example
 * overwrite(w, Float32Array.of(1, 2, 3));
 */
export function overwrite(t: Tensor, data: ArrayLike<number>): void {
  const n = t.numel();
  if (t.device === 'cpu' && t.isContiguous()) {
    const own = t.storage.data;
    if (own instanceof Float32Array || own instanceof Float64Array) {
      for (let i = 0; i < n; i++) own[t.offset + i] = data[i]!;
      t.storage.version++;
      return;
    }
  }
  if (!t.isFloatingPoint()) throw new TypeError(`optimizers update floating point tensors only, but got a tensor of dtype ${t.dtype}`);
  const a = floatArrayLike(t, n);
  for (let i = 0; i < n; i++) a[i] = data[i]!;
  const be = backendOf(t);
  be.copyInto(t, be.fromArray(a, t.shape));
  t.storage.version++;
}

/**
 * Whether tensors on `device` can be read synchronously (`dataSync()`, `item()`): not on the
 * gpu device's WebGPU backend (`tg.gpu.info().syncReadback`).
 * @example
 * readsSync('cpu'); // true
 */
export function readsSync(device: Device): boolean {
  return device === 'cpu' || !gpu.isAvailable() || gpu.info().syncReadback;
}

/**
 * Throw, before any work, when some tensor lives on a device without synchronous readback:
 * `name`'s `step()` reads values on the host, so it needs `await opt.stepAsync(closure)` there.
 * @example
 * requireSyncReadback('LBFGS', params); // throws on WebGPU, naming stepAsync
 */
export function requireSyncReadback(name: string, tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    if (readsSync(t.device)) continue;
    throw new Error(
      `${name}.step() reads the loss and gradients on the host, and synchronous readback is not possible on the ${gpu.info().backend} backend: ` +
        `use \`await opt.stepAsync(closure)\` instead of opt.step(closure).`,
    );
  }
}

/**
 * `fn()` with gradient recording on or off, restored on return, which may be a Promise (unlike
 * `enableGrad`/`noGrad`, which refuse one): the code after the promise's first `await` runs in
 * whatever mode is current then.
 */
function withGradMode<T>(grad: boolean, fn: () => T): T {
  const prev = isGradEnabled();
  setGradEnabled(grad);
  try {
    return fn();
  } finally {
    setGradEnabled(prev);
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/**
 * Run `steps` synchronously (`opt.step()`); `name` is the optimizer, for errors.
 * @example
 * const loss = runSync(this.steps(closure), 'LBFGS');
 */
export function runSync<R>(steps: HostSteps<R>, name: string): R {
  let r = steps.next();
  while (!r.done) {
    const req = r.value;
    let answer: unknown;
    if (req.kind === 'read') {
      answer = readFloats(req.tensor);
    } else {
      answer = withGradMode(req.grad, req.fn);
      if (isThenable(answer)) {
        // The caller never sees this promise: keep a later rejection from going unhandled.
        answer.then(() => undefined, () => undefined);
        throw new TypeError(`${name}.step(): the closure returned a Promise; use \`await opt.stepAsync(closure)\` for an async closure`);
      }
    }
    r = steps.next(answer);
  }
  return r.value;
}

/**
 * Run `steps`, awaiting readbacks (`await t.data()`) and closures (`opt.stepAsync()`).
 * @example
 * const loss = await runAsync(this.steps(closure));
 */
export async function runAsync<R>(steps: HostSteps<R>): Promise<R> {
  let r = steps.next();
  while (!r.done) {
    const req = r.value;
    let answer: unknown;
    if (req.kind === 'read') {
      const t = req.tensor;
      // CPU tensors exactly as runSync reads them (the same numbers, step for step).
      answer = t.device === 'cpu' ? readFloats(t) : asFloats(await t.data());
    } else {
      answer = await withGradMode(req.grad, req.fn);
    }
    r = steps.next(answer);
  }
  return r.value;
}

function asFloats(data: ArrayLike<number>): FloatArray {
  return data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data);
}
