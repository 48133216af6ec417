/**
 * Variance reduction on a strongly convex finite sum: L2-regularised logistic regression on MNIST
 * "3 vs 5" (2,000 training images, randomly projected from 784 to 50 dimensions, rows scaled to
 * unit norm, plus a bias), minimized with
 *
 * - SGD with a constant step (linear progress, then a plateau at its noise floor),
 * - SGD with the classical decaying step η/(1 + μηt) (sublinear, O(1/t)),
 * - SVRG, SAG and SAGA with constant steps (linear convergence to machine precision).
 *
 * Prints the suboptimality f(w) − f* after every pass's worth of gradient evaluations and writes
 * runs/variance-reduction/suboptimality.svg (log scale against per-sample gradient evaluations).
 *
 * Run: npx tsx examples/variance-reduction.ts   (--samples 2000 --dim 50 --passes 20 --lambda 1e-3)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';
// Also available as tg.optim.SVRG / SAG / SAGA / Newton.
import { Newton, SAG, SAGA, SVRG } from '../src/optim/extras.js';
import { lineChartSvg, type LineSeries } from './lib/svg-plot.js';

const { optim } = tg;

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '2000' },
    dim: { type: 'string', default: '50' },
    passes: { type: 'string', default: '20' },
    lambda: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/variance-reduction' },
  },
});
const n = Number(args.samples);
const dim = Number(args.dim);
const passes = Number(args.passes);
const lambda = Number(args.lambda);
tg.manualSeed(Number(args.seed));

// ---------------------------------------------------------------- data: MNIST 3 vs 5, projected

const t0 = performance.now();
const mnist = await tg.data.datasets.MNIST.load({ train: true });
const rows: number[] = [];
const labels: number[] = [];
for (let i = 0; i < mnist.labels.length && labels.length < n; i++) {
  const label = mnist.labels[i]!;
  if (label !== 3 && label !== 5) continue;
  for (let j = 0; j < 784; j++) rows.push(mnist.images[i * 784 + j]! / 255);
  labels.push(label === 3 ? 1 : -1);
}
const pixels = tg.tensor(rows, { dtype: 'float64', shape: [labels.length, 784] });
const projection = tg.randn([784, dim], { dtype: 'float64' }).div(Math.sqrt(dim));
const projected = pixels.sub(pixels.mean(0)).matmul(projection);
const features = projected.div(projected.norm(2, 1, true));
const X = tg.cat([features, tg.ones([labels.length, 1], { dtype: 'float64' })], 1); // bias column
const y = tg.tensor(labels, { dtype: 'float64' });

/** Mean logistic loss over `indices` (all samples when omitted), without the regulariser. */
function dataLoss(w: Tensor, indices?: readonly number[]): Tensor {
  const idx = indices && tg.tensor([...indices], { dtype: 'int32' });
  const Xs = idx ? X.indexSelect(0, idx) : X;
  const ys = idx ? y.indexSelect(0, idx) : y;
  return ys.mul(Xs.matmul(w)).neg().exp().log1p().mean();
}
/** The full objective f(w) = data loss + (λ/2)·‖w‖². */
const objective = (w: Tensor): Tensor => dataLoss(w).add(w.square().sum().mul(lambda / 2));

// L = max ‖xᵢ‖²/4 + λ (rows have norm √2 with the bias), μ = λ.
const L = 2 / 4 + lambda;
console.log(`MNIST 3 vs 5: ${labels.length} samples, ${dim}+1 features (random projection), λ = ${lambda}, L ≈ ${L.toFixed(3)}, κ = L/μ ≈ ${Math.round(L / lambda)}`);

// ---------------------------------------------------------------- f* by Newton's method

const wStar = tg.zeros([dim + 1], { dtype: 'float64', requiresGrad: true });
const newton = new Newton([wStar]);
for (let i = 0; i < 15; i++) newton.step(() => objective(wStar));
const fStar = objective(wStar).item();
console.log(`f* = ${fStar.toFixed(15)} (Newton, 15 iterations), setup ${((performance.now() - t0) / 1000).toFixed(1)}s`);

// ---------------------------------------------------------------- the runs

interface Curve {
  name: string;
  evals: number[];
  gaps: number[];
  seconds: number;
}

const budget = passes * labels.length;
const sampleLoss = (w: Tensor) => (idx: readonly number[]): Tensor => dataLoss(w, idx);

