/**
 * Parameter initialisation with PyTorch's default distributions, drawn on the
 * CPU from a seeded PRNG (mulberry32) and uploaded once. PyTorch's own random
 * stream is not reproduced; the distributions are:
 *   conv / linear weight: kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   conv / linear bias:   U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   batch norm:           weight 1, bias 0, running mean 0, running var 1
 * Layouts are PyTorch's: conv weight [Cout, Cin, kh, kw], linear weight [out, in].
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import type { BatchNormParams } from '../ops/batchnorm.js';

/** mulberry32: small, fast, 32-bit state; deterministic for a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** n values from U(-bound, bound). */
  uniformArray(n: number, bound: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(-bound, bound);
    return out;
  }
}

/** Bound of PyTorch's default weight and bias init: kaiming_uniform_(a = sqrt(5)) gives 1/sqrt(fan_in). */
export function defaultInitBound(fanIn: number): number {
  // gain = sqrt(2 / (1 + a^2)) = sqrt(1/3); bound = sqrt(3) * gain / sqrt(fan_in).
  return 1 / Math.sqrt(fanIn);
}

export interface WeightAndBias {
  weight: Tensor;
  bias: Tensor | null;
}

/** Conv2d parameters: weight [cout, cin, kh, kw], bias [cout] (weight drawn first, as PyTorch). */
export function initConv2d(gpu: Gpu, rng: Rng, cout: number, cin: number, kh: number, kw = kh, bias = true): WeightAndBias {
  const fanIn = cin * kh * kw;
  const b = defaultInitBound(fanIn);
  const weight = Tensor.from(gpu, rng.uniformArray(cout * fanIn, b), [cout, cin, kh, kw]);
  return { weight, bias: bias ? Tensor.from(gpu, rng.uniformArray(cout, b), [cout]) : null };
}

/** Linear parameters: weight [out, in], bias [out]. */
export function initLinear(gpu: Gpu, rng: Rng, outFeatures: number, inFeatures: number, bias = true): WeightAndBias {
  const b = defaultInitBound(inFeatures);
  const weight = Tensor.from(gpu, rng.uniformArray(outFeatures * inFeatures, b), [outFeatures, inFeatures]);
  return { weight, bias: bias ? Tensor.from(gpu, rng.uniformArray(outFeatures, b), [outFeatures]) : null };
}

/** Batch-norm parameters and running statistics for c channels. */
export function initBatchNorm(gpu: Gpu, c: number): BatchNormParams {
  const ones = new Float32Array(c).fill(1);
  return {
    weight: Tensor.from(gpu, ones, [c]),
    bias: Tensor.zeros(gpu, [c]),
    runningMean: Tensor.zeros(gpu, [c]),
    runningVar: Tensor.from(gpu, ones, [c]),
  };
}
