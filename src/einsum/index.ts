/** Einstein summation: `einsum` (any order differentiable, planned contractions) and `einsumPath`. */
export { einsum, type EinsumOptions } from './einsum.js';
export { einsumPath, type EinsumPathInfo, type EinsumPathStep } from './path-info.js';
export type { Sublist, SublistItem } from './parse.js';
export type { ContractionPath, PathStrategy } from './plan.js';
