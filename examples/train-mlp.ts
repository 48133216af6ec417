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
import { parseArgs } from 'node:util';
import * as tg from '../src/index.js';
import { formatDuration } from './lib/progress.js';
import { checkFlags, deviceFlag, evaluate, loadData, makeOptimizer, run, saveRun, trainEpoch, type EpochLog, type History } from './lib/training.js';

const { nn } = tg;

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
const device = deviceFlag(args.device);
const logEvery = Number(args['log-every']);
const maxBatches = Number(args['max-batches']);
checkFlags({ lr, momentum, 'batch-size': batchSize, epochs });

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

run(async () => {
  tg.manualSeed(Number(args.seed));
  if (device === 'gpu') {
    await tg.gpu.init({ allowSoftware: true });
    console.log(`gpu: ${JSON.stringify(tg.gpu.info())}`);
  }
  const { train, test } = await loadData(args.dataset);
  const trainLoader = new tg.data.DataLoader(train, { batchSize, shuffle: true });
  const testLoader = new tg.data.DataLoader(test, { batchSize: 1000 });

  const model = new NeuralNetwork().to(device);
  console.log(model.toString());
  const lossFn = new nn.CrossEntropyLoss();
  const optimizer = makeOptimizer(args.optimizer, model.parameters(), { lr, momentum });
  const title = `Optimizer-${optimizer.constructor.name} lr-${lr} mt-${momentum} bs-${batchSize}`;

  const history: History = { samplesSeen: [], losses: [] };
  const epochLog: EpochLog[] = [];
  const tStart = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const { seconds, done } = await trainEpoch({
      model, lossFn, optimizer, loader: trainLoader, device, epoch, epochs, size: train.length, logEvery, maxBatches, history,
    });
    const { accuracy, loss } = evaluate(model, lossFn, testLoader, device, maxBatches * 1000);
    epochLog.push({ epoch, testAccuracy: accuracy, testLoss: loss, seconds, samplesPerSec: done / seconds });
  }
  const totalSeconds = (performance.now() - tStart) / 1000;
  console.log(`Done! ${epochs} epochs in ${formatDuration(totalSeconds)}`);
  await saveRun({ out: args.out, title, args, totalSeconds, epochs: epochLog, history, model, optimizer });
});
