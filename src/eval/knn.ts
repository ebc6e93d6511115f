/**
 * Weighted kNN classifier on frozen features (DINO / InstDisc protocol): cosine similarity,
 * the k most similar training rows vote with weight exp(sim / T), top-1 accuracy.
 *
 * Test rows go in chunks: a similarity block [chunk, Ntr] (kept under ~64 MB, never the full
 * Nte x Ntr matrix), then one workgroup per row keeps the top k and votes. Train rows are
 * normalised once into row-major blocks [cols, R] that fit one binding (read by the GEMM as B^T).
 */
import normSrc from '../../kernels/eval/knn_norm.wgsl';
import topkSrc from '../../kernels/eval/knn_topk_vote.wgsl';
import type { Gpu } from '../gpu/device.js';
import { gemm } from '../ops/matmul.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import { checkLabels, describeFeatures, hostLabels, numClasses, type FeatureSet, type Labels } from './features.js';

const NORM_PART = { file: 'kernels/eval/knn_norm.wgsl', code: normSrc };
/** Train rows, normalised into a block; test rows' inverse norms only. */
const NORM_T = { name: 'eval/knn_norm_t', parts: [NORM_PART], consts: { COPY: true } };
const ROW_NORM = { name: 'eval/knn_rownorm', parts: [NORM_PART] };
// Test rows per chunk are a multiple of 40: the similarity GEMM then runs 40-row register blocks
// without padding (cpuTileRows).
const SIM_ROWS = 40;

export interface KnnOptions {
  /** Neighbours (default 20). */
  k?: number;
  /** Vote temperature (default 0.07). */
  temperature?: number;
  /** Number of classes (default: largest label + 1). */
  classes?: number;
  /** Bytes of similarity block per chunk (default 64 MiB). */
  chunkBytes?: number;
}

export interface KnnResult {
  top1: number;
  /** Predicted class per test row. */
  pred: Uint32Array;
}

function topkSpec(k: number, classes: number) {
  // K * WG candidates of 8 bytes must fit the 16 KiB of workgroup memory every device has.
  let wg = 64;
  while (wg > 1 && k * wg * 8 > 16384) wg /= 2;
  return {
    name: 'eval/knn_topk_vote',
    parts: [{ file: 'kernels/eval/knn_topk_vote.wgsl', code: topkSrc }],
    consts: { K: k, C: classes, WG: wg },
  };
}

