/** Global grad mode, as torch.no_grad / enable_grad / set_grad_enabled. */
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Turn gradient recording on or off globally (`torch.set_grad_enabled`). With a function, runs
 * it in that mode and restores the previous one afterwards, also on throw.
 */
export function setGradEnabled(mode: boolean): void;
export function setGradEnabled<T>(mode: boolean, fn: () => T): T;
export function setGradEnabled<T>(mode: boolean, fn?: () => T): T | void {
  if (!fn) {
    enabled = mode;
    return;
  }
  return runInMode(mode, fn, 'setGradEnabled');
}

function runInMode<T>(mode: boolean, fn: () => T, name: string): T {
  const prev = enabled;
  enabled = mode;
  let result: T;
  try {
    result = fn();
  } finally {
    enabled = prev;
  }
  rejectThenable(result, name);
  return result;
}

/**
 * Grad mode is a global switch, restored when `fn` returns: an async `fn` would run its code
 * after the first `await` in whatever mode is current then, so it is refused (as `tg.scope()`).
 */
function rejectThenable(result: unknown, name: string): void {
  const then = (result as { then?: unknown } | null)?.then;
  if (typeof then !== 'function') return;
  // The caller never sees this promise: keep a later rejection from going unhandled.
  (then as (ok: () => void, err: () => void) => unknown).call(result, () => undefined, () => undefined);
  throw new TypeError(
    `tg.${name}() expects a synchronous function: grad mode cannot span an await (the code after it would run in whatever mode is current then).\n` +
      `- help: await outside and wrap only the synchronous tensor work, e.g. const batch = await next(); const loss = tg.${name === 'setGradEnabled' ? 'setGradEnabled(false, ' : `${name}(`}() => model.call(batch));`,
  );
}

/**
 * Run `fn` without recording operations for autograd (`with torch.no_grad():`).
 * NOTE: `fn` must be synchronous (an async `fn` throws a TypeError): await outside and wrap
 * only the synchronous tensor work.
 * @example
 * tg.noGrad(() => w.sub_(w.grad!.mul(0.1)));
 */
export function noGrad<T>(fn: () => T): T {
  return runInMode(false, fn, 'noGrad');
}

/**
 * Run `fn` with gradient recording on, even inside `noGrad` (`torch.enable_grad`); `fn` must
 * be synchronous.
 * @example
 * const loss = tg.enableGrad(() => model.call(x).sum());
 */
export function enableGrad<T>(fn: () => T): T {
  return runInMode(true, fn, 'enableGrad');
}

let anomaly = false;

/** Whether anomaly detection is on (see `detectAnomaly`). */
export function isAnomalyEnabled(): boolean {
  return anomaly;
}

/**
 * Anomaly detection (`torch.autograd.detect_anomaly`): while on, every backward function's
 * results are checked and the first op whose gradient holds NaN or Inf is named in the error.
 * Call with a function to scope it, or with a boolean to switch it globally.
 */
export function detectAnomaly(mode: boolean): void;
export function detectAnomaly<T>(fn: () => T): T;
export function detectAnomaly<T>(arg: boolean | (() => T)): T | void {
  if (typeof arg === 'boolean') {
    anomaly = arg;
    return;
  }
  const prev = anomaly;
  anomaly = true;
  try {
    return arg();
  } finally {
    anomaly = prev;
  }
}
