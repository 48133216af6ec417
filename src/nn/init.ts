/**
 * `nn.init`: in-place initialisers with PyTorch's formulas, run under `noGrad`. Random ones draw
 * from the global generator (or `{ generator }`) in PyTorch's order, so with the same seed they
 * reproduce `torch.nn.init`'s numbers (uniform draws exactly; normal ones to float rounding).
 */
import { noGrad } from '../autograd/grad-mode.js';
import { eye, zeros } from '../tensor/creation.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { erfinvScalar, erfScalar } from './functional-erf.js';

/** The optional random source of the random initialisers. */
export interface InitOptions {
  generator?: Generator;
}

/** Activation names understood by `calculateGain` (PyTorch's spellings). */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** Fan mode of the Kaiming initialisers. */
export type FanMode = 'fan_in' | 'fan_out';

const LINEAR_FNS = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'];

/**
 * The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`); `param` is
 * leaky_relu's negative slope (default 0.01).
 * @example
 * nn.init.calculateGain('relu');              // 1.4142135623730951
 * nn.init.calculateGain('leaky_relu', 0.2);   // 1.3867504905630728
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR_FNS.includes(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  if (nonlinearity === 'tanh') return 5.0 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2.0);
  if (nonlinearity === 'leaky_relu') {
    if (param !== undefined && param !== null && (typeof param !== 'number' || Number.isNaN(param))) {
      throw new TypeError(`negative_slope ${String(param)} not a valid number`);
    }
    const slope = param ?? 0.01;
    return Math.sqrt(2.0 / (1 + slope ** 2));
  }
  if (nonlinearity === 'selu') return 3.0 / 4;
  throw new RangeError(`Unsupported nonlinearity ${String(nonlinearity)}`);
}

/**
 * `[fanIn, fanOut]` of a weight: `size(1) * receptive` and `size(0) * receptive`, where the
 * receptive field is the product of the dims after the first two (PyTorch's
 * `_calculate_fan_in_and_fan_out`).
 * @example
 * nn.init.calculateFanInAndFanOut(tg.zeros([8, 3, 5, 5]));   // [75, 200]
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new RangeError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

const genOpts = (opts: InitOptions) => (opts.generator ? { generator: opts.generator } : {});

/**
 * Fill with U(a, b) (`init.uniform_`).
 * @example
 * nn.init.uniform_(w, -0.1, 0.1);
 */
export function uniform_(t: Tensor, a = 0, b = 1, opts: InitOptions = {}): Tensor {
  return noGrad(() => t.uniform_(a, b, genOpts(opts)));
}

/**
 * Fill with N(mean, std^2) (`init.normal_`).
 * @example
 * nn.init.normal_(w, 0, 0.02);
 */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  return noGrad(() => t.normal_(mean, std, genOpts(opts)));
}

/** Fill with `value` (`init.constant_`). @example nn.init.constant_(b, 0.1); */
export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

/** Fill with zeros (`init.zeros_`). @example nn.init.zeros_(b); */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fill with ones (`init.ones_`). @example nn.init.ones_(gamma); */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * Fill a 2-D tensor with the identity (`init.eye_`).
 * @example
 * nn.init.eye_(tg.empty([2, 3]));   // [[1, 0, 0], [0, 1, 0]]
 */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new RangeError('Only tensors with 2 dimensions are supported');
  return noGrad(() => t.copy_(eye(t.shape[0]!, t.shape[1]!, { dtype: t.dtype, device: t.device })));
}

/**
 * Glorot/Xavier uniform: U(-a, a) with `a = gain * sqrt(6 / (fanIn + fanOut))` (`init.xavier_uniform_`).
 * @example
 * nn.init.xavierUniform_(w, nn.init.calculateGain('tanh'));
 */
export function xavierUniform_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a, opts);
}

/**
 * Glorot/Xavier normal: N(0, std^2) with `std = gain * sqrt(2 / (fanIn + fanOut))` (`init.xavier_normal_`).
 * @example
 * nn.init.xavierNormal_(w);
 */
