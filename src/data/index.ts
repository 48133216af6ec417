/**
 * Data loading (`torch.utils.data`): datasets, samplers, the DataLoader, and the MNIST family
 * under `datasets` (torchvision.datasets).
 * @example
 * const train = await tg.data.datasets.FashionMNIST.load({ train: true });
 * const loader = new tg.data.DataLoader(train.toTensorDataset(), { batchSize: 64, shuffle: true });
 * for (const [x, y] of loader) { … } // x: [64, 1, 28, 28] float32 in [0, 1], y: [64] int32
 */
export { ConcatDataset, Dataset, getItem, randomSplit, Subset, TensorDataset, type Collated, type DatasetLike } from './dataset.js';
export {
  BatchSampler,
  distinctCount,
  drawSeed,
  multinomial,
  RandomSampler,
  range,
  Sampler,
  SequentialSampler,
  SubsetRandomSampler,
  WeightedRandomSampler,
  type EpochStats,
  type IndexSource,
  type RandomSamplerOptions,
  type Sized,
  type WeightedRandomSamplerOptions,
} from './sampler.js';
export { DataLoader, defaultCollate, type DataLoaderOptions } from './dataloader.js';
export * as datasets from './mnist.js';
