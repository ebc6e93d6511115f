/**
 * float64 CPU reference of the VICReg network (src/nn/model.ts) in training mode: conv (no
 * bias) + BN + ReLU (+ 2x2 max pool) blocks, global average pool, then Linear (+ BN + ReLU)
 * layers, the last without BN. Forward keeps what backward needs; backward maps dL/dz to the
 * gradient of every parameter, named as VicregModel.named() names them.
 */
import { convBackwardRef, convForwardRef, outSize, type ConvShape } from './conv.js';
import { bnBackwardRef, bnForwardRef } from './batchnorm.js';
import { maxPoolBackwardRef, maxPoolRef } from './pool.js';
import { avgPoolBackwardRef, avgPoolRef, globalAvgPoolBackwardRef, globalAvgPoolRef } from './pool.js';
import { linearBackwardRef, linearForwardRef } from './linear.js';

export interface RefConv {
  w: ArrayLike<number>;
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  pool: boolean;
}

export interface RefLinear {
  w: ArrayLike<number>;
  b: ArrayLike<number>;
  /** BN + ReLU after the layer (all but the last). */
  gamma?: ArrayLike<number>;
  beta?: ArrayLike<number>;
  nout: number;
}

interface ConvCache {
  s: ConvShape;
  x: Float64Array;
  y: Float64Array;
  a: Float64Array;
  oh: number;
  ow: number;
}

interface LinCache {
  x: Float64Array;
  y: Float64Array;
  nin: number;
}

export interface RefForward {
  repr: Float64Array;
  z: Float64Array;
  convs: ConvCache[];
  lins: LinCache[];
  gapShape: { nc: number; hw: number };
  /** Grid pooling (reprGrid > 1): window, stride and the pooled map's side. */
  grid?: { k: number; s: number; h: number };
  nb: number;
}

const ones = (n: number) => new Float64Array(n).fill(1);

export function netForwardRef(
  x: ArrayLike<number>,
  nb: number,
  cin: number,
  h: number,
  w: number,
  convs: RefConv[],
  lins: RefLinear[],
  grid?: { g: number; k: number; s: number },
): RefForward {
  let cur: Float64Array = Float64Array.from(x);
  let [c, hh, ww] = [cin, h, w];
  const cc: ConvCache[] = [];
  for (const l of convs) {
    const s: ConvShape = { nb, cin: c, h: hh, w: ww, cout: l.cout, k: l.k, stride: l.stride, pad: l.pad };
    const [oh, ow] = outSize(s);
    const y = convForwardRef(s, cur, l.w);
    const bn = bnForwardRef(y, nb, l.cout, oh * ow, l.gamma, l.beta, new Float64Array(l.cout), ones(l.cout), { training: true, relu: true });
    cc.push({ s, x: cur, y, a: bn.y, oh, ow });
    cur = bn.y;
    [c, hh, ww] = [l.cout, oh, ow];
    if (l.pool) {
      const p = maxPoolRef(cur, nb * c, hh, ww, 2, 2);
      cur = p.y;
      [hh, ww] = [p.oh, p.ow];
    }
  }
  const gapShape = { nc: nb * c, hw: hh * ww };
  // Grid pooling keeps [N, C, g, g], whose row-major order is the flattened representation.
  const repr = grid ? avgPoolRef(cur, nb * c, hh, ww, grid.k, grid.s) : globalAvgPoolRef(cur, gapShape.nc, gapShape.hw);
  let v: Float64Array = repr;
  let nin = grid ? c * grid.g * grid.g : c;
  const lc: LinCache[] = [];
  for (const l of lins) {
    const y = linearForwardRef(v, l.w, l.b, nb, nin, l.nout);
    lc.push({ x: v, y, nin });
    v = l.gamma ? bnForwardRef(y, nb, l.nout, 1, l.gamma, l.beta!, new Float64Array(l.nout), ones(l.nout), { training: true, relu: true }).y : y;
    nin = l.nout;
  }
  return { repr, z: v, convs: cc, lins: lc, gapShape, nb, grid: grid ? { k: grid.k, s: grid.s, h: hh } : undefined };
}

/** Gradients of sum(dz * z) for every parameter, by VicregModel's names. */
export function netBackwardRef(f: RefForward, dz: ArrayLike<number>, convs: RefConv[], lins: RefLinear[]): Map<string, Float64Array> {
  const g = new Map<string, Float64Array>();
  const nb = f.nb;
  let d: Float64Array = Float64Array.from(dz);
  for (let i = lins.length - 1; i >= 0; i--) {
    const l = lins[i]!;
    const c = f.lins[i]!;
    if (l.gamma) {
      const r = bnBackwardRef(c.y, d, nb, l.nout, 1, l.gamma, l.beta!, new Float64Array(l.nout), ones(l.nout), { training: true, relu: true });
      g.set(`expander.${i}.bn.weight`, r.dgamma);
      g.set(`expander.${i}.bn.bias`, r.dbeta);
      d = r.dx;
    }
    const r = linearBackwardRef(c.x, l.w, d, null, nb, c.nin, l.nout);
    g.set(`expander.${i}.weight`, r.dw);
    g.set(`expander.${i}.bias`, r.db);
    d = r.dx;
  }
  d = f.grid ? avgPoolBackwardRef(d, f.gapShape.nc, f.grid.h, f.grid.h, f.grid.k, f.grid.s) : globalAvgPoolBackwardRef(d, f.gapShape.nc, f.gapShape.hw);
  for (let i = convs.length - 1; i >= 0; i--) {
    const l = convs[i]!;
    const c = f.convs[i]!;
    if (l.pool) d = maxPoolBackwardRef(c.a, d, nb * l.cout, c.oh, c.ow, 2, 2);
    const r = bnBackwardRef(c.y, d, nb, l.cout, c.oh * c.ow, l.gamma, l.beta, new Float64Array(l.cout), ones(l.cout), { training: true, relu: true });
    g.set(`encoder.${i}.bn.weight`, r.dgamma);
    g.set(`encoder.${i}.bn.bias`, r.dbeta);
    const cg = convBackwardRef(c.s, c.x, l.w, r.dx);
    g.set(`encoder.${i}.conv.weight`, cg.dw);
    d = cg.dx;
  }
  return g;
}
