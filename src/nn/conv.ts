/** Convolution and pooling layers: `Conv2d`, `MaxPool2d`, `AvgPool2d`, `Unfold`, `Fold`. */
import { empty } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2d, convPadding, fold, pad, pair, unfold, type FoldOptions, type Size2 } from './functional-conv.js';
import { avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from './functional-pool.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { factory, type FactoryOptions } from './layers.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** How `Conv2d` pads: with zeros (default) or by reflecting, replicating or wrapping the input. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of `nn.Conv2d`. */
export interface Conv2dLayerOptions extends FactoryOptions {
  stride?: Size2;
  /** Padding on each side, or 'valid' (none) / 'same' (keep the size; stride 1 only). */
  padding?: Size2 | 'valid' | 'same';
  dilation?: Size2;
  groups?: number;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
  paddingMode?: PaddingMode;
}

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/**
 * 2-D convolution layer (`nn.Conv2d`) over `(N, C, H, W)` or `(C, H, W)` input, initialised as
 * PyTorch (weight kaiming-uniform with `a = sqrt(5)`, bias U(±1/sqrt(fanIn))).
 * @example
 * const conv = new nn.Conv2d(3, 16, 3, { padding: 1 });
 * conv.call(tg.randn([8, 3, 32, 32])).shape;   // [8, 16, 32, 32]
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  declare weight: Tensor;
  declare bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts: Conv2dLayerOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0) throw new RangeError('groups must be a positive integer');
    if (inChannels % groups !== 0) throw new RangeError('in_channels must be divisible by groups');
    if (outChannels % groups !== 0) throw new RangeError('out_channels must be divisible by groups');
    const paddingMode = opts.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(paddingMode)) {
      throw new RangeError(`padding_mode must be one of {'circular', 'zeros', 'replicate', 'reflect'}, but got padding_mode='${String(paddingMode)}'`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize, 'kernel_size');
    this.stride = pair(opts.stride ?? 1, 'stride');
    this.dilation = pair(opts.dilation ?? 1, 'dilation');
    this.groups = groups;
    this.paddingMode = paddingMode;
    const padding = opts.padding ?? 0;
    if (typeof padding === 'string') {
      if (padding !== 'valid' && padding !== 'same') throw new RangeError(`Invalid padding string '${String(padding)}', should be one of ['valid', 'same']`);
      if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) throw new RangeError("padding='same' is not supported for strided convolutions");
      this.padding = padding;
    } else {
      this.padding = pair(padding, 'padding');
    }
    this.weight = new Parameter(empty([outChannels, inChannels / groups, ...this.kernelSize], factory(opts)));
    if (opts.bias ?? true) this.bias = new Parameter(empty([outChannels], factory(opts)));
    else this.registerParameter('bias', null);
    this.resetParameters();
  }

  /** Re-draw the parameters with PyTorch's default initialisation. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override forward(x: Tensor): Tensor {
    const common = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === 'zeros') return conv2d(x, this.weight, this.bias, { ...common, padding: this.padding });
    const [top, bottom, left, right] = convPadding(this.padding, this.kernelSize, this.dilation, this.stride);
    return conv2d(pad(x, [left, right, top, bottom], { mode: this.paddingMode }), this.weight, this.bias, { ...common, padding: 0 });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}], stride=[${this.stride.join(', ')}]`];
    const pd = this.padding;
    if (typeof pd === 'string' || pd[0] !== 0 || pd[1] !== 0) parts.push(`padding=${typeof pd === 'string' ? pd : `[${pd.join(', ')}]`}`);
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) parts.push(`dilation=[${this.dilation.join(', ')}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode=${this.paddingMode}`);
    return parts.join(', ');
  }
}

/**
 * 2-D max pooling (`nn.MaxPool2d`); the stride defaults to the kernel size.
 * @example
 * new nn.MaxPool2d(2).call(tg.randn([1, 3, 8, 8])).shape;   // [1, 3, 4, 4]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Size2;
  readonly options: MaxPool2dOptions;

  constructor(kernelSize: Size2, opts: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...opts };
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${String(this.kernelSize)}, stride=${String(o.stride ?? this.kernelSize)}, padding=${String(o.padding ?? 0)}, dilation=${String(o.dilation ?? 1)}, ceilMode=${o.ceilMode ?? false}`;
  }
}

/**
 * 2-D average pooling (`nn.AvgPool2d`); the stride defaults to the kernel size.
 * @example
 * new nn.AvgPool2d(2, { countIncludePad: false }).call(tg.randn([1, 3, 8, 8])).shape;   // [1, 3, 4, 4]
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly options: AvgPool2dOptions;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...opts };
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${String(this.kernelSize)}, stride=${String(o.stride ?? this.kernelSize)}, padding=${String(o.padding ?? 0)}`;
  }
}

/** `dilation=…, padding=…, stride=…` for the im2col modules' `extraRepr`. */
function foldRepr(o: FoldOptions): string {
  return `dilation=${String(o.dilation ?? 1)}, padding=${String(o.padding ?? 0)}, stride=${String(o.stride ?? 1)}`;
}

/**
 * Sliding local blocks as columns (`nn.Unfold`, im2col): `(N, C, H, W)` to `(N, C·kh·kw, L)`.
 * @example
 * new nn.Unfold(2, { stride: 2 }).call(tg.randn([1, 3, 4, 4])).shape;   // [1, 12, 4]
 */
export class Unfold extends Module {
  readonly kernelSize: Size2;
  readonly options: FoldOptions;

  constructor(kernelSize: Size2, opts: FoldOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.options = { ...opts };
  }

  override forward(x: Tensor): Tensor {
    return unfold(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    return `kernelSize=${String(this.kernelSize)}, ${foldRepr(this.options)}`;
  }
}

/**
 * Sum sliding local blocks back into an image (`nn.Fold`, col2im): `(N, C·kh·kw, L)` to
 * `(N, C, outputSize[0], outputSize[1])`.
 * @example
 * new nn.Fold([4, 4], 2, { stride: 2 }).call(tg.randn([1, 12, 4])).shape;   // [1, 3, 4, 4]
 */
export class Fold extends Module {
  readonly outputSize: Size2;
  readonly kernelSize: Size2;
  readonly options: FoldOptions;

  constructor(outputSize: Size2, kernelSize: Size2, opts: FoldOptions = {}) {
    super();
    this.outputSize = outputSize;
    this.kernelSize = kernelSize;
    this.options = { ...opts };
  }

  override forward(x: Tensor): Tensor {
    return fold(x, this.outputSize, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    return `outputSize=${String(this.outputSize)}, kernelSize=${String(this.kernelSize)}, ${foldRepr(this.options)}`;
  }
}
