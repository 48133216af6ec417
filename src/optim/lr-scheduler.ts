/**
 * Learning-rate schedulers, following torch.optim.lr_scheduler (`optim.lrScheduler`).
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 1000 });
 * for (const batch of batches) { trainStep(batch); opt.step(); sched.step(); }
 */
export { LRScheduler, type LRSchedulerOptions, type SchedulerOptimizer, type SchedulerStateDict } from './lr-scheduler/base.js';
export {
  ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR,
  type ConstantLROptions, type CosineAnnealingLROptions, type ExponentialLROptions, type LambdaLROptions, type LinearLROptions,
  type LrLambda, type MultiStepLROptions, type PolynomialLROptions, type StepLROptions,
} from './lr-scheduler/basic.js';
export { ChainedScheduler, SequentialLR, type SequentialLROptions } from './lr-scheduler/compose.js';
export {
  CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR,
  type CosineAnnealingWarmRestartsOptions, type CyclicLROptions, type CyclicMode, type OneCycleLROptions,
} from './lr-scheduler/cyclic.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './lr-scheduler/plateau.js';
export { annealCos, annealLinear, cosineAnnealing, rampCos, rampLinear } from './lr-scheduler/curves.js';
