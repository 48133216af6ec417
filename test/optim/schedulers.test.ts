/**
 * Every scheduler's (and SWALR's) learning rates (and cycled momentum / beta1) over 60 steps against
 * torch.optim.lr_scheduler (PyTorch 1.13), within 1e-12. Fixtures:
 * scripts/torch_fixtures_optim.py. `cyclic_adam_beta1` (source "reference") cycles Adam's beta1,
 * which CyclicLR only supports from PyTorch 2.x; its expected values are the momentum values
 * 1.13 records for SGD, which 2.x writes into beta1 instead.
 */
import { describe, expect, test } from 'vitest';
import * as tg from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { expectRelClose, loadFixture } from './helpers.js';

const { lrScheduler: S } = optim;

interface Child {
  kind: string;
  options: Record<string, unknown>;
  lambdas?: string[];
}

interface Config extends Child {
  name: string;
  optimizer: 'sgd' | 'adam';
  groupLrs: number[];
  lrs: number[][];
  momentum?: number[][];
  metrics?: number[];
  epochs?: number[];
  children?: Child[];
  source: string;
}

const LAMBDAS: Record<string, (x: number) => number> = {
  exp95: (e) => 0.95 ** e,
  inv: (e) => 1.0 / (e + 1),
  warmup10: (e) => Math.min(1.0, (e + 1) / 10),
  const95: () => 0.95,
  every3: (e) => (e % 3 === 0 ? 0.9 : 1.0),
  sinScale: (x) => 0.5 * (1 + Math.sin((x * Math.PI) / 2)),
  iterDecay: (x) => 1 / (1 + 0.05 * x),
};

type AnyScheduler = { step(arg?: number): void; getLastLr(): number[] };

function build(kind: string, opt: optim.lrScheduler.SchedulerOptimizer, options: Record<string, unknown>, lambdas: string[] | undefined, children: Child[] | undefined): AnyScheduler {
  const fns = (lambdas ?? []).map((n) => LAMBDAS[n]!);
  const lrLambda = fns.length === 1 ? fns[0]! : fns;
  const sub = (): optim.lrScheduler.LRScheduler[] => (children ?? []).map((c) => build(c.kind, opt, c.options, c.lambdas, undefined) as optim.lrScheduler.LRScheduler);
  const o = options as never;
  switch (kind) {
    case 'LambdaLR': return new S.LambdaLR(opt, { ...options, lrLambda });
    case 'MultiplicativeLR': return new S.MultiplicativeLR(opt, { ...options, lrLambda });
    case 'StepLR': return new S.StepLR(opt, o);
    case 'MultiStepLR': return new S.MultiStepLR(opt, o);
    case 'ConstantLR': return new S.ConstantLR(opt, o);
    case 'LinearLR': return new S.LinearLR(opt, o);
    case 'ExponentialLR': return new S.ExponentialLR(opt, o);
    case 'PolynomialLR': return new S.PolynomialLR(opt, o);
    case 'CosineAnnealingLR': return new S.CosineAnnealingLR(opt, o);
    case 'ChainedScheduler': return new S.ChainedScheduler(sub());
    case 'SequentialLR': return new S.SequentialLR(opt, { ...(options as { milestones: number[] }), schedulers: sub() });
    case 'ReduceLROnPlateau': {
      const plateau = new S.ReduceLROnPlateau(opt, o);
      return { step: (metric) => plateau.step(metric!), getLastLr: () => plateau.getLastLr() };
    }
    case 'CyclicLR': return new S.CyclicLR(opt, { ...(options as { baseLr: number; maxLr: number }), ...(fns[0] && { scaleFn: fns[0] }) });
    case 'OneCycleLR': return new S.OneCycleLR(opt, o);
    case 'CosineAnnealingWarmRestarts': return new S.CosineAnnealingWarmRestarts(opt, o);
    case 'SWALR': return new optim.swaUtils.SWALR(opt, o);
    default: throw new Error(`unknown scheduler ${kind}`);
  }
}

function makeOptimizer(kind: 'sgd' | 'adam', lrs: number[]): optim.lrScheduler.SchedulerOptimizer {
  const groups = lrs.map((lr) => ({ params: [tg.zeros([2], { requiresGrad: true })], lr }));
  return kind === 'sgd' ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new optim.Adam(groups, { lr: 0.1 });
}

const momentumOf = (g: optim.ParamGroup): number | undefined => g.betas?.[0] ?? g.momentum;

// Tolerance: 1e-12 relative (the formulas are PyTorch's; only libm's last bits may differ).
const RTOL = 1e-12;
const ATOL = 1e-15;

const { configs } = loadFixture<{ configs: Config[] }>('schedulers');

describe('schedulers match torch.optim.lr_scheduler over 60 steps', () => {
  for (const c of configs) {
    test(`${c.kind}: ${c.name}`, () => {
      const opt = makeOptimizer(c.optimizer, c.groupLrs);
      const sched = build(c.kind, opt, c.options, c.lambdas, c.children);
      const check = (i: number): void => {
        expectRelClose(opt.paramGroups.map((g) => g.lr), c.lrs[i]!, RTOL, ATOL, `lr after ${i} steps`);
        if (i > 0) expectRelClose(sched.getLastLr(), c.lrs[i]!, RTOL, ATOL, `getLastLr after ${i} steps`);
        if (c.momentum) expectRelClose(opt.paramGroups.map((g) => momentumOf(g)!), c.momentum[i]!, RTOL, ATOL, `momentum after ${i} steps`);
      };
      check(0);
      for (let i = 0; i < c.lrs.length - 1; i++) {
        opt.step();
        sched.step(c.metrics?.[i] ?? c.epochs?.[i]);
        check(i + 1);
      }
    });
  }
});

test('every scheduler has several recorded configurations', () => {
  const counts = new Map<string, number>();
  for (const c of configs) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  expect(counts.size).toBe(16);
  for (const [kind, n] of counts) expect(n, kind).toBeGreaterThanOrEqual(3);
});