/** Run a method until `budget` per-sample gradient evaluations, recording f − f* every n/4 of them. */
function record(name: string, w: Tensor, evaluations: () => number, step: () => void): Curve {
  const start = performance.now();
  const curve: Curve = { name, evals: [0], gaps: [objective(w).item() - fStar], seconds: 0 };
  let next = labels.length / 4;
  while (evaluations() < budget) {
    step();
    if (evaluations() >= next) {
      curve.evals.push(evaluations());
      curve.gaps.push(Math.max(objective(w).item() - fStar, 1e-16));
      next += labels.length / 4;
    }
  }
  curve.seconds = (performance.now() - start) / 1000;
  return curve;
}

function sgd(name: string, lr: number, decay: boolean): Curve {
  const w = tg.zeros([dim + 1], { dtype: 'float64', requiresGrad: true });
  const opt = new optim.SGD([w], { lr, weightDecay: lambda });
  const gen = new tg.Generator().manualSeed(1);
  let evals = 0;
  return record(name, w, () => evals, () => {
    if (decay) opt.paramGroups[0]!.lr = lr / (1 + lambda * lr * evals);
    opt.zeroGrad();
    dataLoss(w, [Math.floor(gen.uniformDouble() * labels.length)]).backward();
    opt.step();
    evals += 1;
  });
}

function reduced(name: string, make: (w: Tensor) => SVRG | SAG | SAGA): Curve {
  const w = tg.zeros([dim + 1], { dtype: 'float64', requiresGrad: true });
  const opt = make(w);
  const loss = sampleLoss(w);
  return record(name, w, () => opt.gradientEvaluations, () => void opt.step(loss));
}

const common = { numSamples: labels.length, weightDecay: lambda };
const curves: Curve[] = [
  sgd('SGD, constant step 1/(4L)', 1 / (4 * L), false),
  sgd('SGD, step 1/(L + μt)', 1 / L, true),
  reduced('SVRG (m = n, step 1/(4L))', (w) => new SVRG([w], { ...common, lr: 1 / (4 * L), updateFrequency: labels.length, generator: new tg.Generator().manualSeed(1) })),
  reduced('SAG (step 1/(2L))', (w) => new SAG([w], { ...common, lr: 1 / (2 * L), generator: new tg.Generator().manualSeed(1) })),
  reduced('SAGA (step 1/(3L))', (w) => new SAGA([w], { ...common, lr: 1 / (3 * L), generator: new tg.Generator().manualSeed(1) })),
];

// ---------------------------------------------------------------- report

const at = (c: Curve, pass: number): number => {
  const i = c.evals.findIndex((e) => e >= pass * labels.length);
  return c.gaps[i === -1 ? c.gaps.length - 1 : i]!;
};
const checkpoints = [1, 2, 5, 10, passes];
console.log(`\nsuboptimality f(w) − f* after k passes' worth of per-sample gradients (n = ${labels.length}):`);
console.log(`${'method'.padEnd(30)}${checkpoints.map((k) => `k=${k}`.padStart(11)).join('')}    time`);
for (const c of curves) console.log(`${c.name.padEnd(30)}${checkpoints.map((k) => at(c, k).toExponential(2).padStart(11)).join('')}  ${c.seconds.toFixed(1).padStart(5)}s`);

/** Linear rate: the factor by which the gap shrinks per pass, fitted over the second half of the run. */
function ratePerPass(c: Curve): number {
  const half = Math.floor(c.evals.length / 2);
  const last = c.evals.length - 1;
  const gapA = c.gaps[half]!;
  const gapB = c.gaps[last]!;
  return (gapB / gapA) ** (labels.length / (c.evals[last]! - c.evals[half]!));
}
console.log('\ngap shrink factor per pass over the second half of the run (linear convergence: constant < 1):');
for (const c of curves) console.log(`  ${c.name.padEnd(30)} ${ratePerPass(c).toPrecision(3)}`);

mkdirSync(args.out, { recursive: true });
const series: LineSeries[] = curves.map((c) => ({ name: c.name, xs: c.evals.map((e) => e / labels.length), ys: c.gaps }));
const svg = lineChartSvg({
  title: `L2-regularised logistic regression, MNIST 3 vs 5 (n = ${labels.length}, d = ${dim + 1}, λ = ${lambda})`,
  xLabel: 'per-sample gradient evaluations / n',
  yLabel: 'f(w) − f*',
  logY: true,
  series,
});
const file = join(args.out, 'suboptimality.svg');
writeFileSync(file, svg);
console.log(`\nwrote ${file}`);
