/**
 * Optimizers, learning-rate schedulers and weight averaging, following torch.optim.
 * @example
 * import { optim } from 'tensorgrad';
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 10, gamma: 0.5 });
 */
export { Optimizer, type OptimizerOptions, type OptimizerStateDict, type ParamGroup, type ParamGroupInput, type ParamsArg, type RemovableHandle, type SchedulerFields } from './optimizer.js';
export { stateFromJSON, stateToJSON, type JsonValue, type StateRecord, type StateValue } from './state.js';
export { SGD, SGD_DEFAULTS, sgdUpdate, type SGDOptions, type SGDState } from './sgd.js';
export { Adam, ADAM_DEFAULTS, adamUpdate, type AdamOptions, type AdamState } from './adam.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWOptions, type AdamWState } from './adamw.js';
export { Adagrad, ADAGRAD_DEFAULTS, adagradUpdate, type AdagradOptions, type AdagradState } from './adagrad.js';
export { Adadelta, ADADELTA_DEFAULTS, adadeltaUpdate, type AdadeltaOptions, type AdadeltaState } from './adadelta.js';
export { Adamax, ADAMAX_DEFAULTS, adamaxUpdate, type AdamaxOptions, type AdamaxState } from './adamax.js';
export { NAdam, NADAM_DEFAULTS, nadamUpdate, type NAdamOptions, type NAdamState } from './nadam.js';
export { RAdam, RADAM_DEFAULTS, radamUpdate, type RAdamOptions, type RAdamState } from './radam.js';
export { RMSprop, RMSPROP_DEFAULTS, rmspropUpdate, type RMSpropOptions, type RMSpropState } from './rmsprop.js';
export { Rprop, RPROP_DEFAULTS, rpropUpdate, type RpropOptions, type RpropState } from './rprop.js';
export { ASGD, ASGD_DEFAULTS, asgdUpdate, type ASGDOptions, type ASGDState } from './asgd.js';
export { LBFGS, LBFGS_DEFAULTS, type LBFGSOptions, type LBFGSState } from './lbfgs.js';
export { cubicInterpolate, strongWolfe, type DirectionalObjective, type StrongWolfeResult } from './line-search.js';
export type { FloatArray } from './flat.js';
export * as lrScheduler from './lr-scheduler.js';
export * as swaUtils from './swa-utils.js';
export * from './extras.js';
