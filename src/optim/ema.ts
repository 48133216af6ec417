/**
 * Averages of the weights along the optimization path, kept beside the model and swapped into it
 * for evaluation: an exponential moving average (`EMA`) and the uniform Polyak-Ruppert average
 * (`PolyakAveraging`). They complement `swaUtils.AveragedModel`, which keeps a second model.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { isFloating } from '../tensor/dtype.js';
import { keep, scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { pyNumber } from './check.js';
import { readFloats, writeFloats } from './flat.js';
import type { Optimizer, OptimizerOptions, RemovableHandle } from './optimizer.js';
import type { StateValue } from './state.js';

/** Options of `EMA` and `PolyakAveraging`, e.g. `{ decay: 0.999, warmup: true }`. */
export interface EMAOptions {
  /** Decay β of `avg ← β·avg + (1 − β)·w` (default 0.999). */
  decay?: number;
  /**
   * Warm the decay up as TensorFlow's `ExponentialMovingAverage(num_updates=…)`:
   * β_n = min(decay, (1 + n)/(10 + n)), so early averages do not remember the initialisation (default false).
   */
  warmup?: boolean;
  /** Updates before this many calls of `update()` only copy the weights (default 0). */
  startStep?: number;
  /** With a Module: also average its floating-point buffers (BatchNorm statistics) (default false). */
  includeBuffers?: boolean;
}

/** `stateDict()` of an average: the update count and the averaged tensors, in order. */
export interface AveragingStateDict {
  numUpdates: number;
  averaged: Tensor[];
}

/** What the averages can follow: a module (its parameters, and buffers on request) or tensors. */
export type AveragingSource = { parameters(): Tensor[]; buffers(): Tensor[] } | Iterable<Tensor>;

function isModuleLike(x: AveragingSource): x is { parameters(): Tensor[]; buffers(): Tensor[] } {
  return typeof (x as { parameters?: unknown }).parameters === 'function' && typeof (x as { buffers?: unknown }).buffers === 'function';
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor);
}

/**
 * Whether an update touches a tensor off the CPU: then it runs as tensor ops on the device, in
 * place (WebGPU cannot read back synchronously), instead of through flat host arrays.
 */
function offCpu(a: Tensor, b: Tensor): boolean {
  return a.device !== 'cpu' || b.device !== 'cpu';
}

/**
 * An exponential moving average of a model's weights (Polyak & Juditsky 1992; the EMA used by
 * e.g. Adam's authors, TensorFlow and timm), updated after each optimizer step and swapped into
 * the model for evaluation. Works with any optimizer. Tensors off the CPU are averaged, swapped
 * and copied with tensor ops in place (nothing is read back).
 * ```
 * n ← n + 1;   β = warmup ? min(decay, (1 + n)/(10 + n)) : decay
 * avg ← β·avg + (1 − β)·w          (avg ← w while n ≤ startStep)
 * ```
 * @example
 * const ema = new optim.EMA(model, { decay: 0.999 });
 * ema.attach(opt);                                   // update after every opt.step()
 * const acc = ema.withAveraged(() => evaluate(model)); // evaluate the averaged weights
 */
export class EMA {
  /** The live tensors being averaged (the model's parameters, and buffers with `includeBuffers`). */
  readonly tracked: Tensor[];
  /** The averages, one per tracked tensor. */
  averaged: Tensor[];
  /** `update()` calls so far. */
  numUpdates = 0;
  readonly decay: number;
  readonly warmup: boolean;
  readonly startStep: number;
  private swapped = false;
  private readonly includeBuffers: boolean;

  constructor(source: AveragingSource, options: EMAOptions = {}) {
    const decay = options.decay ?? 0.999;
    if (!(decay >= 0 && decay <= 1)) throw new RangeError(`Invalid decay value: ${pyNumber(decay)}`);
    this.decay = decay;
    this.warmup = options.warmup ?? false;
    this.startStep = options.startStep ?? 0;
    this.includeBuffers = options.includeBuffers ?? false;
    this.tracked = this.tensorsOf(source);
    for (const t of this.tracked) {
      if (!(t instanceof Tensor) || !isFloating(t.dtype)) throw new TypeError('EMA averages floating-point tensors only');
    }
    this.averaged = this.tracked.map((t) => keep(noGrad(() => t.clone())));
  }

  private tensorsOf(source: AveragingSource): Tensor[] {
    if (!isModuleLike(source)) return [...source];
    const buffers = this.includeBuffers ? source.buffers().filter((b) => isFloating(b.dtype)) : [];
    return [...source.parameters(), ...buffers];
  }

  /** The decay the next `update()` uses (after `numUpdates` updates). */
  currentDecay(): number {
    const n = this.numUpdates + 1;
    if (n <= this.startStep) return 0;
    return this.warmup ? Math.min(this.decay, (1 + n) / (10 + n)) : this.decay;
  }

