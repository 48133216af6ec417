/**
 * The second part of `optim`: optimizers and tools beyond torch.optim 1.13 — wrappers (SAM,
 * Lookahead), second-order and natural-gradient methods (Shampoo, Newton, NewtonCG, KFAC,
 * DiagonalFisher), variance reduction (SVRG, SAG, SAGA), recent optimizers (Lion, LAMB, LARS,
 * Adafactor, Muon, Schedule-Free), weight averaging (EMA, PolyakAveraging) and batch-size
 * schedules. See docs/optimizers-advanced.md.
 * @example
 * import { optim } from 'tensorgrad';
 * const opt = new optim.SAM(new optim.SGD(model.parameters(), { lr: 0.1 }), { rho: 0.05 });
 */
export { OptimizerWrapper } from './wrapper.js';
export { SAM, SAM_DEFAULTS, type SAMOptions, type SAMState } from './sam.js';
export { Lookahead, LOOKAHEAD_DEFAULTS, type LookaheadOptions, type LookaheadState, type LookaheadStateDict } from './lookahead.js';
export {
  Shampoo, SHAMPOO_DEFAULTS, matrixInversePthRoot, type InverseRootOptions, type ShampooGrafting, type ShampooOptions, type ShampooState,
} from './shampoo.js';
export { Newton, NewtonCG, NEWTON_DEFAULTS, NEWTON_CG_DEFAULTS, type NewtonCGOptions, type NewtonOptions, type NewtonState } from './newton.js';
export {
  DiagonalFisher, KFAC, DIAGONAL_FISHER_DEFAULTS, KFAC_DEFAULTS,
  type DiagonalFisherOptions, type KFACOptions, type NaturalGradientArgs, type NaturalGradientOptions, type NaturalGradientState,
} from './kfac.js';
export {
  SAG, SAGA, SVRG, SAG_DEFAULTS, SAGA_DEFAULTS, SVRG_DEFAULTS,
  type SAGAOptions, type SAGAState, type SAGOptions, type SAGState, type SampleLoss, type SVRGOptions, type SVRGState,
  type VarianceReductionArgs, type VarianceReductionOptions,
} from './variance-reduction.js';
export { Lion, LION_DEFAULTS, lionUpdate, type LionOptions, type LionState } from './lion.js';
export { LAMB, LAMB_DEFAULTS, lambUpdate, type LAMBOptions, type LAMBState } from './lamb.js';
export { LARS, LARS_DEFAULTS, larsUpdate, type LARSOptions, type LARSState } from './lars.js';
export { Adafactor, ADAFACTOR_DEFAULTS, adafactorUpdate, finfoEps, type AdafactorOptions, type AdafactorState } from './adafactor.js';
export { Muon, MUON_DEFAULTS, muonAdjustedLr, zeropowerViaNewtonSchulz, type MuonAdjustLr, type MuonOptions, type MuonState } from './muon.js';
export {
  ScheduleFreeAdamW, ScheduleFreeSGD, SCHEDULE_FREE_ADAMW_DEFAULTS, SCHEDULE_FREE_SGD_DEFAULTS,
  type ScheduleFreeAdamWOptions, type ScheduleFreeAdamWState, type ScheduleFreeCommon, type ScheduleFreeSGDOptions, type ScheduleFreeSGDState,
} from './schedule-free.js';
export { EMA, PolyakAveraging, type AveragingSource, type AveragingStateDict, type EMAOptions } from './ema.js';
export { BatchSizeScheduler, type BatchSizeMode, type BatchSizeSchedulerOptions, type BatchSizeSource } from './batch-size.js';
export { choleskyFactor, choleskyInverse, choleskySolve, dampedSolve } from './dense.js';
