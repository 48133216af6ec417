/**
 * Option validation with PyTorch's messages (`Invalid learning rate: -0.1`), built in one place.
 * PyTorch raises ValueError for these; we throw RangeError (STYLE.md §9).
 */

/** A number printed as Python's `str(float)` would print it (`1e-08`, `-0.1`, `inf`). */
export function pyNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [mantissa = '', exp = '0'] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(x);
}

/** Throw `Invalid learning rate: <lr>` unless `lr >= 0` (NaN fails, as `not 0.0 <= lr`). */
export function checkLr(lr: number): void {
  if (!(lr >= 0)) throw new RangeError(`Invalid learning rate: ${pyNumber(lr)}`);
}

/** Throw `Invalid epsilon value: <eps>` unless `eps >= 0`. */
export function checkEps(eps: number): void {
  if (!(eps >= 0)) throw new RangeError(`Invalid epsilon value: ${pyNumber(eps)}`);
}

/** Throw `Invalid <name> value: <v>` unless `v >= 0` (weight_decay, momentum, lr_decay, ...). */
export function checkNonNegative(name: string, v: number): void {
  if (!(v >= 0)) throw new RangeError(`Invalid ${name} value: ${pyNumber(v)}`);
}

/** Throw `Invalid beta parameter at index i: <b>` unless both betas are in [0, 1). */
export function checkBetas(betas: readonly [number, number]): void {
  betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) throw new RangeError(`Invalid beta parameter at index ${i}: ${pyNumber(b)}`);
  });
}