  /** Fold the current weights into the average (after an optimizer step). */
  update(): void {
    if (this.swapped) throw new Error('update() was called while the averaged weights are swapped into the model; call swap() again first');
    const beta = this.currentDecay();
    this.numUpdates += 1;
    noGrad(() => this.tracked.forEach((t, i) => {
      const a = this.averaged[i]!;
      if (offCpu(t, a)) {
        scope(() => void a.copy_(a.mul(beta).add(t.to(a.device).mul(1 - beta))));
        return;
      }
      const w = readFloats(t);
      writeFloats([a], (avg) => {
        for (let j = 0; j < avg.length; j++) avg[j] = beta * avg[j]! + (1 - beta) * w[j]!;
      });
    }));
  }

  /**
   * Update after every `optimizer.step()` (a step post-hook); returns the hook's handle.
   * @example
   * const handle = ema.attach(opt); // … handle.remove();
   */
  attach(optimizer: Optimizer<OptimizerOptions, unknown>): RemovableHandle {
    return optimizer.registerStepPostHook(() => this.update());
  }

  /** Whether the averages are currently in the model (after an odd number of `swap()` calls). */
  get isSwapped(): boolean {
    return this.swapped;
  }

  /**
   * Exchange the averages and the live weights in place (optimizer references stay valid); call
   * again to swap back.
   * @example
   * ema.swap(); evaluate(model); ema.swap();
   */
  swap(): void {
    noGrad(() => this.tracked.forEach((t, i) => {
      const a = this.averaged[i]!;
      if (offCpu(t, a)) {
        scope(() => {
          const live = t.clone();
          t.copy_(a.reshape(t.shape));
          a.copy_(live.reshape(a.shape));
        });
        return;
      }
      const live = readFloats(t).slice();
      const avg = readFloats(this.averaged[i]!);
      writeFloats([t], (w) => w.set(avg));
      writeFloats([this.averaged[i]!], (a) => a.set(live));
    }));
    this.swapped = !this.swapped;
  }

  /**
   * Run `fn` with the averaged weights in the model, restoring the live weights afterwards (also
   * when `fn` throws).
   * @example
   * const testLoss = ema.withAveraged(() => evaluate(model));
   */
  withAveraged<T>(fn: () => T): T {
    this.swap();
    try {
      return fn();
    } finally {
      this.swap();
    }
  }

  /**
   * Copy the averages into other tensors, e.g. a second model's parameters (same order as the
   * tracked tensors: `model.parameters()`, then buffers with `includeBuffers`).
   * @example
   * ema.copyTo(evalModel.parameters());
   */
  copyTo(targets: AveragingSource): void {
    const list = this.tensorsOf(targets);
    if (list.length !== this.averaged.length) throw new RangeError(`copyTo: expected ${this.averaged.length} tensors, got ${list.length}`);
    const source = this.swapped ? this.tracked : this.averaged;
    noGrad(() => list.forEach((t, i) => {
      if (offCpu(t, source[i]!)) {
        scope(() => void t.copy_(source[i]!.reshape(t.shape)));
        return;
      }
      const avg = readFloats(source[i]!);
      writeFloats([t], (w) => w.set(avg));
    }));
  }

  /** The update count and (copies of) the averages. */
  stateDict(): AveragingStateDict {
    const source = this.swapped ? this.tracked : this.averaged;
    return { numUpdates: this.numUpdates, averaged: source.map((t) => noGrad(() => t.clone())) };
  }

  /** Restore `stateDict()`'s result (also after `stateToJSON`/`stateFromJSON`). */
  loadStateDict(stateDict: AveragingStateDict | StateValue): void {
    if (!isRecord(stateDict) || typeof stateDict['numUpdates'] !== 'number' || !Array.isArray(stateDict['averaged'])) {
      throw new TypeError('loadStateDict expects an object with `numUpdates` and `averaged`, as returned by stateDict()');
    }
    const avg = stateDict['averaged'] as unknown[];
    if (avg.length !== this.tracked.length || !avg.every((t, i) => t instanceof Tensor && t.numel() === this.tracked[i]!.numel())) {
      throw new RangeError(`loaded state dict does not match the ${this.tracked.length} averaged tensors`);
    }
    if (this.swapped) this.swap();
    this.numUpdates = stateDict['numUpdates'];
    this.averaged = this.tracked.map((t, i) => keep(noGrad(() => (avg[i] as Tensor).detach().to(t.dtype).to(t.device).reshape(t.shape).clone())));
  }
}

/**
 * The Polyak-Ruppert average (Polyak & Juditsky, 1992; Ruppert, 1988): the uniform mean of the
 * weights after each `update()` from `startStep` on, `avg ← avg + (w − avg)/m` for the m-th
 * averaged iterate. For SGD on convex problems the average converges at the optimal rate even
 * with a constant step size.
 * @example
 * const avg = new optim.PolyakAveraging(model.parameters(), { startStep: 1000 });
 * avg.attach(opt);
 * avg.withAveraged(() => evaluate(model));
 */
export class PolyakAveraging extends EMA {
  constructor(source: AveragingSource, options: Omit<EMAOptions, 'decay' | 'warmup'> = {}) {
    super(source, { ...options, decay: 1 });
  }

  /** m/(m + 1) for the (m + 1)-th averaged iterate (0 for the first, and before `startStep`). */
  override currentDecay(): number {
    const m = this.numUpdates - this.startStep;
    return m <= 0 ? 0 : m / (m + 1);
  }
}
