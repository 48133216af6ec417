/**
 * The lecture script for SGD on FashionMNIST, in TypeScript:
 * Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 512) -> ReLU -> Linear(512, 10),
 * CrossEntropyLoss, an optimizer from `tg.optim`, a train loop that prints
 * `loss: 0.512345 [ 6400/60000]`, a test loop that prints `Test Error: Accuracy: 84.1%, Avg loss: 0.45`,
 * and the training-loss curve saved as an SVG titled like `Optimizer-SGD lr-0.02 mt-0.9 bs-64`.
 *
 * Run: npm run train -- --optimizer sgd --lr 0.02 --momentum 0.9 --batch-size 64 --epochs 5
 *      (--device gpu, --seed 0, --out runs/mlp, --dataset mnist for digits)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tg from '../src/index.js';
import { ProgressBar, formatDuration } from './lib/progress.js';
import { lineChartSvg } from './lib/svg-plot.js';

const { nn, optim } = tg;

const { values: args } = parseArgs({
  options: {
    optimizer: { type: 'string', default: 'sgd' },
    lr: { type: 'string', default: '0.02' },
    momentum: { type: 'string', default: '0.9' },
    'batch-size': { type: 'string', default: '64' },
    epochs: { type: 'string', default: '5' },
    device: { type: 'string', default: 'cpu' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/mlp' },
    dataset: { type: 'string', default: 'fashion' },
    'log-every': { type: 'string', default: '100' },
    /** Stop each epoch (and the test pass) after this many batches: for quick smoke runs. */
    'max-batches': { type: 'string', default: 'Infinity' },
  },
});

const lr = Number(args.lr);
const momentum = Number(args.momentum);
const batchSize = Number(args['batch-size']);
const epochs = Number(args.epochs);
const device = args.device === 'gpu' ? 'gpu' : 'cpu';
const logEvery = Number(args['log-every']);
const maxBatches = Number(args['max-batches']);
for (const [name, v] of [['lr', lr], ['momentum', momentum], ['batch-size', batchSize], ['epochs', epochs]] as const) {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`--${name} must be a non-negative number, got ${String(v)}`);
}

/** The optimizers a student can pick from the command line, with the lecture's momentum flag. */
function makeOptimizer(name: string, params: tg.Tensor[]): tg.optim.Optimizer {
  switch (name.toLowerCase()) {
    case 'sgd': return new optim.SGD(params, { lr, momentum });
    case 'nesterov': return new optim.SGD(params, { lr, momentum, nesterov: true });
    case 'adam': return new optim.Adam(params, { lr });
    case 'adamw': return new optim.AdamW(params, { lr });
    case 'rmsprop': return new optim.RMSprop(params, { lr, momentum });
    case 'adagrad': return new optim.Adagrad(params, { lr });
    case 'nadam': return new optim.NAdam(params, { lr });
    case 'radam': return new optim.RAdam(params, { lr });
    default: throw new RangeError(`unknown --optimizer '${name}' (sgd, nesterov, adam, adamw, rmsprop, adagrad, nadam, radam)`);
  }
}