/** Predictions and top-1 accuracy of the weighted kNN classifier. */
export async function knnClassify(
  gpu: Gpu,
  train: FeatureSet,
  trainLabelsIn: Labels,
  test: FeatureSet,
  testLabelsIn: Labels,
  opts: KnnOptions = {},
): Promise<KnnResult> {
  const trainLabels = await hostLabels(trainLabelsIn, 'knn train');
  const testLabels = await hostLabels(testLabelsIn, 'knn test');
  const tr = describeFeatures(train, 'knn train');
  const te = describeFeatures(test, 'knn test');
  if (tr.dim !== te.dim) throw new InputError('shape-mismatch', `knn: train R=${tr.dim}, test R=${te.dim}`);
  checkLabels(trainLabels, tr.rows, 'knn train');
  checkLabels(testLabels, te.rows, 'knn test');
  const k = Math.min(opts.k ?? 20, tr.rows);
  const temperature = opts.temperature ?? 0.07;
  if (!(k >= 1) || !Number.isInteger(k)) throw new InputError('bad-option', `knn: k must be a positive integer, got ${opts.k}`);
  if (!(temperature > 0)) throw new InputError('bad-option', `knn: temperature must be > 0, got ${temperature}`);
  const seen = numClasses(trainLabels, testLabels);
  const classes = opts.classes ?? seen;
  if (seen > classes) throw new InputError('bad-option', `knn: label ${seen - 1} out of range for ${classes} classes`);
  const R = tr.dim;
  const N = tr.rows;

  // Normalised train blocks: block b holds train rows [b*per, ...) row-major ([cols, R]).
  const maxCols = Math.floor(gpu.maxBinding / (4 * R) / 4) * 4;
  if (maxCols < 4) throw new InputError('too-large', `knn: R=${R} too large for one binding`);
  const nBlocks = Math.ceil(N / maxCols);
  const per = Math.ceil(N / nBlocks / 4) * 4;
  const blocks: { t: Tensor; col0: number; cols: number; cols4: number }[] = [];
  const normT = gpu.kernel(NORM_T);
  for (let b = 0; b * per < N; b++) {
    const col0 = b * per;
    const cols = Math.min(per, N - col0);
    const cols4 = Math.ceil(cols / 4);
    const t = Tensor.zeros(gpu, [cols4 * 4, R]); // normalised rows; padding rows stay zero
    for (const sh of tr.shards) {
      const lo = Math.max(col0, sh.row0);
      const hi = Math.min(col0 + cols, sh.row0 + sh.rows);
      if (hi <= lo) continue;
      const params = { rows: hi - lo, r: R, src0: lo - sh.row0, dst0: lo - col0, ld: cols4 * 4 };
      gpu.dispatchOver(normT, { p: params, x: sh.t.buffer, out: t.buffer }, [hi - lo, 1]); // [n, 1]: the kernel indexes x only (no fold into y)
    }
    blocks.push({ t, col0, cols, cols4 });
  }

  const tinv = Tensor.empty(gpu, [te.rows]);
  const rowNorm = gpu.kernel(ROW_NORM);
  for (const sh of te.shards) {
    gpu.dispatchOver(rowNorm, { p: { rows: sh.rows, r: R, src0: 0, dst0: sh.row0, ld: 0 }, x: sh.t.buffer, out: tinv.buffer }, [sh.rows, 1]);
  }
  const labels = Tensor.from(gpu, Uint32Array.from(trainLabels), [N]);
  const pred = Tensor.empty(gpu, [te.rows], 'u32');

  const lds = Math.ceil(N / 4) * 4;
  const chunkBytes = Math.min(opts.chunkBytes ?? 64 * 2 ** 20, gpu.maxBinding);
  // One top-k workgroup per chunk row: stay under 65535 workgroups per dimension.
  const chunk = Math.min(65504, Math.max(SIM_ROWS, Math.floor(chunkBytes / (4 * lds) / SIM_ROWS) * SIM_ROWS));
  const sim = Tensor.empty(gpu, [Math.min(chunk, te.rows), lds]);
  const topk = gpu.kernel(topkSpec(k, classes));
  try {
    for (const sh of te.shards) {
      for (let a0 = 0; a0 < sh.rows; a0 += chunk) {
        const m = Math.min(chunk, sh.rows - a0);
        // Similarities on the shared matmul core with the train rows as B^T (contiguous along K):
        // 4x the former dedicated kernel and 2x B as [R, cols] (a 240 KB stride per k) on lavapipe,
        // measured side by side at 272 x 60000 x 256.
        for (const b of blocks) gemm(gpu, { A: sh.t.buffer, B: b.t.buffer, C: sim.buffer, M: m, N: b.cols4 * 4, K: R, lda: R, ldb: R, ldc: lds, offA: a0 * R, offC: b.col0, transB: true });
        const params = { n: N, lds, row0: sh.row0 + a0, inv_t: 1 / temperature };
        gpu.dispatch(topk, { p: params, s: sim.buffer, tinv: tinv.buffer, labels: labels.buffer, pred: pred.buffer }, [m]);
        gpu.flush(); // one chunk per submit keeps command buffers (and lavapipe's queue) short
      }
    }
    const p = await pred.readU32();
    let correct = 0;
    for (let i = 0; i < te.rows; i++) if (p[i] === testLabels[i]) correct++;
    return { top1: correct / te.rows, pred: p };
  } finally {
    for (const b of blocks) b.t.release();
    for (const t of [tinv, labels, pred, sim]) t.release();
  }
}

/** Top-1 accuracy (0..1) of the weighted kNN classifier (k = 20, T = 0.07 by default). */
export async function knnTop1(
  gpu: Gpu,
  train: FeatureSet,
  trainLabels: Labels,
  test: FeatureSet,
  testLabels: Labels,
  opts: KnnOptions = {},
): Promise<number> {
  return (await knnClassify(gpu, train, trainLabels, test, testLabels, opts)).top1;
}
