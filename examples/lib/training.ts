/**
 * The pieces the training examples share: picking an optimizer by name, the lecture's train and
 * test loops (`loss: 0.512345 [ 6400/60000]`, `Test Error: Accuracy: 84.1%, Avg loss: 0.45`), and
 * saving a run (loss-curve SVG, JSON log, safetensors checkpoint).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tg from '../../src/index.js';
import { ProgressBar, formatDuration } from './progress.js';
import { lineChartSvg } from './svg-plot.js';

const { optim } = tg;

/** What a module call looks like to the loops. */
export interface Model {
  call(x: tg.Tensor): tg.Tensor;
  train(mode?: boolean): unknown;
  eval(): unknown;
  stateDict(): Record<string, tg.Tensor>;
}

export interface Loss {
  call(input: tg.Tensor, target: tg.Tensor): tg.Tensor;
}

export interface EpochLog {
  epoch: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  samplesPerSec: number;
}

/** Per-batch training losses against samples seen, for the plot. */
export interface History {
  samplesSeen: number[];
  losses: number[];
}

export const OPTIMIZER_NAMES = 'sgd, nesterov, adam, adamw, rmsprop, adagrad, nadam, radam';

/** The optimizers a student can pick from the command line, with the lecture's momentum flag. */
export function makeOptimizer(name: string, params: tg.Tensor[], { lr, momentum }: { lr: number; momentum: number }): tg.optim.Optimizer {
  switch (name.toLowerCase()) {
    case 'sgd': return new optim.SGD(params, { lr, momentum });
    case 'nesterov': return new optim.SGD(params, { lr, momentum, nesterov: true });
    case 'adam': return new optim.Adam(params, { lr });
    case 'adamw': return new optim.AdamW(params, { lr });
    case 'rmsprop': return new optim.RMSprop(params, { lr, momentum });
    case 'adagrad': return new optim.Adagrad(params, { lr });
    case 'nadam': return new optim.NAdam(params, { lr });
    case 'radam': return new optim.RAdam(params, { lr });
    default: throw new RangeError(`unknown --optimizer '${name}' (${OPTIMIZER_NAMES})`);
  }
}

/** Check numeric flags are finite and non-negative, naming the flag. */
export function checkFlags(flags: Record<string, number>): void {
  for (const [name, v] of Object.entries(flags)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`--${name} must be a non-negative number, got ${String(v)}`);
  }
}

/** The `--device` flag: 'cpu' or 'gpu' (anything else is an error, not a silent CPU run). */
export function deviceFlag(value: string | undefined): 'cpu' | 'gpu' {
  if (value === 'cpu' || value === 'gpu') return value;
  throw new RangeError(`--device must be cpu or gpu, got '${String(value)}'`);
}

/** Mean of the last `window` values at each point, for a readable curve next to the noisy one. */
export function runningMean(xs: readonly number[], window: number): number[] {
  let acc = 0;
  return xs.map((v, i) => {
    acc += v - (i >= window ? xs[i - window]! : 0);
    return acc / Math.min(i + 1, window);
  });
}

/** FashionMNIST (default) or MNIST as two TensorDatasets, with the lecture's load line. */
export async function loadData(dataset: string): Promise<{ train: tg.data.TensorDataset<[tg.Tensor, tg.Tensor]>; test: tg.data.TensorDataset<[tg.Tensor, tg.Tensor]> }> {
  const Dataset = dataset === 'mnist' ? tg.data.datasets.MNIST : tg.data.datasets.FashionMNIST;
  const t0 = performance.now();
  const train = (await Dataset.load({ train: true })).toTensorDataset();
  const test = (await Dataset.load({ train: false })).toTensorDataset();
  console.log(`loaded ${dataset === 'mnist' ? 'MNIST' : 'FashionMNIST'}: ${train.length} train / ${test.length} test images in ${formatDuration((performance.now() - t0) / 1000)}`);
  return { train, test };
}

export interface TrainEpochOptions {
  model: Model;
  lossFn: Loss;
  optimizer: tg.optim.Optimizer;
  /** Stepped after every batch (per-batch schedules such as OneCycleLR). */
  scheduler?: { step(): void } | null;
  loader: Iterable<[tg.Tensor, tg.Tensor]>;
  device: tg.Device;
  epoch: number;
  epochs: number;
  /** Samples in an epoch (the loop stops there; less than the dataset with a limit). */
  size: number;
  logEvery: number;
  maxBatches?: number;
  history: History;
}

