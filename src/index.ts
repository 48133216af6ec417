/**
 * tensorgrad: PyTorch-grade deep learning in TypeScript.
 * @example
 * import * as tg from 'tensorgrad';
 * const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.matmul(x).sum().backward();
 * console.log(x.grad?.toString());
 */
export { Tensor, resultType, type NestedArray, type Scalar, type Shape, type TensorLike, type ValuesIndices, type VarOptions, type Hook } from './tensor/tensor.js';
export { DTYPES, isFloating, promoteTypes, type DType, type TypedArray } from './tensor/dtype.js';
export type { Device } from './tensor/backend/backend.js';
export * from './tensor/creation.js';
export * from './tensor/functional.js';
export { Generator, defaultGenerator, manualSeed } from './tensor/random.js';
export { broadcastShapes } from './tensor/shape.js';
export { detectAnomaly, enableGrad, isGradEnabled, noGrad, setGradEnabled } from './autograd/grad-mode.js';
export { gradcheck, gradgradcheck } from './autograd/gradcheck.js';
export * as autograd from './autograd/index.js';
export { einsum, einsumPath, type EinsumOptions, type EinsumPathInfo, type EinsumPathStep, type Sublist, type SublistItem, type ContractionPath, type PathStrategy } from './einsum/index.js';
export * as data from './data/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { save, load, serialize, deserialize, SafetensorsError, type SaveOptions } from './serialization/index.js';
export { gpu, type GpuBackendKind, type GpuInfo, type GpuInitOptions, type GpuMemory, type RuntimeStats } from './tensor/backend/gpujs/index.js';
export { keep, scope } from './tensor/scope.js';
export { setNumThreads, getNumThreads, threadsReady, setWasmEnabled, isWasmEnabled, adamStepF32, type AdamStepOptions, sgdStepF32, type SGDStepOptions } from './tensor/backend/wasm/index.js';
