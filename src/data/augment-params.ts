/**
 * Augmentation configuration and per-sample parameter draws (CPU side).
 * Parameters are drawn from CounterRng(seed, step, slot, view), packed as
 * AUG_PARAMS floats per (view, slot) and uploaded once per step; the GPU
 * kernel only applies them, so tests can pass explicit parameters.
 */
import { InputError } from '../errors.js';
import { FASHION_MEAN, FASHION_STD } from './fashion-stats.js';
import { CounterRng } from './rng.js';

export interface AugmentConfig {
  /** Output side S: views are [B,1,S,S]. */
  size: number;
  /** RandomResizedCrop area fraction and aspect-ratio ranges. */
  scale: [number, number];
  ratio: [number, number];
  flipP: number;
  /** ColorJitter: probability, brightness and contrast strengths (factor in [1-s, 1+s]). */
  jitterP: number;
  brightness: number;
  contrast: number;
  /** Per view [view1, view2]: asymmetric as in the VICReg recipe. */
  blurP: [number, number];
  blurSigma: [number, number];
  /** Gaussian kernel radius (kernel 2R+1), reflect padding. */
  blurRadius: number;
  solarizeP: [number, number];
  /** Solarize threshold in [0,1] pixel space: x >= t becomes 1 - x. */
  solarizeThreshold: number;
  /** Normalisation: (x - mean) / std. */
  mean: number;
  std: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  size: 28,
  scale: [0.35, 1.0],
  ratio: [3 / 4, 4 / 3],
  flipP: 0.5,
  jitterP: 0.8,
  brightness: 0.4,
  contrast: 0.4,
  blurP: [1.0, 0.1],
  blurSigma: [0.1, 1.0],
  blurRadius: 2,
  solarizeP: [0.0, 0.2],
  solarizeThreshold: 0.5,
  mean: FASHION_MEAN,
  std: FASHION_STD,
};

export function resolveAugment(over: Partial<AugmentConfig> = {}): AugmentConfig {
  const c = { ...DEFAULT_AUGMENT, ...over };
  const bad = (msg: string) => new InputError('bad-option', `augmentation: ${msg}`);
  if (!Number.isInteger(c.size) || c.size < 1) throw bad(`size must be a positive integer, got ${c.size}`);
  if (!(c.scale[0] > 0 && c.scale[0] <= c.scale[1] && c.scale[1] <= 1)) throw bad(`scale must satisfy 0 < lo <= hi <= 1, got [${c.scale}]`);
  if (!(c.ratio[0] > 0 && c.ratio[0] <= c.ratio[1])) throw bad(`ratio must satisfy 0 < lo <= hi, got [${c.ratio}]`);
  for (const [k, v] of [['flipP', c.flipP], ['jitterP', c.jitterP], ...c.blurP.map((p) => ['blurP', p]), ...c.solarizeP.map((p) => ['solarizeP', p])] as [string, number][]) {
    if (!(v >= 0 && v <= 1)) throw bad(`${k} must be a probability, got ${v}`);
  }
  if (!(c.brightness >= 0 && c.contrast >= 0)) throw bad('brightness and contrast strengths must be >= 0');
  if (!(c.blurSigma[0] > 0 && c.blurSigma[0] <= c.blurSigma[1])) throw bad(`blurSigma must satisfy 0 < lo <= hi, got [${c.blurSigma}]`);
  if (!Number.isInteger(c.blurRadius) || c.blurRadius < 0 || c.blurRadius >= c.size) throw bad(`blurRadius must be an integer in [0, size), got ${c.blurRadius}`);
  if (!(c.std > 0)) throw bad(`std must be > 0, got ${c.std}`);
  return c;
}

/** Parameters of one view of one sample. */
export interface ViewParams {
  /** Crop box in source pixels (integers): left, top, width, height. */
  x0: number;
  y0: number;
  w: number;
  h: number;
  flip: boolean;
  /** Factors; 1 = unchanged. */
  brightness: number;
  contrast: number;
  /** Jitter order: false = brightness then contrast, true = contrast first (ColorJitter's random order). */
  contrastFirst: boolean;
  /** 0 = no blur. */
  sigma: number;
  solarize: boolean;
}

