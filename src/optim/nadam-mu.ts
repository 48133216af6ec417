/**
 * NAdam's momentum schedule, on its own so the CPU optimizer (nadam.ts) and the device step
 * (device-step.ts, which nadam.ts calls) share it without importing each other.
 */

/**
 * The momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)).
 * @example
 * nadamMu(0.9, 1, 4e-3); // 0.9 · (1 − ½·0.96^0.004)
 */
export function nadamMu(beta1: number, step: number, momentumDecay: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
}