class NeuralNetwork extends nn.Module {
  flatten = new nn.Flatten();
  linearReluStack = new nn.Sequential(
    new nn.Linear(28 * 28, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  override forward(x: tg.Tensor): tg.Tensor {
    return this.linearReluStack.call(this.flatten.call(x));
  }
}

/** Mean of the last `window` values at each point, for a readable curve next to the noisy one. */
function runningMean(xs: readonly number[], window: number): number[] {
  let acc = 0;
  return xs.map((v, i) => {
    acc += v - (i >= window ? xs[i - window]! : 0);
    return acc / Math.min(i + 1, window);
  });
}

async function main(): Promise<void> {
  tg.manualSeed(Number(args.seed));
  if (device === 'gpu') {
    await tg.gpu.init({ allowSoftware: true });
    console.log(`gpu: ${JSON.stringify(tg.gpu.info())}`);
  }
  const Dataset = args.dataset === 'mnist' ? tg.data.datasets.MNIST : tg.data.datasets.FashionMNIST;
  const t0 = performance.now();
  const trainData = (await Dataset.load({ train: true })).toTensorDataset();
  const testData = (await Dataset.load({ train: false })).toTensorDataset();
  console.log(`loaded ${args.dataset === 'mnist' ? 'MNIST' : 'FashionMNIST'}: ${trainData.length} train / ${testData.length} test images in ${formatDuration((performance.now() - t0) / 1000)}`);

  const trainLoader = new tg.data.DataLoader(trainData, { batchSize, shuffle: true });
  const testLoader = new tg.data.DataLoader(testData, { batchSize: 1000 });

  const model = new NeuralNetwork().to(device);
  console.log(model.toString());
  const lossFn = new nn.CrossEntropyLoss();
  const optimizer = makeOptimizer(args.optimizer, model.parameters());
  const optName = optimizer.constructor.name;
  const title = `Optimizer-${optName} lr-${lr} mt-${momentum} bs-${batchSize}`;

  const samplesSeen: number[] = [];
  const losses: number[] = [];
  const epochLog: { epoch: number; testAccuracy: number; testLoss: number; seconds: number; samplesPerSec: number }[] = [];
  let seen = 0;
  const size = trainData.length;
  const tStart = performance.now();

  for (let epoch = 1; epoch <= epochs; epoch++) {
    console.log(`Epoch ${epoch}\n-------------------------------`);
    model.train();
    const bar = new ProgressBar({ total: size, label: `epoch ${epoch}/${epochs}` });
    const tEpoch = performance.now();
    let batch = 0;
    let done = 0;
    for (const [x, y] of trainLoader) {
      const loss = tg.scope(() => {
        const pred = model.call(x.to(device));
        const l = lossFn.call(pred, y.to(device));
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return l;
      });
      const lossValue = (await loss.data())[0]!;
      loss.dispose();
      done += x.shape[0]!;
      seen += x.shape[0]!;
      samplesSeen.push(seen);
      losses.push(lossValue);
      const elapsed = (performance.now() - tEpoch) / 1000;
      bar.update(done, { loss: lossValue, samplesPerSec: done / Math.max(elapsed, 1e-9) });
      if (batch % logEvery === 0) bar.log(`loss: ${lossValue.toFixed(6)}  [${String(done).padStart(5)}/${size}]`);
      batch++;
      if (batch >= maxBatches) break;
    }
    const seconds = (performance.now() - tEpoch) / 1000;
    bar.done(`${formatDuration(seconds)}, ${Math.round(done / seconds)} samples/s`);

    // Test loop
    model.eval();
    let testLoss = 0;
    let correct = 0;
    let tested = 0;
    tg.noGrad(() => {
      for (const [x, y] of testLoader) {
        if (tested >= maxBatches * 1000) break;
        tested += x.shape[0]!;
        tg.scope(() => {
          const pred = model.call(x.to(device));
          testLoss += lossFn.call(pred, y.to(device)).item() * x.shape[0]!;
          correct += pred.argmax(1).eq(y.to(device)).sum().item();
        });
      }
    });
    testLoss /= tested;
    const accuracy = correct / tested;
    console.log(`Test Error: \n Accuracy: ${(100 * accuracy).toFixed(1)}%, Avg loss: ${testLoss.toFixed(6)} \n`);
    epochLog.push({ epoch, testAccuracy: accuracy, testLoss, seconds, samplesPerSec: done / seconds });
  }
  const totalSeconds = (performance.now() - tStart) / 1000;
  console.log(`Done! ${epochs} epochs in ${formatDuration(totalSeconds)}`);

  // Plot, log and checkpoint
  mkdirSync(args.out, { recursive: true });
  const svg = lineChartSvg({
    title,
    xLabel: 'samples seen',
    yLabel: 'training loss',
    series: [
      { name: 'train loss (per batch)', xs: samplesSeen, ys: losses },
      { name: 'running mean (100 batches)', xs: samplesSeen, ys: runningMean(losses, 100) },
    ],
  });
  const stem = title.replace(/\s+/g, '_');
  writeFileSync(join(args.out, `${stem}.svg`), svg);
  writeFileSync(
    join(args.out, `${stem}.json`),
    JSON.stringify({ title, args, totalSeconds, epochs: epochLog, samplesSeen, losses }, null, 0),
  );
  const checkpoint = join(args.out, `${stem}.safetensors`);
  await tg.save({ model: model.stateDict(), optimizer: optimizer.stateDict() }, checkpoint);
  console.log(`saved ${join(args.out, stem)}.{svg,json,safetensors}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
