/** Basic layers: `Linear`, `Identity`, `Flatten`, `Unflatten`, `Dropout`, `Embedding`. */
import { noGrad } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/backend/backend.js';
import { empty } from '../tensor/creation.js';
import type { DType } from '../tensor/dtype.js';
import { fmtShape, normalizeDim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkDropoutP, dropout, embedding, linear, normalizePaddingIdx } from './functional-layers.js';
import { calculateFanInAndFanOut, kaimingUniform_, normal_, uniform_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Where and how a layer allocates its parameters (PyTorch's factory kwargs). */
export interface FactoryOptions {
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Parameter device (default 'cpu'). */
  device?: Device;
}

/** `{ dtype, device }` from factory options, without undefined entries. */
export function factory(opts: FactoryOptions): FactoryOptions {
  return { ...(opts.dtype && { dtype: opts.dtype }), ...(opts.device && { device: opts.device }) };
}

/** Options of `nn.Linear`. */
export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * `y = x W^T + b` (`nn.Linear`), initialised as PyTorch: `W` kaiming-uniform with `a = sqrt(5)`
 * (U(±1/sqrt(inFeatures))), `b` U(±1/sqrt(inFeatures)). With the same seed it draws PyTorch's
 * exact numbers: `tg.manualSeed(0); new nn.Linear(4, 3)` equals `torch.manual_seed(0); nn.Linear(4, 3)`.
 * @example
 * const fc = new nn.Linear(4, 3);
 * fc.call(tg.randn([2, 4])).shape;   // [2, 3]
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  declare weight: Tensor;
  declare bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(empty([outFeatures, inFeatures], factory(opts)));
    if (opts.bias ?? true) this.bias = new Parameter(empty([outFeatures], factory(opts)));
    else this.registerParameter('bias', null);
    this.resetParameters();
  }

  /** Re-draw the parameters with PyTorch's default initialisation. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Returns its input (`nn.Identity`), a placeholder in architectures.
 * @example
 * new nn.Identity().call(x) === x;   // true
 */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Flatten dims `startDim..endDim` into one (`nn.Flatten`; by default all but the batch dim).
 * @example
 * new nn.Flatten().call(tg.zeros([2, 3, 4])).shape;   // [2, 12]
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }

  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/**
 * Split dim `dim` into `unflattenedSize` (`nn.Unflatten`).
 * @example
 * new nn.Unflatten(1, [3, 4]).call(tg.zeros([2, 12])).shape;   // [2, 3, 4]
 */
export class Unflatten extends Module {
  readonly dim: number;
  readonly unflattenedSize: readonly number[];

  constructor(dim: number, unflattenedSize: readonly number[]) {
    super();
    this.dim = dim;
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(x: Tensor): Tensor {
    const d = normalizeDim(this.dim, x.ndim);
    const size = x.shape[d]!;
    const known = this.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const inferred = this.unflattenedSize.includes(-1);
    if (inferred ? known === 0 || size % known !== 0 : known !== size) {
      throw new RangeError(`unflatten: Provided sizes ${fmtShape(this.unflattenedSize)} don't multiply up to the size of dim ${this.dim} (${size}) in the input tensor`);
    }
    return x.unflatten(d, this.unflattenedSize);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=${fmtShape(this.unflattenedSize)}`;
  }
}

/**
 * Randomly zero elements with probability `p` in training mode and scale the rest by
 * `1 / (1 - p)` (`nn.Dropout`); the identity in eval mode. Draws from the global generator.
 * @example
 * const drop = new nn.Dropout(0.2);
 * drop.eval();
 * drop.call(x) === x;   // true
 */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    checkDropoutP(p);
    this.p = p;
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of `nn.Embedding`. */
export interface EmbeddingLayerOptions extends FactoryOptions {
  /** Row that starts as zeros and never receives a gradient (e.g. a padding token). */
  paddingIdx?: number | null;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (`nn.Embedding`), initialised
 * N(0, 1) with the `paddingIdx` row zeroed; int32 indices in, `[...indices.shape, dim]` out.
 * @example
 * const emb = new nn.Embedding(10, 4, { paddingIdx: 0 });
 * emb.call(tg.tensor([[1, 0, 3]], { dtype: 'int32' })).shape;   // [1, 3, 4]
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  declare weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingLayerOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = normalizePaddingIdx(opts.paddingIdx, numEmbeddings);
    this.weight = new Parameter(empty([numEmbeddings, embeddingDim], factory(opts)));
    this.resetParameters();
  }

  /**
   * An embedding holding a copy of `embeddings` (`(num, dim)`), frozen unless `freeze` is false.
   * @example
   * const emb = nn.Embedding.fromPretrained(tg.eye(3), { freeze: true });
   */
  static fromPretrained(embeddings: Tensor, opts: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    if (embeddings.ndim !== 2) throw new RangeError('Embeddings parameter is expected to be 2-dimensional');
    const emb = new Embedding(embeddings.shape[0]!, embeddings.shape[1]!, { dtype: embeddings.dtype, paddingIdx: opts.paddingIdx ?? null });
    noGrad(() => emb.weight.copy_(embeddings));
    emb.weight.requiresGrad_(!(opts.freeze ?? true));
    return emb;
  }

  /** Re-draw N(0, 1) and zero the padding row. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => this.weight.select(0, row).fill_(0));
    }
  }

  override forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
