/** `tg.autograd`: the engine entry points, functional transforms and gradient checks. */
export { backward, grad, type BackwardOptions, type GradOptions } from './engine.js';
export { detectAnomaly, enableGrad, isAnomalyEnabled, isGradEnabled, noGrad, setGradEnabled } from './grad-mode.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './gradcheck.js';
export * as functional from './functional.js';
