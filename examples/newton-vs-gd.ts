/**
 * Newton's method against gradient descent on an ill-conditioned problem: L2-regularised logistic
 * regression whose 20 features span four orders of magnitude in scale (Hessian condition number
 * about 1e4), minimized by
 *
 * - gradient descent with the step 1/L (linear, but at a rate of 1 − μ/L per iteration),
 * - Newton's method (exact Hessian by double backward, damped Cholesky solve, Armijo line search),
 * - Newton-CG (Hessian-free, conjugate gradient on Hessian-vector products), with Nocedal &
 *   Wright's forcing tolerance and with a tight one,
 * - L-BFGS with a strong-Wolfe line search, for reference.
 *
 * The x-axis counts gradient evaluations: one per gradient, one per Hessian-vector product, and d
 * per exact Hessian (one backward pass per row). Prints how many each method needs to reach
 * f − f* < 1e-6 and 1e-12, and writes runs/newton-vs-gd/loss.svg (and loss-first-300.svg, zoomed).
 *
 * Run: npx tsx examples/newton-vs-gd.ts   (--samples 500 --dim 20 --gd-iters 4000)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';
// Also available as tg.optim.Newton / NewtonCG.
import { Newton, NewtonCG } from '../src/optim/extras.js';
import { lineChartSvg } from './lib/svg-plot.js';

const { optim } = tg;

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '500' },
    dim: { type: 'string', default: '20' },
    'gd-iters': { type: 'string', default: '4000' },
    lambda: { type: 'string', default: '1e-4' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/newton-vs-gd' },
  },
});
const n = Number(args.samples);
const d = Number(args.dim);
const gdIters = Number(args['gd-iters']);
const lambda = Number(args.lambda);
tg.manualSeed(Number(args.seed));

// ---------------------------------------------------------------- the problem

// Column j scaled by 10^(−2j/(d−1)): feature scales from 1 down to 0.01.
const scales = tg.tensor(Array.from({ length: d }, (_, j) => 10 ** ((-2 * j) / (d - 1))), { dtype: 'float64' });
const X = tg.randn([n, d], { dtype: 'float64' }).mul(scales);
const wTrue = tg.randn([d], { dtype: 'float64' }).div(scales).mul(0.5);
const y = X.matmul(wTrue).add(tg.randn([n], { dtype: 'float64' }).mul(0.5)).sign();

const loss = (w: Tensor): Tensor => y.mul(X.matmul(w)).neg().exp().log1p().mean().add(w.square().sum().mul(lambda / 2));

// L ≤ λ_max(XᵀX)/(4n) + λ: estimate λ_max by power iteration.
let v = tg.ones([d], { dtype: 'float64' });
for (let i = 0; i < 100; i++) v = X.t().matmul(X.matmul(v)).div(v.norm().item() * n);
const L = v.norm().item() / 4 + lambda;
console.log(`logistic regression: n = ${n}, d = ${d}, feature scales 1 … 0.01, λ = ${lambda}, L ≈ ${L.toExponential(2)}, L/λ ≈ ${(L / lambda).toExponential(1)}`);

const fresh = (): Tensor => tg.zeros([d], { dtype: 'float64', requiresGrad: true });

// f* from a long Newton run.
const wStar = fresh();
const reference = new Newton([wStar]);
for (let i = 0; i < 30; i++) reference.step(() => loss(wStar));
const fStar = loss(wStar).item();
console.log(`f* = ${fStar.toFixed(15)}`);

// ---------------------------------------------------------------- the runs

interface Curve {
  name: string;
  evals: number[];
  gaps: number[];
  iterations: number;
  lossEvals: number;
  seconds: number;
}

const gap = (w: Tensor): number => Math.max(loss(w).item() - fStar, 1e-17);

function run(name: string, iterations: number, step: (w: Tensor) => { evals: number; lossEvals?: number }): Curve {
  const w = fresh();
  const start = performance.now();
  const curve: Curve = { name, evals: [0], gaps: [gap(w)], iterations, lossEvals: 0, seconds: 0 };
  let evals = 0;
  for (let i = 0; i < iterations; i++) {
    const r = step(w);
    evals += r.evals;
    curve.lossEvals += r.lossEvals ?? 0;
    curve.evals.push(evals);
    curve.gaps.push(gap(w));
    if (curve.gaps[curve.gaps.length - 1]! <= 1e-16) {
      curve.iterations = i + 1;
      break;
    }
  }
  curve.seconds = (performance.now() - start) / 1000;
  return curve;
}

let opt: tg.optim.SGD | Newton | NewtonCG | tg.optim.LBFGS | null = null;
const curves: Curve[] = [
  run('gradient descent, step 1/L', gdIters, (w) => {
    if (!(opt instanceof optim.SGD)) opt = new optim.SGD([w], { lr: 1 / L });
    const o = opt;
    o.step(() => {
      o.zeroGrad();
      const l = loss(w);
      l.backward();
      return l;
    });
    return { evals: 1 };
  }),
  ...([['Newton (exact Hessian)', null], ['Newton-CG (forcing tolerance)', 'forcing'], ['Newton-CG (CG to 1e-10)', 'tight']] as const).map(([name, cg]) =>
    run(name, 60, (w) => {
      if (!opt || opt.paramGroups[0]!.params[0] !== w) opt = cg === null ? new Newton([w]) : new NewtonCG([w], { cgMaxIter: 200, ...(cg === 'tight' && { cgTol: 1e-10 }) });
      const o = opt as Newton | NewtonCG;
      const before = o.state.get(w)?.funcEvals ?? 0;
      o.step(() => loss(w));
      const s = o.state.get(w)!;
      // gradient + (d Hessian rows | cgIters Hessian-vector products); the line search evaluates losses only
      return { evals: 1 + (cg === null ? d : s.cgIters ?? 0), lossEvals: s.funcEvals - before - 1 };
    })),
  run('L-BFGS (strong Wolfe)', 300, (w) => {
    const first = !(opt instanceof optim.LBFGS) || opt.paramGroups[0]!.params[0] !== w;
    if (first) opt = new optim.LBFGS([w], { lineSearchFn: 'strong_wolfe', maxIter: 1, historySize: 20, toleranceGrad: 1e-14, toleranceChange: 1e-16 });
    const o = opt as tg.optim.LBFGS;
    // NOTE: each step() re-evaluates the point the previous line search ended at; only the
    // first step's initial evaluation is new work.
    const before = (o.state.get(w)?.funcEvals ?? 0) + (first ? 0 : 1);
    o.step(() => {
      o.zeroGrad();
      const l = loss(w);
      l.backward();
      return l;
    });
    return { evals: o.state.get(w)!.funcEvals - before };
  }),
];

// ---------------------------------------------------------------- report

const reach = (c: Curve, tol: number): string => {
  const i = c.gaps.findIndex((g) => g < tol);
  return i === -1 ? '—' : `${c.evals[i]} (${i} it)`;
};
console.log(`\ngradient evaluations (iterations) to reach f − f* below a tolerance:`);
console.log(`${'method'.padEnd(32)}${'< 1e-6'.padStart(16)}${'< 1e-12'.padStart(16)}${'final f − f*'.padStart(15)}${'line-search f'.padStart(15)}    time`);
for (const c of curves) {
  console.log(`${c.name.padEnd(32)}${reach(c, 1e-6).padStart(16)}${reach(c, 1e-12).padStart(16)}${c.gaps[c.gaps.length - 1]!.toExponential(2).padStart(15)}${String(c.lossEvals).padStart(15)}  ${c.seconds.toFixed(1).padStart(5)}s`);
}

mkdirSync(args.out, { recursive: true });
const chart = (title: string, maxEvals: number): string => lineChartSvg({
  title,
  xLabel: 'gradient evaluations (a Hessian-vector product counts as one, an exact Hessian as d)',
  yLabel: 'f(w) − f*',
  logY: true,
  series: curves.map((c) => {
    const keep = c.evals.filter((e) => e <= maxEvals).length;
    return { name: c.name, xs: c.evals.slice(0, keep), ys: c.gaps.slice(0, keep) };
  }),
});
const title = `Ill-conditioned logistic regression (n = ${n}, d = ${d}, L/μ ≈ ${(L / lambda).toExponential(0)})`;
for (const [name, svg] of [['loss.svg', chart(title, Infinity)], ['loss-first-300.svg', chart(`The first 300 gradient evaluations (L/μ ≈ ${(L / lambda).toExponential(0)})`, 300)]] as const) {
  const file = join(args.out, name);
  writeFileSync(file, svg);
  console.log(`wrote ${file}`);
}
