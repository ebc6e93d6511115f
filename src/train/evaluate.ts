/**
 * Evaluation of a frozen encoder: its representation (BN in eval mode, no expander) of
 * every training and test image, then weighted kNN (k = 20, cosine, exp(sim / 0.07)) and a
 * linear probe (logistic regression on the GPU), plus a 2-D PCA of test representations.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import type { GpuDataset } from '../data/gpu-dataset.js';
import type { VicregModel } from '../nn/model.js';
import { knnTop1 } from '../eval/knn.js';
import { linearProbe } from '../eval/linear-probe.js';
import { releaseFeatures } from '../eval/features.js';
import type { TrainConfig } from './config.js';
import { covariance } from './diagnostics.js';

/**
 * Representations [n, R] of images 0..n-1 of `ds`, chunk by chunk (one submit each, at most
 * two chunks in flight), copied into row shards on the GPU (each within one binding; a
 * multiple of `chunk` rows, so no chunk straddles two). Rows are in the data set's order.
 */
export async function extractFeatures(gpu: Gpu, model: VicregModel, ds: GpuDataset, n: number, chunk: number, stop?: () => boolean): Promise<Tensor[]> {
  const R = model.reprDim;
  const perShard = Math.max(chunk, Math.floor(gpu.maxBinding / (4 * R * chunk)) * chunk);
  const shards: Tensor[] = [];
  for (let r = 0; r < n; r += perShard) shards.push(Tensor.empty(gpu, [Math.min(perShard, n - r), R]));
  let pending: Promise<void> | null = null;
  const encoder = model.inferenceEncoder(); // batch norm folded into the convs
  for (let start = 0; start < n; start += chunk) {
    if (stop?.()) break;
    const count = Math.min(chunk, n - start);
    const x = ds.evalBatch(start, count);
    const r = encoder.encode(x);
    const shard = shards[Math.floor(start / perShard)]!;
    gpu.copy(r.buffer, 0, shard.buffer, (start % perShard) * R * 4, count * R * 4);
    x.release();
    r.release();
    const done = gpu.sync();
    if (pending) await pending;
    pending = done;
  }
  if (pending) await pending;
  encoder.release();
  return shards;
}

async function readShards(shards: Tensor[], rows: number, dim: number): Promise<Float32Array> {
  const out = new Float32Array(rows * dim);
  let o = 0;
  for (const t of shards) {
    out.set(await t.read(), o);
    o += t.size;
  }
  return out;
}

export interface EncoderEval {
  knn: number;
  linear: number;
  /** Host copies of the features when asked (for the .npy files and PCA). */
  train?: Float32Array;
  test?: Float32Array;
  seconds: number;
}

export async function evaluateEncoder(
  gpu: Gpu,
  model: VicregModel,
  train: { ds: GpuDataset; labels: Uint8Array; n: number },
  test: { ds: GpuDataset; labels: Uint8Array; n: number },
  cfg: TrainConfig,
  opts: { keepFeatures?: boolean; stop?: () => boolean; log?: (msg: string) => void } = {},
): Promise<EncoderEval | null> {
  const t0 = performance.now();
  const e = cfg.eval;
  const ftr = await extractFeatures(gpu, model, train.ds, train.n, e.chunk, opts.stop);
  const fte = await extractFeatures(gpu, model, test.ds, test.n, e.chunk, opts.stop);
  try {
    if (opts.stop?.()) return null;
    const tFeat = performance.now();
    const ytr = train.labels.subarray(0, train.n);
    const yte = test.labels.subarray(0, test.n);
    const knn = await knnTop1(gpu, ftr, ytr, fte, yte, { k: e.knnK, temperature: e.knnTemperature, classes: 10 });
    const tKnn = performance.now();
    if (opts.stop?.()) return null;
    const probe = await linearProbe(gpu, ftr, ytr, fte, yte, {
      epochs: e.probeEpochs,
      lr: e.probeLr,
      batch: e.probeBatch,
      weightDecay: e.probeWeightDecay,
      seed: cfg.seed,
      classes: 10,
    });
    const tProbe = performance.now();
    opts.log?.(
      `  features ${((tFeat - t0) / 1000).toFixed(1)} s, kNN ${((tKnn - tFeat) / 1000).toFixed(1)} s, probe ${((tProbe - tKnn) / 1000).toFixed(1)} s`,
    );
    const res: EncoderEval = { knn, linear: probe.top1, seconds: (performance.now() - t0) / 1000 };
    if (opts.keepFeatures) {
      res.train = await readShards(ftr, train.n, model.reprDim);
      res.test = await readShards(fte, test.n, model.reprDim);
    }
    return res;
  } finally {
    releaseFeatures(ftr);
    releaseFeatures(fte);
  }
}

/** Top-`k` eigenvectors of a symmetric matrix by power iteration with deflation. */
function topEigenvectors(c: Float64Array, d: number, k: number): Float64Array[] {
  const A = Float64Array.from(c);
  const out: Float64Array[] = [];
  for (let e = 0; e < k; e++) {
    let v = Float64Array.from({ length: d }, (_, i) => Math.sin(i + 1 + e));
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += A[i * d + j]! * v[j]!;
        w[i] = s;
      }
      const norm = Math.hypot(...w);
      if (!(norm > 0)) break;
      for (let i = 0; i < d; i++) w[i]! /= norm;
      lambda = norm;
      v = w;
    }
    out.push(v);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A[i * d + j]! -= lambda * v[i]! * v[j]!;
  }
  return out;
}

/** 2-D PCA of the first `max` rows of [n, R] features: [[x, y, label], ...]. */
export function pcaPoints(feat: Float32Array, labels: ArrayLike<number>, n: number, R: number, max = 2000): number[][] {
  const m = Math.min(n, max);
  const sub = feat.subarray(0, m * R);
  const cov = covariance(sub, m, R);
  const [v1, v2] = topEigenvectors(cov, R, 2) as [Float64Array, Float64Array];
  const mean = new Float64Array(R);
  for (let i = 0; i < m; i++) for (let j = 0; j < R; j++) mean[j]! += sub[i * R + j]! / m;
  const pts: number[][] = [];
  for (let i = 0; i < m; i++) {
    let x = 0;
    let y = 0;
    for (let j = 0; j < R; j++) {
      const c = sub[i * R + j]! - mean[j]!;
      x += c * v1[j]!;
      y += c * v2[j]!;
    }
    pts.push([Number(x.toPrecision(4)), Number(y.toPrecision(4)), labels[i]!]);
  }
  return pts;
}