/** One epoch of the lecture's train loop, with a progress bar; returns its time and samples. */
export async function trainEpoch(o: TrainEpochOptions): Promise<{ seconds: number; done: number }> {
  console.log(`Epoch ${o.epoch}\n-------------------------------`);
  o.model.train();
  const bar = new ProgressBar({ total: o.size, label: `epoch ${o.epoch}/${o.epochs}` });
  const t0 = performance.now();
  let batch = 0;
  let done = 0;
  for (const [x, y] of o.loader) {
    if (done >= o.size || batch >= (o.maxBatches ?? Infinity)) break;
    const loss = tg.scope(() => {
      const l = o.lossFn.call(o.model.call(x.to(o.device)), y.to(o.device));
      o.optimizer.zeroGrad();
      l.backward();
      o.optimizer.step();
      o.scheduler?.step();
      return l;
    });
    const lossValue = (await loss.data())[0]!;
    loss.dispose();
    done += x.shape[0]!;
    const prev = o.history.samplesSeen[o.history.samplesSeen.length - 1] ?? 0;
    o.history.samplesSeen.push(prev + x.shape[0]!);
    o.history.losses.push(lossValue);
    const elapsed = (performance.now() - t0) / 1000;
    bar.update(done, { loss: lossValue, samplesPerSec: done / Math.max(elapsed, 1e-9) });
    if (batch % o.logEvery === 0) bar.log(`loss: ${lossValue.toFixed(6)}  [${String(done).padStart(5)}/${o.size}]`);
    batch++;
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.done(`${formatDuration(seconds)}, ${Math.round(done / seconds)} samples/s`);
  return { seconds, done };
}

/** The lecture's test loop: accuracy and mean loss over (at most `maxSamples` of) the test set. */
export function evaluate(model: Model, lossFn: Loss, loader: Iterable<[tg.Tensor, tg.Tensor]>, device: tg.Device, maxSamples = Infinity): { accuracy: number; loss: number } {
  model.eval();
  let loss = 0;
  let correct = 0;
  let tested = 0;
  tg.noGrad(() => {
    for (const [x, y] of loader) {
      if (tested >= maxSamples) break;
      tested += x.shape[0]!;
      tg.scope(() => {
        const pred = model.call(x.to(device));
        loss += lossFn.call(pred, y.to(device)).item() * x.shape[0]!;
        correct += pred.argmax(1).eq(y.to(device)).sum().item();
      });
    }
  });
  const result = { accuracy: correct / tested, loss: loss / tested };
  console.log(`Test Error: \n Accuracy: ${(100 * result.accuracy).toFixed(1)}%, Avg loss: ${result.loss.toFixed(6)} \n`);
  return result;
}

/** Write `<out>/<title>.svg` (loss curve), `.json` (log) and `.safetensors` (model + optimizer). */
export async function saveRun(o: {
  out: string;
  title: string;
  args: unknown;
  totalSeconds: number;
  epochs: EpochLog[];
  history: History;
  model: Model;
  optimizer: tg.optim.Optimizer;
}): Promise<void> {
  const { samplesSeen, losses } = o.history;
  mkdirSync(o.out, { recursive: true });
  const svg = lineChartSvg({
    title: o.title,
    xLabel: 'samples seen',
    yLabel: 'training loss',
    series: [
      { name: 'train loss (per batch)', xs: samplesSeen, ys: losses },
      { name: 'running mean (100 batches)', xs: samplesSeen, ys: runningMean(losses, 100) },
    ],
  });
  const stem = o.title.replace(/\s+/g, '_');
  writeFileSync(join(o.out, `${stem}.svg`), svg);
  writeFileSync(join(o.out, `${stem}.json`), JSON.stringify({ title: o.title, args: o.args, totalSeconds: o.totalSeconds, epochs: o.epochs, samplesSeen, losses }));
  await tg.save({ model: o.model.stateDict(), optimizer: o.optimizer.stateDict() }, join(o.out, `${stem}.safetensors`));
  console.log(`saved ${join(o.out, stem)}.{svg,json,safetensors}`);
}

/** Run `main`, printing a failure and exiting non-zero on error. */
export function run(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
