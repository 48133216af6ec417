/**
 * Per-step scalar schedules shared by the CPU optimizers and the device step (device-step.ts,
 * which those optimizers call), kept apart so neither imports the other.
 */
import type { ASGDOptions } from './asgd.js';

/**
 * NAdam's momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)).
 * @example
 * nadamMu(0.9, 1, 4e-3); // 0.9 · (1 − ½·0.96^0.004)
 */
export function nadamMu(beta1: number, step: number, momentumDecay: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
}

/**
 * ASGD's η and μ after `step` steps (torch.optim.ASGD): η = lr / (1 + λ·lr·t)^α, μ = 1 / max(1, t − t0).
 * @example
 * asgdSchedule(1, { ...ASGD_DEFAULTS, lr: 0.01 }); // { eta: ..., mu: 1 }
 */
export function asgdSchedule(step: number, o: ASGDOptions): { eta: number; mu: number } {
  return { eta: o.lr / (1 + o.lambd * o.lr * step) ** o.alpha, mu: 1 / Math.max(1, step - o.t0) };
}
