/**
 * Curve shapes shared by the schedulers: plain functions of the progress, written with
 * PyTorch's exact formulas (the rounding matches torch.optim.lr_scheduler's).
 */

/** Cosine from `start` (pct 0) to `end` (pct 1): `end + (start − end)/2 · (cos(π·pct) + 1)` (OneCycleLR). */
export function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2.0) * cosOut;
}

/** Straight line from `start` (pct 0) to `end` (pct 1) (OneCycleLR). */
export function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

/** Cosine ramp from 0 to 1 as `t` goes from 0 to 1: `(1 − cos(π·t))/2` (SWALR). */
export function rampCos(t: number): number {
  return (1 - Math.cos(Math.PI * t)) / 2;
}

/** Linear ramp from 0 to 1 (SWALR). */
export function rampLinear(t: number): number {
  return t;
}

/** Cosine annealing between `base` and `etaMin` over a period `T`: `ηmin + (base − ηmin)·(1 + cos(π·t/T))/2`. */
export function cosineAnnealing(base: number, etaMin: number, t: number, T: number): number {
  return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / T))) / 2;
}
