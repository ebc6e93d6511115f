/** Float64 CPU references for the data kernels (kernels/data/*.wgsl). */
import type { ViewParams } from '../../src/data/augment-params.js';

export interface RefConfig {
  size: number;
  blurRadius: number;
  solarizeThreshold: number;
  mean: number;
  std: number;
}

/** torch interpolate(bilinear, align_corners=False) of the crop box, output pixel (ox, oy), in [0,255]. */
export function cropBilinear(img: Uint8Array, base: number, W: number, p: Pick<ViewParams, 'x0' | 'y0' | 'w' | 'h'>, ox: number, oy: number, S: number): number {
  const sx = Math.max((ox + 0.5) * (p.w / S) - 0.5, 0);
  const sy = Math.max((oy + 0.5) * (p.h / S) - 0.5, 0);
  const ix0 = Math.min(Math.floor(sx), p.w - 1);
  const iy0 = Math.min(Math.floor(sy), p.h - 1);
  const lx = sx - Math.floor(sx);
  const ly = sy - Math.floor(sy);
  const ix1 = Math.min(ix0 + 1, p.w - 1);
  const iy1 = Math.min(iy0 + 1, p.h - 1);
  const at = (y: number, x: number) => img[base + (p.y0 + y) * W + p.x0 + x]!;
  const top = at(iy0, ix0) * (1 - lx) + at(iy0, ix1) * lx;
  const bot = at(iy1, ix0) * (1 - lx) + at(iy1, ix1) * lx;
  return top * (1 - ly) + bot * ly;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export interface RefView {
  /** Normalised output, S*S. */
  out: Float64Array;
  /** Pixel value just before solarize (to skip pixels on the threshold's edge). */
  preSolarize: Float64Array;
}

/** One augmented view of image `index` (H x W) with explicit parameters. */
export function augmentRef(img: Uint8Array, index: number, H: number, W: number, p: ViewParams, cfg: RefConfig): RefView {
  const S = cfg.size;
  const base = index * H * W;
  let a = new Float64Array(S * S);
  for (let oy = 0; oy < S; oy++) {
    for (let ox = 0; ox < S; ox++) {
      const sxo = p.flip ? S - 1 - ox : ox;
      a[oy * S + ox] = cropBilinear(img, base, W, p, sxo, oy, S) / 255;
    }
  }
  const brightness = () => {
    for (let i = 0; i < a.length; i++) a[i] = clamp01(a[i]! * p.brightness);
  };
  const contrast = () => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    for (let i = 0; i < a.length; i++) a[i] = clamp01(p.contrast * a[i]! + (1 - p.contrast) * m);
  };
  if (p.contrastFirst) {
    contrast();
    brightness();
  } else {
    brightness();
    contrast();
  }
  if (p.sigma > 0) {
    const R = cfg.blurRadius;
    const w: number[] = [];
    for (let k = -R; k <= R; k++) w.push(Math.exp(-0.5 * (k / p.sigma) ** 2));
    const tot = w.reduce((s, v) => s + v, 0);
    const refl = (i: number) => (i < 0 ? -i : i >= S ? 2 * (S - 1) - i : i);
    const h = new Float64Array(S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      let s = 0;
      for (let k = -R; k <= R; k++) s += (w[k + R]! / tot) * a[y * S + refl(x + k)]!;
      h[y * S + x] = s;
    }
    const v = new Float64Array(S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      let s = 0;
      for (let k = -R; k <= R; k++) s += (w[k + R]! / tot) * h[refl(y + k) * S + x]!;
      v[y * S + x] = s;
    }
    a = v;
  }
  const pre = Float64Array.from(a);
  const out = new Float64Array(S * S);
  for (let i = 0; i < out.length; i++) {
    let v = a[i]!;
    if (p.solarize && v >= cfg.solarizeThreshold) v = 1 - v;
    out[i] = (v - cfg.mean) / cfg.std;
  }
  return { out, preSolarize: pre };
}

/** Eval path: whole image resized to S x S, normalised. */
export function normalizeRef(img: Uint8Array, index: number, H: number, W: number, S: number, mean: number, std: number): Float64Array {
  const out = new Float64Array(S * S);
  for (let oy = 0; oy < S; oy++) for (let ox = 0; ox < S; ox++) {
    out[oy * S + ox] = (cropBilinear(img, index * H * W, W, { x0: 0, y0: 0, w: W, h: H }, ox, oy, S) / 255 - mean) / std;
  }
  return out;
}
