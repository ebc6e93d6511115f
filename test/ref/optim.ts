/** Float64 CPU references of the optimizers (one step, in place) and nothing else. */

export interface RefParam {
  p: Float64Array;
  ndim: number;
  /** state, created on first use like PyTorch's */
  s?: Float64Array[];
}

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

/** facebookresearch/vicreg main_vicreg.py LARS with exclude_bias_and_norm filters. */
export function larsStepRef(
  x: RefParam,
  g: ArrayLike<number>,
  lr: number,
  o: { weightDecay?: number; momentum?: number; eta?: number } = {},
): void {
  const wd = o.weightDecay ?? 1e-6;
  const mom = o.momentum ?? 0.9;
  const eta = o.eta ?? 0.001;
  let dp = Float64Array.from(g);
  if (x.ndim !== 1) {
    dp = dp.map((v, i) => v + wd * x.p[i]!);
    const pn = norm(x.p);
    const dn = norm(dp);
    const q = pn > 0 ? (dn > 0 ? (eta * pn) / dn : 1) : 1;
    dp = dp.map((v) => v * q);
  }
  const mu = (x.s ??= [new Float64Array(x.p.length)])[0]!;
  for (let i = 0; i < mu.length; i++) {
    mu[i] = mom * mu[i]! + dp[i]!;
    x.p[i] = x.p[i]! - lr * mu[i]!;
  }
}

/** torch.optim.SGD (maximize = False). */
export function sgdStepRef(
  x: RefParam,
  g: ArrayLike<number>,
  lr: number,
  o: { momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean } = {},
): void {
  const mom = o.momentum ?? 0;
  const damp = o.dampening ?? 0;
  const wd = o.weightDecay ?? 0;
  let d = Float64Array.from(g, (v, i) => v + wd * x.p[i]!);
  if (mom !== 0) {
    let buf: Float64Array;
    if (!x.s) {
      buf = Float64Array.from(d);
      x.s = [buf];
    } else {
      buf = x.s[0]!;
      for (let i = 0; i < buf.length; i++) buf[i] = mom * buf[i]! + (1 - damp) * d[i]!;
    }
    d = o.nesterov ? d.map((v, i) => v + mom * buf[i]!) : Float64Array.from(buf);
  }
  for (let i = 0; i < d.length; i++) x.p[i] = x.p[i]! - lr * d[i]!;
}

/** torch.optim.AdamW (amsgrad = False); `t` is the 1-based step. */
export function adamwStepRef(
  x: RefParam,
  g: ArrayLike<number>,
  lr: number,
  t: number,
  o: { betas?: [number, number]; eps?: number; weightDecay?: number } = {},
): void {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0.01;
  const [m, v] = (x.s ??= [new Float64Array(x.p.length), new Float64Array(x.p.length)]) as [Float64Array, Float64Array];
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  for (let i = 0; i < m.length; i++) {
    x.p[i] = x.p[i]! * (1 - lr * wd);
    m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
    v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
    x.p[i] = x.p[i]! - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps);
  }
}
