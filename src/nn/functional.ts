/**
 * `nn.functional` (PyTorch's `torch.nn.functional`, usually imported as `F`): stateless
 * activations, layers, normalisation, pooling and losses, all composed from differentiable core
 * ops.
 * @example
 * import { nn } from 'tensorgrad';
 * const F = nn.functional;
 * const loss = F.crossEntropy(F.relu(F.linear(x, w, b)), labels, { labelSmoothing: 0.1 });
 */
export {
  elu, gelu, hardtanh, implicitSoftmaxDim, leakyRelu, logSigmoid, logSoftmax, relu, relu6, sigmoid, silu, softmax, softplus, tanh,
  type GeluOptions, type SoftplusOptions,
} from './functional-activation.js';
export { erf } from './functional-erf.js';
export { dropout, embedding, linear, oneHot, type DropoutOptions, type EmbeddingOptions } from './functional-layers.js';
export { conv2d, fold, pad, unfold, type Conv2dOptions, type FoldOptions, type PadMode, type Size2 } from './functional-conv.js';
export { avgPool2d, maxPool2d, maxPool2dWithIndices, type AvgPool2dOptions, type MaxPool2dOptions } from './functional-pool.js';
export { batchNorm, layerNorm, type BatchNormOptions, type LayerNormOptions } from './functional-norm.js';
export {
  bceLoss, binaryCrossEntropyWithLogits, huberLoss, klDiv, l1Loss, mseLoss, smoothL1Loss,
  type BceOptions, type BceWithLogitsOptions, type KlDivOptions, type Reduction, type ReductionOptions,
} from './functional-loss.js';
export { crossEntropy, nllLoss, type CrossEntropyOptions, type NllLossOptions } from './functional-loss-class.js';
/** `bceLoss` under PyTorch's functional name (`F.binary_cross_entropy`). */
export { bceLoss as binaryCrossEntropy } from './functional-loss.js';
