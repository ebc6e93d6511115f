/** Float64 CPU references for ReLU and pooling on [N, C, H, W] (PyTorch semantics, no padding). */

export function reluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.max(v, 0));
}

/** d/dx of sum(dy * relu(x)); 0 at x = 0 as PyTorch. */
export function reluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => (v > 0 ? dy[i]! : 0));
}

export function poolOut(h: number, k: number, s: number): number {
  return Math.floor((h - k) / s) + 1;
}

/** Max pool forward (first maximum in row-major window order) with argmax per output. */
export function maxPoolRef(x: ArrayLike<number>, nc: number, h: number, w: number, k: number, s: number) {
  const oh = poolOut(h, k, s);
  const ow = poolOut(w, k, s);
  const y = new Float64Array(nc * oh * ow);
  const arg = new Int32Array(nc * oh * ow);
  for (let p = 0; p < nc; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const q = (i * s + a) * w + j * s + b;
            const v = x[p * h * w + q]!;
            if (v > best) {
              best = v;
              at = q;
            }
          }
        y[(p * oh + i) * ow + j] = best;
        arg[(p * oh + i) * ow + j] = at;
      }
  return { y, arg, oh, ow };
}

export function maxPoolBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, nc: number, h: number, w: number, k: number, s: number) {
  const { arg, oh, ow } = maxPoolRef(x, nc, h, w, k, s);
  const dx = new Float64Array(nc * h * w);
  for (let p = 0; p < nc; p++)
    for (let o = 0; o < oh * ow; o++) {
      const q = p * h * w + arg[p * oh * ow + o]!;
      dx[q] = dx[q]! + dy[p * oh * ow + o]!;
    }
  return dx;
}

export function avgPoolRef(x: ArrayLike<number>, nc: number, h: number, w: number, k: number, s: number): Float64Array {
  const oh = poolOut(h, k, s);
  const ow = poolOut(w, k, s);
  const y = new Float64Array(nc * oh * ow);
  for (let p = 0; p < nc; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let acc = 0;
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) acc += x[p * h * w + (i * s + a) * w + j * s + b]!;
        y[(p * oh + i) * ow + j] = acc / (k * k);
      }
  return y;
}

export function avgPoolBackwardRef(dy: ArrayLike<number>, nc: number, h: number, w: number, k: number, s: number): Float64Array {
  const oh = poolOut(h, k, s);
  const ow = poolOut(w, k, s);
  const dx = new Float64Array(nc * h * w);
  for (let p = 0; p < nc; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const q = p * h * w + (i * s + a) * w + j * s + b;
            dx[q] = dx[q]! + dy[(p * oh + i) * ow + j]! / (k * k);
          }
  return dx;
}

export function globalAvgPoolRef(x: ArrayLike<number>, nc: number, hw: number): Float64Array {
  const y = new Float64Array(nc);
  for (let p = 0; p < nc; p++) {
    let acc = 0;
    for (let q = 0; q < hw; q++) acc += x[p * hw + q]!;
    y[p] = acc / hw;
  }
  return y;
}

export function globalAvgPoolBackwardRef(dy: ArrayLike<number>, nc: number, hw: number): Float64Array {
  return Float64Array.from({ length: nc * hw }, (_, i) => dy[Math.floor(i / hw)]! / hw);
}
