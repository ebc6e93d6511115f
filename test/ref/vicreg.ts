/**
 * Float64 CPU reference for the VICReg loss, written straight from the definitions
 * (d x d covariance, no Gram trick) so that it is independent of the GPU kernels.
 */
export interface RefOptions {
  convention?: 'official' | 'paper';
  lambda?: number;
  mu?: number;
  nu?: number;
  gamma?: number;
  eps?: number;
}

export interface RefResult {
  loss: number;
  invariance: number;
  variance: number;
  covariance: number;
  g1: Float64Array;
  g2: Float64Array;
}

function viewTerms(z: ArrayLike<number>, n: number, d: number, gamma: number, eps: number) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + z[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  const zc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) zc[i * d + j] = z[i * d + j]! - mean[j]!;
  // C = Zcᵀ Zc / (n-1)
  const C = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = zc.subarray(i * d, i * d + d);
    for (let a = 0; a < d; a++) {
      const va = row[a]!;
      if (va === 0) continue;
      const off = a * d;
      for (let b = 0; b < d; b++) C[off + b] = C[off + b]! + va * row[b]!;
    }
  }
  for (let k = 0; k < d * d; k++) C[k] = C[k]! / (n - 1);
  const std = new Float64Array(d);
  let v = 0;
  for (let j = 0; j < d; j++) {
    std[j] = Math.sqrt(C[j * d + j]! + eps);
    v += Math.max(0, gamma - std[j]!);
  }
  v /= d;
  let c = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) if (a !== b) c += C[a * d + b]! ** 2;
  c /= d;
  // dv/dZ = -(1/d) [S_j < γ] Zc_ij / ((n-1) S_j); dc/dZ = 4/(d (n-1)) Zc Coff
  const gv = new Float64Array(n * d);
  const gc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const zij = zc[i * d + j]!;
      if (std[j]! < gamma) gv[i * d + j] = -zij / ((n - 1) * std[j]! * d);
      let s = 0;
      const cj = C.subarray(j * d, j * d + d); // C is symmetric: row j, contiguous
      for (let k = 0; k < d; k++) if (k !== j) s += zc[i * d + k]! * cj[k]!;
      gc[i * d + j] = (4 / (d * (n - 1))) * s;
    }
  }
  return { v, c, gv, gc };
}

export function vicregRef(z1: ArrayLike<number>, z2: ArrayLike<number>, n: number, d: number, o: RefOptions = {}): RefResult {
  const { convention = 'official', lambda = 25, mu = 25, nu = 1, gamma = 1, eps = 1e-4 } = o;
  const official = convention === 'official';
  let sq = 0;
  for (let k = 0; k < n * d; k++) sq += (z1[k]! - z2[k]!) ** 2;
  const invariance = official ? sq / (n * d) : sq / n;
  const a = viewTerms(z1, n, d, gamma, eps);
  const b = viewTerms(z2, n, d, gamma, eps);
  const vw = official ? 0.5 : 1;
  const variance = vw * (a.v + b.v);
  const covariance = a.c + b.c;
  const loss = lambda * invariance + mu * variance + nu * covariance;
  const ai = lambda * (official ? 2 / (n * d) : 2 / n);
  const g1 = new Float64Array(n * d);
  const g2 = new Float64Array(n * d);
  for (let k = 0; k < n * d; k++) {
    const diff = z1[k]! - z2[k]!;
    g1[k] = ai * diff + mu * vw * a.gv[k]! + nu * a.gc[k]!;
    g2[k] = -ai * diff + mu * vw * b.gv[k]! + nu * b.gc[k]!;
  }
  return { loss, invariance, variance, covariance, g1, g2 };
}

/** The fixed test vector from the issue: a[i][j] = (0.5+0.5j)·sin(1+0.7i+1.3j), b = a + 0.3·cos(2+0.9i+0.4j). */
export function fixedVector(n = 8, d = 4): { a: Float32Array; b: Float32Array } {
  const a = new Float32Array(n * d);
  const b = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = (0.5 + 0.5 * j) * Math.sin(1 + 0.7 * i + 1.3 * j);
      a[i * d + j] = v;
      b[i * d + j] = v + 0.3 * Math.cos(2 + 0.9 * i + 0.4 * j);
    }
  return { a, b };
}
