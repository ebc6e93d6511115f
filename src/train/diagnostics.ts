/**
 * Collapse diagnostics on the CPU in float64 (the fixed batch is small): per-dimension std
 * of the embeddings, correlation matrix of the first dimensions, and the effective rank of
 * the representation (Roy & Vetterli 2007: exp of the entropy of the normalised singular
 * values, here from the eigenvalues of the R x R covariance by a cyclic Jacobi solver).
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

/** Eigenvalues of a symmetric [n, n] matrix (cyclic Jacobi rotations; the input is not modified). */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number, maxSweeps = 100): Float64Array {
  const A = Float64Array.from(a as ArrayLike<number>);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += A[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += A[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => A[i * n + i]!);
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
