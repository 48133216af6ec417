/**
 * `tg.nn`: modules, layers, initialisers, losses and the functional API (`nn.functional`).
 * @example
 * import * as tg from 'tensorgrad';
 * const { nn } = tg;
 * const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 3));
 * const loss = new nn.CrossEntropyLoss().call(model.call(x), labels);
 * loss.backward();
 */
export {
  Module, type AnyModule, type ForwardHook, type ForwardPreHook, type IncompatibleKeys, type RemovableHandle, type StateDict,
} from './module.js';
export { Parameter, isParameter, type ParameterConstructor } from './parameter.js';
export {
  Dropout, Embedding, Flatten, Identity, Linear, Unflatten,
  type EmbeddingLayerOptions, type FactoryOptions, type LinearOptions,
} from './layers.js';
export { ModuleDict, ModuleList, Sequential, type TensorModule } from './container.js';
export { AvgPool2d, Conv2d, Fold, MaxPool2d, Unfold, type Conv2dLayerOptions, type PaddingMode } from './conv.js';
export { BatchNorm1d, BatchNorm2d, BatchNormBase, LayerNorm, type BatchNormLayerOptions, type LayerNormLayerOptions } from './norm.js';
export { ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, ReLU, ReLU6, SiLU, Sigmoid, Softmax, Softplus, Tanh } from './activation.js';
export {
  BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, Loss, MSELoss, NLLLoss, SmoothL1Loss,
} from './loss.js';
export * as functional from './functional.js';
export * as init from './init.js';
export * as utils from './utils.js';
