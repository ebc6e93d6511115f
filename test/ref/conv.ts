/** float64 CPU references for conv2d (NCHW, weight [cout, cin, kh, kw]) and its gradients. */
export interface ConvShape {
  nb: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

export function outSize(s: ConvShape): [number, number] {
  return [Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1, Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1];
}

/** Visits every (output position, weight tap) pair that touches a real input pixel. */
function forEachTap(s: ConvShape, f: (yi: number, wi: number, xi: number, co: number, n: number) => void): void {
  const [oh, ow] = outSize(s);
  for (let n = 0; n < s.nb; n++)
    for (let co = 0; co < s.cout; co++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let ci = 0; ci < s.cin; ci++)
            for (let ky = 0; ky < s.k; ky++)
              for (let kx = 0; kx < s.k; kx++) {
                const iy = oy * s.stride - s.pad + ky;
                const ix = ox * s.stride - s.pad + kx;
                if (iy < 0 || ix < 0 || iy >= s.h || ix >= s.w) continue;
                f(((n * s.cout + co) * oh + oy) * ow + ox, ((co * s.cin + ci) * s.k + ky) * s.k + kx, ((n * s.cin + ci) * s.h + iy) * s.w + ix, co, n);
              }
}

export function convForwardRef(s: ConvShape, x: ArrayLike<number>, w: ArrayLike<number>, b?: ArrayLike<number>): Float64Array {
  const [oh, ow] = outSize(s);
  const y = new Float64Array(s.nb * s.cout * oh * ow);
  if (b) for (let i = 0; i < y.length; i++) y[i] = b[Math.floor(i / (oh * ow)) % s.cout]!;
  forEachTap(s, (yi, wi, xi) => (y[yi]! += w[wi]! * x[xi]!));
  return y;
}

/** Gradients of sum(gy * conv(x, w) + b) with respect to x, w and b. */
export function convBackwardRef(s: ConvShape, x: ArrayLike<number>, w: ArrayLike<number>, gy: ArrayLike<number>): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(s.nb * s.cin * s.h * s.w);
  const dw = new Float64Array(s.cout * s.cin * s.k * s.k);
  const db = new Float64Array(s.cout);
  forEachTap(s, (yi, wi, xi) => {
    dx[xi]! += w[wi]! * gy[yi]!;
    dw[wi]! += x[xi]! * gy[yi]!;
  });
  const [oh, ow] = outSize(s);
  for (let i = 0; i < gy.length; i++) db[Math.floor(i / (oh * ow)) % s.cout]! += gy[i]!;
  return { dx, dw, db };
}
