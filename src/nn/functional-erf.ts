/**
 * The error function as a differentiable op, plus scalar `erf`/`erfinv` for the initialisers.
 *
 * `erfScalar` follows Sun's fdlibm `s_erf.c` (rational approximations on four intervals, under
 * one ulp in float64), so GELU matches PyTorch to ~1e-16. `erfinvScalar` follows PyTorch's
 * `calc_erfinv`: a rational first guess polished by two Newton steps on `erfScalar`.
 */
import { defineOp } from '../autograd/function.js';
import { apply } from '../autograd/function.js';
import { backendOf } from '../tensor/backend/device.js';
import { allocArray, DEFAULT_FLOAT, isFloating } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

// erf on [0, 0.84375]: x + x * P(x^2) / Q(x^2)
const EFX8 = 1.02703333676410069053e+00;
const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05];
const QQ = [1, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06];
// erf on [0.84375, 1.25]: erx + P(s) / Q(s), s = |x| - 1
const ERX = 8.45062911510467529297e-01;
const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03];
const QA = [1, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02];
// erfc on [1.25, 1/0.35]: exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x
const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01, -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02, -8.12874355063065934246e+01, -9.81432934416914548592e+00];
const SA = [1, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02, 6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02, 6.57024977031928170135e+00, -6.04244152148580987438e-02];
// erfc on [1/0.35, 6]
const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01, -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03, -4.83519191608651397019e+02];
const SB = [1, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03, 3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02, -2.24409524465858183362e+01];

/** Horner evaluation of `c[0] + c[1] z + c[2] z^2 + ...`. */
function poly(c: readonly number[], z: number): number {
  let r = 0;
  for (let i = c.length - 1; i >= 0; i--) r = r * z + c[i]!;
  return r;
}

const wordView = new DataView(new ArrayBuffer(8));

/** `x` with the low 32 bits of its mantissa cleared (fdlibm's SET_LOW_WORD(z, 0)). */
function truncLow(x: number): number {
  wordView.setFloat64(0, x);
  wordView.setUint32(4, 0);
  return wordView.getFloat64(0);
}

/** erfc(|x|) for 1.25 <= |x| < 6, computed without cancellation. */
function erfcTail(ax: number): number {
  const s = 1 / (ax * ax);
  const ratio = ax < 1 / 0.35 ? poly(RA, s) / poly(SA, s) : poly(RB, s) / poly(SB, s);
  // NOTE: exp(-x^2) is split as exp(-z^2) * exp((z - x)(z + x)) with z exact in 21 bits, so
  // the rounding error of x^2 does not reach the result.
  const z = truncLow(ax);
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + ratio)) / ax;
}

/**
 * The error function of a float64 number, accurate to under one ulp.
 * @example
 * erfScalar(0.5);   // 0.5204998778130465
 */
export function erfScalar(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return 0.125 * (8 * x + EFX8 * x);
    const z = x * x;
    return x + x * (poly(PP, z) / poly(QQ, z));
  }
  let y: number;
  if (ax < 1.25) y = ERX + poly(PA, ax - 1) / poly(QA, ax - 1);
  else if (ax < 6) y = 1 - erfcTail(ax);
  else y = 1;
  return x < 0 ? -y : y;
}

const ERFINV_A = [0.886226899, -1.645349621, 0.914624893, -0.140543331];
const ERFINV_B = [-2.118377725, 1.442710462, -0.329097515, 0.012229801];
const ERFINV_C = [-1.970840454, -1.624906493, 3.429567803, 1.641345311];
const ERFINV_D = [3.5438892, 1.6370678];
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The inverse error function on [-1, 1] (±Infinity at ±1, NaN outside), as PyTorch's `erfinv`.
 * @example
 * erfinvScalar(0.5);   // 0.4769362762044699
 */
export function erfinvScalar(y: number): number {
  const ay = Math.abs(y);
  if (!(ay <= 1)) return NaN;
  if (ay === 1) return y > 0 ? Infinity : -Infinity;
  let x: number;
  if (ay <= 0.7) {
    const z = y * y;
    const num = ((ERFINV_A[3]! * z + ERFINV_A[2]!) * z + ERFINV_A[1]!) * z + ERFINV_A[0]!;
    const den = (((ERFINV_B[3]! * z + ERFINV_B[2]!) * z + ERFINV_B[1]!) * z + ERFINV_B[0]!) * z + 1;
    x = (y * num) / den;
  } else {
    const z = Math.sqrt(-Math.log((1 - ay) / 2));
    const num = ((ERFINV_C[3]! * z + ERFINV_C[2]!) * z + ERFINV_C[1]!) * z + ERFINV_C[0]!;
    const den = (ERFINV_D[1]! * z + ERFINV_D[0]!) * z + 1;
    x = (y < 0 ? -num : num) / den;
  }
  // Two Newton steps polish the first guess to full double accuracy.
  x -= (erfScalar(x) - y) / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
  x -= (erfScalar(x) - y) / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
  return x;
}

/** The erf primitive: values from `erfScalar`, derivative `2/sqrt(pi) * exp(-x^2)`. */
const erfOp = defineOp<undefined>({
  name: 'erf',
  saves: 'inputs',
  forward: ([x]) => {
    // A device erf stays on the device (float32 kernel); elsewhere the double-precision scalar.
    const onDevice = backendOf(x!).erf?.(x!);
    if (onDevice) return onDevice;
    const src = x!.dataSync();
    const out = allocArray(x!.dtype, src.length);
    for (let i = 0; i < src.length; i++) out[i] = erfScalar(src[i]!);
    return backendOf(x!).fromArray(out, x!.shape);
  },
  backward: ({ inputs: [x] }, g) => [g.mul(x!.square().neg().exp().mul(TWO_OVER_SQRT_PI))],
});

/**
 * The Gauss error function, elementwise and differentiable (`torch.erf`); integer inputs become
 * float32.
 * @example
 * F.erf(tg.tensor([0, 0.5, 3]));   // [0, 0.5205, 1.0000]
 */
export function erf(x: Tensor): Tensor {
  const input = isFloating(x.dtype) ? x : x.to(DEFAULT_FLOAT);
  return apply(erfOp, [input], undefined);
}
