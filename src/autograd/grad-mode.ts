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
  const prev = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Run `fn` without recording operations for autograd (`with torch.no_grad():`).
 * NOTE: the mode is restored when `fn` returns; for async work, await inside and keep the
 * tensor ops themselves synchronous within `fn`.
 * @example
 * tg.noGrad(() => w.sub_(w.grad!.mul(0.1)));
 */
export function noGrad<T>(fn: () => T): T {
  return setGradEnabled(false, fn);
}

/** Run `fn` with gradient recording on, even inside `noGrad` (`torch.enable_grad`). */
export function enableGrad<T>(fn: () => T): T {
  return setGradEnabled(true, fn);
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
