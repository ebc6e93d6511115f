/** float64 CPU references for matmul and the linear layer (weight [out, in]). */
export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number, tA = false, tB = false): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? a[k * M + i]! : a[i * K + k]!) * (tB ? b[j * K + k]! : b[k * N + j]!);
      c[i * N + j] = s;
    }
  return c;
}

export function linearForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, batch: number, nin: number, nout: number, relu = false): Float64Array {
  const y = matmulRef(x, w, batch, nout, nin, false, true);
  for (let i = 0; i < y.length; i++) {
    let v = y[i]! + (b ? b[i % nout]! : 0);
    if (relu) v = Math.max(0, v);
    y[i] = v;
  }
  return y;
}

/** Gradients of sum(gy * linear(x)) given the forward output y (for the ReLU mask). */
export function linearBackwardRef(x: ArrayLike<number>, w: ArrayLike<number>, gy: ArrayLike<number>, y: ArrayLike<number> | null, batch: number, nin: number, nout: number) {
  const g = Float64Array.from(gy, (v, i) => (y && y[i]! <= 0 ? 0 : v));
  const dx = matmulRef(g, w, batch, nin, nout);
  const dw = matmulRef(g, x, nout, nin, batch, true, false);
  const db = new Float64Array(nout);
  for (let i = 0; i < g.length; i++) db[i % nout]! += g[i]!;
  return { dx, dw, db };
}
