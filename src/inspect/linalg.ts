// The one piece of dense linear algebra inspect-gradients needs: the spectral norm ‖A‖₂ (the
// largest singular value) of a small dense matrix, in float64.
//
// ‖A‖₂ = √λ_max(AᵀA). λ_max comes from Lanczos on AᵀA, which needs only the products A·v and
// Aᵀ·u (2·rows·cols each) and finds the extreme eigenvalue in far fewer steps than power
// iteration when the top singular values lie close together, as they do for random-looking
// recurrent matrices. Every new Lanczos vector is re-orthogonalised against all earlier ones
// (twice), so rounding cannot produce spurious copies of converged eigenvalues; the basis is at
// most `cols` vectors. The tridiagonal matrix's largest eigenvalue is found by bisection on
// Sturm counts, which is exact to rounding and needs no eigenvector.

/** Relative change of the top Ritz value below which Lanczos stops. The Ritz values rise
 *  monotonically towards λ_max (Cauchy interlacing), so a stalled value has converged. */
const RITZ_TOL = 1e-13;

/** A fixed start vector: reproducible results, and (being "random") almost surely not
 *  orthogonal to the top singular vector. A small LCG, so this file needs nothing else. */
function startVector(n: number): Float64Array {
  const v = new Float64Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 4294967296 - 0.5;
  }
  normalize(v);
  return v;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalize(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return n;
}

/** Number of eigenvalues below x of the symmetric tridiagonal matrix with diagonal a[0..n) and
 *  off-diagonal b[0..n−1) (Sturm sequence via the LDLᵀ pivots). */
function countBelow(a: number[], b: number[], n: number, x: number, tiny: number): number {
  let count = 0;
  let d = 1;
  for (let i = 0; i < n; i++) {
    d = a[i] - x - (i > 0 ? (b[i - 1] * b[i - 1]) / d : 0);
    // A zero pivot would divide by zero at the next step; nudging it is the standard remedy
    // and moves the count only for x within rounding of an eigenvalue.
    if (d === 0) d = -tiny;
    if (d < 0) count++;
  }
  return count;
}

/** The largest eigenvalue of the symmetric tridiagonal matrix (a, b) of order n, by bisection. */
export function tridiagonalMaxEigenvalue(a: number[], b: number[], n: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]) : 0) + (i < n - 1 ? Math.abs(b[i]) : 0);
    lo = Math.min(lo, a[i] - r);
    hi = Math.max(hi, a[i] + r);
  }
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  if (scale === 0) return 0;
  const tiny = scale * 1e-300 || Number.MIN_VALUE;
  // Gershgorin: every eigenvalue lies in [lo, hi]. Invariant: the largest one stays in [lo, hi].
  for (let it = 0; it < 200 && hi - lo > 2e-16 * scale; it++) {
    const mid = (lo + hi) / 2;
    if (countBelow(a, b, n, mid, tiny) === n) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/**
 * ‖A‖₂, the largest singular value of the rows × cols matrix A (row-major, float64).
 * Exact to rounding when Lanczos runs all `cols` steps (small matrices); otherwise it stops
 * once the estimate has stopped moving (relative change < 1e-13 twice in a row).
 */
export function spectralNorm(A: ArrayLike<number>, rows: number, cols: number): number {
  if (rows === 0 || cols === 0) return 0;
  const n = cols;
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  const u = new Float64Array(rows);
  let v = startVector(n);
  let theta = 0;
  let stalled = 0;
  for (let j = 0; j < n; j++) {
    basis.push(v);
    // w = Aᵀ(A v)
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const o = r * cols;
      for (let c = 0; c < cols; c++) s += A[o + c] * v[c];
      u[r] = s;
    }
    const w = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const ur = u[r];
      if (ur === 0) continue;
      const o = r * cols;
      for (let c = 0; c < cols; c++) w[c] += A[o + c] * ur;
    }
    const a = dot(w, v);
    alpha.push(a);
    // Full re-orthogonalisation, twice ("twice is enough": Parlett), subsumes the three-term
    // recurrence's subtraction of a·v_j and b·v_{j−1}.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        const c = dot(w, q);
        for (let i = 0; i < n; i++) w[i] -= c * q[i];
      }
    }
    const next = tridiagonalMaxEigenvalue(alpha, beta, alpha.length);
    const b = Math.sqrt(dot(w, w));
    const change = Math.abs(next - theta);
    theta = next;
    // Converged, or the Krylov space is invariant (b ≈ 0): θ is then an exact eigenvalue of
    // AᵀA, and the largest one, because the start vector has a component along every direction.
    if (b <= 1e-14 * Math.max(theta, Number.MIN_VALUE) || theta === 0) break;
    if (change <= RITZ_TOL * theta) {
      if (++stalled >= 2) break;
    } else stalled = 0;
    beta.push(b);
    for (let i = 0; i < n; i++) w[i] /= b;
    v = w;
  }
  return Math.sqrt(Math.max(0, theta));
}
