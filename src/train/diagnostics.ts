/**
 * Collapse diagnostics on the CPU in float64 (the fixed batch is small): per-dimension std
 * of the embeddings, correlation matrix of the first dimensions, and the effective rank of
 * the representation (Roy & Vetterli 2007: exp of the entropy of the normalised singular
 * values, here from the eigenvalues of the R x R covariance: Householder + implicit QL).
 */

/** Column means of a row-major [n, d] matrix. */
function colMeans(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) m[j]! /= n;
  return m;
}

/** Unbiased per-column standard deviation (torch.std, as the VICReg variance term uses). */
export function columnStd(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const m = colMeans(x, n, d);
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j]! - m[j]!;
      v[j]! += c * c;
    }
  }
  for (let j = 0; j < d; j++) v[j] = Math.sqrt(v[j]! / Math.max(1, n - 1));
  return v;
}

/** Covariance matrix [d, d] (unbiased) of the columns of x. */
export function covariance(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const m = colMeans(x, n, d);
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - m[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) c[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = c[a * d + b]! / Math.max(1, n - 1);
      c[a * d + b] = v;
      c[b * d + a] = v;
    }
  }
  return c;
}

/**
 * Eigenvalues of a symmetric [n, n] matrix (the input is not modified): Householder reduction
 * to tridiagonal form, then implicit QL with Wilkinson-style shifts (eigenvalues only). About
 * (4/3) n^3 flops, once: the cyclic Jacobi solver this replaces spent ~2 n^3 per sweep over
 * many sweeps, 5-10 s a call at R = 576 on a 2-core machine (every epoch's diagnostics).
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const A = Float64Array.from(a as ArrayLike<number>);
  const d = new Float64Array(n);
  // e[i] couples d[i] and d[i + 1]; e[n - 1] stays 0.
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // Reflect column k below the diagonal, x = A[k+1.., k], onto alpha * unit vector.
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += A[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = A[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    e[k] = alpha;
    if (norm === 0) continue;
    let vnorm = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = A[i * n + k]! - (i === k + 1 ? alpha : 0);
      vnorm += v[i]! ** 2;
    }
    if (vnorm === 0) continue;
    const inv = 1 / Math.sqrt(vnorm);
    for (let i = k + 1; i < n; i++) v[i]! *= inv;
    // Trailing block B <- H B H = B - 2 (v q^T + q v^T), p = B v, q = p - (v^T p) v.
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += A[i * n + j]! * v[j]!;
      p[i] = s;
      vp += v[i]! * s;
    }
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - vp * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const vi = 2 * v[i]!;
      const qi = 2 * p[i]!;
      for (let j = k + 1; j < n; j++) A[i * n + j] = A[i * n + j]! - vi * p[j]! - qi * v[j]!;
    }
  }
  for (let i = 0; i < n; i++) d[i] = A[i * n + i]!;
  if (n >= 2) e[n - 2] = A[(n - 1) * n + n - 2]!;
  e[n - 1] = 0;
  // Implicit QL on the tridiagonal matrix (d, e). An off-diagonal below eps of the matrix's
  // scale also splits it: a rank-deficient covariance has clusters of eigenvalues near 0, where
  // the relative test alone never deflates.
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]!) + Math.abs(e[i]!));
  const floor = Number.EPSILON * scale;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd || Math.abs(e[m]!) <= floor) break;
      }
      if (m === l) break;
      if (iter === 100) throw new Error('symmetricEigenvalues: no convergence');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let shift = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] = d[i + 1]! - shift;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - shift;
        r = (d[i]! - g) * s + 2 * c * b;
        shift = s * r;
        d[i + 1] = g + shift;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] = d[l]! - shift;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/**
 * Effective rank of [n, d] data: singular values of the centred matrix are the square roots
 * of the covariance eigenvalues (up to one common factor, which the normalisation removes).
 */
export function effectiveRank(x: ArrayLike<number>, n: number, d: number): number {
  const ev = symmetricEigenvalues(covariance(x, n, d), d);
  const sv = Array.from(ev, (l) => Math.sqrt(Math.max(l, 0)));
  const sum = sv.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) return 0;
  let h = 0;
  for (const s of sv) {
    const p = s / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Correlation matrix of the first `dim` columns, row-major, rounded (for metrics.jsonl). */
export function correlationMatrix(x: ArrayLike<number>, n: number, d: number, dim: number): number[] {
  const k = Math.min(dim, d);
  const sub = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) sub[i * k + j] = x[i * d + j]!;
  const c = covariance(sub, n, k);
  const out: number[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const den = Math.sqrt(c[a * k + a]! * c[b * k + b]!);
      out.push(den > 0 ? round(c[a * k + b]! / den, 4) : a === b ? 1 : 0);
    }
  }
  return out;
}

export function round(v: number, digits = 5): number {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : v;
}

export interface EmbeddingDiagnostics {
  emb_std_mean: number;
  emb_std_frac_below_gamma: number;
  effective_rank: number;
  std: number[];
}

/** The epoch record's numbers from embeddings [n, e] and representations [n, r]. */
export function diagnose(emb: Float32Array, repr: Float32Array, n: number, e: number, r: number, gamma = 1): EmbeddingDiagnostics {
  const std = columnStd(emb, n, e);
  let below = 0;
  let sum = 0;
  for (const s of std) {
    sum += s;
    if (s < gamma) below++;
  }
  return {
    emb_std_mean: round(sum / e),
    emb_std_frac_below_gamma: round(below / e),
    effective_rank: round(effectiveRank(repr, n, r)),
    std: Array.from(std.subarray(0, 512), (s) => round(s, 4)),
  };
}