/** Floats per (view, slot) in the packed parameter buffer. */
export const AUG_PARAMS = 12;

export function identityParams(height: number, width: number): ViewParams {
  return { x0: 0, y0: 0, w: width, h: height, flip: false, brightness: 1, contrast: 1, contrastFirst: false, sigma: 0, solarize: false };
}

/** torchvision RandomResizedCrop.get_params on an integer grid (10 tries, then a centre crop). */
function cropBox(rng: CounterRng, H: number, W: number, scale: [number, number], ratio: [number, number]): [number, number, number, number] {
  const area = H * W;
  const logR: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    // Fixed counters per try keep later draws independent of how many tries were used.
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.at(4 * t));
    const ar = Math.exp(logR[0] + (logR[1] - logR[0]) * rng.at(4 * t + 1));
    const w = Math.round(Math.sqrt(target * ar));
    const h = Math.round(Math.sqrt(target / ar));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      const y0 = Math.min(H - h, Math.floor(rng.at(4 * t + 2) * (H - h + 1)));
      const x0 = Math.min(W - w, Math.floor(rng.at(4 * t + 3) * (W - w + 1)));
      return [x0, y0, w, h];
    }
  }
  const inR = W / H;
  let w = W;
  let h = H;
  if (inR < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inR > ratio[1]) w = Math.round(h * ratio[1]);
  return [Math.floor((W - w) / 2), Math.floor((H - h) / 2), w, h];
}

/** Draws the parameters of `view` (0 or 1) for batch slot `slot` at `step`. */
export function sampleViewParams(cfg: AugmentConfig, H: number, W: number, seed: number, step: number, slot: number, view: 0 | 1): ViewParams {
  const rng = new CounterRng(seed, step, slot, view);
  const [x0, y0, w, h] = cropBox(rng, H, W, cfg.scale, cfg.ratio);
  // Counters 40.. follow the crop's 40 reserved ones.
  const d = (k: number) => rng.at(40 + k);
  const jitter = d(1) < cfg.jitterP;
  const blur = d(6) < cfg.blurP[view];
  return {
    x0, y0, w, h,
    flip: d(0) < cfg.flipP,
    brightness: jitter ? 1 - cfg.brightness + 2 * cfg.brightness * d(2) : 1,
    contrast: jitter ? 1 - cfg.contrast + 2 * cfg.contrast * d(3) : 1,
    contrastFirst: jitter && d(4) < 0.5,
    sigma: blur ? cfg.blurSigma[0] + (cfg.blurSigma[1] - cfg.blurSigma[0]) * d(7) : 0,
    solarize: d(8) < cfg.solarizeP[view],
  };
}

/** Packs [view][slot] parameters as [2, B, AUG_PARAMS] floats (layout read by kernels/data/augment.wgsl). */
export function packParams(views: [ViewParams[], ViewParams[]]): Float32Array {
  const B = views[0].length;
  if (views[1].length !== B) throw new RangeError('packParams: views differ in batch size');
  const out = new Float32Array(2 * B * AUG_PARAMS);
  views.forEach((list, v) =>
    list.forEach((p, s) => {
      const o = (v * B + s) * AUG_PARAMS;
      out.set([p.x0, p.y0, p.w, p.h, p.flip ? 1 : 0, p.brightness, Math.max(0, p.contrast), p.contrastFirst ? 1 : 0, p.sigma, p.solarize ? 1 : 0], o);
    }),
  );
  return out;
}

/** Both views' parameters for a batch of B slots at `step`, packed. */
export function sampleBatchParams(cfg: AugmentConfig, H: number, W: number, seed: number, step: number, B: number): Float32Array {
  const views: [ViewParams[], ViewParams[]] = [[], []];
  for (let s = 0; s < B; s++) {
    views[0].push(sampleViewParams(cfg, H, W, seed, step, s, 0));
    views[1].push(sampleViewParams(cfg, H, W, seed, step, s, 1));
  }
  return packParams(views);
}
