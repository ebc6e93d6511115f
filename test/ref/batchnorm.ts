/** Float64 CPU reference for batch norm (PyTorch semantics) on [N, C, S] data. */

export interface BnRefOut {
  y: Float64Array;
  mean: Float64Array;
  /** biased variance */
  varB: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

export function bnForwardRef(
  x: ArrayLike<number>,
  n: number,
  c: number,
  s: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rm: ArrayLike<number>,
  rv: ArrayLike<number>,
  o: { training: boolean; relu: boolean; eps?: number; momentum?: number },
): BnRefOut {
  const eps = o.eps ?? 1e-5;
  const mom = o.momentum ?? 0.1;
  const m = n * s;
  const mean = new Float64Array(c);
  const varB = new Float64Array(c);
  const runningMean = Float64Array.from(rm);
  const runningVar = Float64Array.from(rv);
  for (let ch = 0; ch < c; ch++) {
    if (!o.training) {
      mean[ch] = rm[ch]!;
      varB[ch] = rv[ch]!;
      continue;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) sum += x[(i * c + ch) * s + j]!;
    const mu = sum / m;
    let sq = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) sq += (x[(i * c + ch) * s + j]! - mu) ** 2;
    mean[ch] = mu;
    varB[ch] = sq / m;
    runningMean[ch] = (1 - mom) * rm[ch]! + mom * mu;
    runningVar[ch] = (1 - mom) * rv[ch]! + mom * (sq / (m - 1));
  }
  const y = new Float64Array(n * c * s);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let j = 0; j < s; j++) {
        const k = (i * c + ch) * s + j;
        const v = ((x[k]! - mean[ch]!) / Math.sqrt(varB[ch]! + eps)) * gamma[ch]! + beta[ch]!;
        y[k] = o.relu ? Math.max(v, 0) : v;
      }
  return { y, mean, varB, runningMean, runningVar };
}

/** Gradients of sum(dy * bn(x)) by the textbook formula (training: stats depend on x). */
export function bnBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  n: number,
  c: number,
  s: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rm: ArrayLike<number>,
  rv: ArrayLike<number>,
  o: { training: boolean; relu: boolean; eps?: number },
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const eps = o.eps ?? 1e-5;
  const f = bnForwardRef(x, n, c, s, gamma, beta, rm, rv, { ...o, momentum: 0.1 });
  const m = n * s;
  const dx = new Float64Array(n * c * s);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const invstd = 1 / Math.sqrt(f.varB[ch]! + eps);
    const idx: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) idx.push((i * c + ch) * s + j);
    const g = idx.map((k) => (o.relu && f.y[k]! <= 0 ? 0 : dy[k]!));
    const xhat = idx.map((k) => (x[k]! - f.mean[ch]!) * invstd);
    let sg = 0;
    let sgx = 0;
    idx.forEach((_, t) => {
      sg += g[t]!;
      sgx += g[t]! * xhat[t]!;
    });
    dbeta[ch] = sg;
    dgamma[ch] = sgx;
    idx.forEach((k, t) => {
      dx[k] = o.training
        ? (gamma[ch]! * invstd * (m * g[t]! - sg - xhat[t]! * sgx)) / m
        : gamma[ch]! * invstd * g[t]!;
    });
  }
  return { dx, dgamma, dbeta };
}
