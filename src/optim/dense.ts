/**
 * Small dense linear algebra in float64 for the second-order optimizers (Newton's damped solve,
 * K-FAC's damped factor inverses): symmetric matrices as row-major Float64Arrays of n·n numbers.
 * Cholesky is all they need: the matrices are symmetric and, once damped, positive definite.
 */

/**
 * The lower Cholesky factor L (A = L·Lᵀ) of the symmetric n×n matrix `a` plus `shift`·I, or
 * null when that matrix is not (numerically) positive definite.
 * @example
 * choleskyFactor(Float64Array.of(4, 2, 2, 3), 2); // Float64Array [2, 0, 1, 1.414…]
 */
export function choleskyFactor(a: ArrayLike<number>, n: number, shift = 0): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]! + shift;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! * l[j * n + k]!;
    // NOTE: `!(d > 0)` also rejects NaN, so a matrix with NaNs is reported as not PD.
    if (!(d > 0)) return null;
    const djj = Math.sqrt(d);
    l[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / djj;
    }
  }
  return l;
}

/**
 * Solve L·Lᵀ·x = b for x, given the Cholesky factor L (forward, then back substitution).
 * @example
 * const L = choleskyFactor(A, n)!; const x = choleskySolve(L, n, b);
 */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  return y;
}

/**
 * The inverse of A = L·Lᵀ from its Cholesky factor, as a symmetric row-major n×n array (one
 * solve per column of the identity).
 * @example
 * const Ainv = choleskyInverse(choleskyFactor(A, n, damping)!, n);
 */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const col = choleskySolve(l, n, e);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i]!;
  }
  // Symmetrise: the two triangles agree up to rounding; average them so the result is exact-symmetric.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = (inv[i * n + j]! + inv[j * n + i]!) / 2;
      inv[i * n + j] = v;
      inv[j * n + i] = v;
    }
  }
  return inv;
}

/**
 * Solve (A + λI)·x = b for a symmetric A with Levenberg-style damping: start from λ = `damping`
 * and, while A + λI is not positive definite, raise λ (to 1e-8·max(1, max|Aᵢᵢ|) from zero, then
 * tenfold). Returns the solution and the λ that worked.
 * @example
 * const { x, damping } = dampedSolve(H, n, g.map((v) => -v), 0);   // a Newton direction
 */
export function dampedSolve(a: ArrayLike<number>, n: number, b: ArrayLike<number>, damping: number): { x: Float64Array; damping: number } {
  let lambda = damping;
  let scale = 1;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(a[i * n + i]!));
  for (let attempt = 0; attempt < 64; attempt++) {
    const l = choleskyFactor(a, n, lambda);
    if (l) return { x: choleskySolve(l, n, b), damping: lambda };
    lambda = lambda === 0 ? 1e-8 * scale : lambda * 10;
  }
  throw new Error('dampedSolve: the matrix stays indefinite (or non-finite) for every damping tried');
}

/** `a · b` over two arrays of equal length. * @example
 * dot64([1, 2], [3, 4]); // 11
 */
export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The Euclidean norm of an array.
 * @example
 * norm64([3, 4]); // 5
 */
export function norm64(a: ArrayLike<number>): number {
  return Math.sqrt(dot64(a, a));
}