export function xavierNormal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  return normal_(t, 0, std, opts);
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only; default 0). */
  a?: number;
  /** 'fan_in' (default) preserves the forward variance, 'fan_out' the backward one. */
  mode?: FanMode;
  /** The nonlinearity after this layer (default 'leaky_relu'). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' } = opts;
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new RangeError(`Mode ${String(mode)} not supported, please use one of ['fan_in', 'fan_out']`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const gain = calculateGain(nonlinearity, a);
  return gain / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
}

/**
 * Kaiming/He uniform: U(-bound, bound), `bound = gain * sqrt(3 / fan)` (`init.kaiming_uniform_`).
 * `nn.Linear` uses it with `a = sqrt(5)`.
 * @example
 * nn.init.kaimingUniform_(w, { mode: 'fan_in', nonlinearity: 'relu' });
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t; // PyTorch warns: initializing zero-element tensors is a no-op
  const bound = Math.sqrt(3.0) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts);
}

/**
 * Kaiming/He normal: N(0, std^2), `std = gain / sqrt(fan)` (`init.kaiming_normal_`).
 * @example
 * nn.init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
 */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  return normal_(t, 0, kaimingStd(t, opts), opts);
}

/**
 * Reduced QR of a row-major m x n matrix (m >= n) by Householder reflections in float64;
 * returns Q (m x n, row-major) and the diagonal of R.
 */
function householderQr(a: Float64Array, m: number, n: number): { q: Float64Array; rDiag: Float64Array } {
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m - k);
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = a[k * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i - k] = a[i * n + k]!;
    v[0] = x0 - alpha;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i]! ** 2;
    vnorm = Math.sqrt(vnorm);
    if (vnorm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / vnorm;
    // A[k:, k:] -= 2 v (v^T A[k:, k:])
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * a[i * n + j]!;
      for (let i = k; i < m; i++) a[i * n + j] = a[i * n + j]! - 2 * v[i - k]! * dot;
    }
    vs.push(v);
  }
  const rDiag = new Float64Array(n);
  for (let k = 0; k < n; k++) rDiag[k] = a[k * n + k]!;
  // Q = H_0 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let k = 0; k < n; k++) q[k * n + k] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * q[i * n + j]!;
      for (let i = k; i < m; i++) q[i * n + j] = q[i * n + j]! - 2 * v[i - k]! * dot;
    }
  }
  return { q, rDiag };
}

/**
 * A (semi-)orthogonal matrix from the QR decomposition of a normal sample, signs fixed so R has
 * a positive diagonal, times `gain` (`init.orthogonal_`, Saxe et al. 2013). Dims after the
 * first are flattened.
 * @example
 * nn.init.orthogonal_(w);   // w @ w.T ~ I when rows <= cols
 */
export function orthogonal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  if (t.ndim < 2) throw new RangeError('Only tensors with 2 or more dimensions are supported');
  if (t.numel() === 0) return t;
  const rows = t.shape[0]!;
  const cols = t.numel() / rows;
  const sample = Float64Array.from(noGrad(() => zeros([rows, cols], { dtype: t.dtype }).normal_(0, 1, genOpts(opts))).dataSync());
  // QR of the tall orientation: the sample itself, or its transpose when rows < cols.
  const [m, n] = rows < cols ? [cols, rows] : [rows, cols];
  const tall = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) tall[rows < cols ? j * n + i : i * n + j] = sample[i * cols + j]!;
  const { q, rDiag } = householderQr(tall, m, n);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = q[i * n + j]! * Math.sign(rDiag[j]!) * gain;
      out[rows < cols ? j * cols + i : i * cols + j] = v;
    }
  }
  return noGrad(() => t.fillFromArray_(out));
}

/**
 * Fill with N(mean, std^2) truncated to [a, b] by inverse-CDF sampling (`init.trunc_normal_`).
 * @example
 * nn.init.truncNormal_(w, 0, 0.02, -0.04, 0.04);
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: InitOptions = {}): Tensor {
  const normCdf = (x: number) => (1 + erfScalar(x / Math.SQRT2)) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  const f32 = t.dtype === 'float32';
  const round = f32 ? Math.fround : (x: number) => x;
  // The same steps as PyTorch (uniform_, erfinv_, mul_, add_, clamp_), rounded per step in float32.
  const draws = noGrad(() => zeros([t.numel()], { dtype: t.dtype }).uniform_(2 * l - 1, 2 * u - 1, genOpts(opts))).dataSync();
  const scale = round(std * Math.sqrt(2));
  const out = new Float64Array(draws.length);
  for (let i = 0; i < draws.length; i++) {
    const v = round(round(round(erfinvScalar(draws[i]!)) * scale) + round(mean));
    out[i] = Math.min(Math.max(v, round(a)), round(b));
  }
  return noGrad(() => t.fillFromArray_(out));
}
