/**
 * Batch normalisation over [N, C] (1-D, statistics over N) and [N, C, H, W]
 * (2-D, statistics over N, H, W), PyTorch semantics: training normalises with the
 * batch mean and biased variance and updates the running statistics in place
 * with momentum and the unbiased variance; eval uses the running statistics.
 *
 * Fused ReLU (`relu: true`): forward writes max(BN(x), 0) from the same pass, and
 * backward masks dy by y > 0 inside its reduction and dx passes, so BN+ReLU costs
 * the same dispatches as BN alone and no pre-activation tensor is stored.
 *
 * Dispatches: training forward 3 (partial sums, per-channel finish + running
 * update, normalise), eval forward 2, backward 3 (partial sums, per-channel
 * dgamma/dbeta + dx coefficients, dx).
 */
import reduceSrc from '../../kernels/nn/batchnorm_reduce.wgsl';
import reduce1dSrc from '../../kernels/nn/batchnorm_reduce1d.wgsl';
import finalizeSrc from '../../kernels/nn/batchnorm_finalize.wgsl';
import wgSum2Src from '../../kernels/common/wg_sum2.wgsl';
import applySrc from '../../kernels/nn/batchnorm_apply.wgsl';
import backwardSrc from '../../kernels/nn/batchnorm_backward.wgsl';
import apply4Src from '../../kernels/nn/batchnorm_apply4.wgsl';
import backward4Src from '../../kernels/nn/batchnorm_backward4.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { grid1d } from './grid.js';

export interface BatchNormParams {
  /** gamma [C] */
  weight: Tensor;
  /** beta [C] */
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

export interface BatchNormOptions {
  /** Batch statistics and running-stat update (default true); false uses the running statistics. */
  training?: boolean;
  /** Fuse a ReLU after the normalisation (default false). */
  relu?: boolean;
  momentum?: number;
  eps?: number;
  /** Update the running statistics in training mode (default true). */
  updateRunningStats?: boolean;
}

const REDUCE_WG = 256;
const R1_TX = 32;
const R1_TY = 8;
const FIN_WG = 64;
/** Most chunks per channel: keeps the per-channel finish to one short loop. */
const MAX_CHUNKS = 256;

const WG_SUM2 = { file: 'kernels/common/wg_sum2.wgsl', code: wgSum2Src };
const reduceSpec = (oneD: boolean, entry: 'stats_main' | 'grad_main', relu: boolean): KernelSpec => ({
  name: oneD ? 'nn/batchnorm_reduce1d' : 'nn/batchnorm_reduce',
  parts: [
    ...(oneD
      ? [{ file: 'kernels/nn/batchnorm_reduce1d.wgsl', code: reduce1dSrc }]
      : [{ file: 'kernels/nn/batchnorm_reduce.wgsl', code: reduceSrc }, WG_SUM2]),
  ],
  entryPoint: entry,
  consts: { RELU: relu },
});
const finalizeSpec = (entry: 'stats_final' | 'grad_final' | 'eval_stats'): KernelSpec => ({
  name: 'nn/batchnorm_finalize',
  parts: [{ file: 'kernels/nn/batchnorm_finalize.wgsl', code: finalizeSrc }, WG_SUM2],
  entryPoint: entry,
});
/**
 * Element-wise passes run on vec4s when 4 consecutive elements share a channel
 * (S % 4 == 0) or are 4 consecutive channels (S == 1, C % 4 == 0).
 */
type Vec = 'scalar' | 'same' | 'channels';
function vecMode(l: Layout): Vec {
  if (l.s % 4 === 0) return 'same';
  if (l.s === 1 && l.c % 4 === 0) return 'channels';
  return 'scalar';
}
const applySpec = (relu: boolean, v: Vec): KernelSpec =>
  v === 'scalar'
    ? { name: 'nn/batchnorm_apply', parts: [{ file: 'kernels/nn/batchnorm_apply.wgsl', code: applySrc }], consts: { RELU: relu } }
    : {
        name: 'nn/batchnorm_apply4',
        parts: [{ file: 'kernels/nn/batchnorm_apply4.wgsl', code: apply4Src }],
        consts: { RELU: relu, SAME: v === 'same' },
      };
const backwardSpec = (relu: boolean, v: Vec): KernelSpec =>
  v === 'scalar'
    ? { name: 'nn/batchnorm_backward', parts: [{ file: 'kernels/nn/batchnorm_backward.wgsl', code: backwardSrc }], consts: { RELU: relu } }
    : {
        name: 'nn/batchnorm_backward4',
        parts: [{ file: 'kernels/nn/batchnorm_backward4.wgsl', code: backward4Src }],
        consts: { RELU: relu, SAME: v === 'same' },
      };

interface Layout {
  n: number;
  c: number;
  s: number;
  m: number;
  oneD: boolean;
}

function layoutOf(x: Tensor, bn: BatchNormParams): Layout {
  if (x.shape.length < 2) throw new RangeError(`batchNorm: input must be [N, C, ...], got [${x.shape}]`);
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  const s = x.shape.slice(2).reduce((a, b) => a * b, 1);
  for (const [k, t] of Object.entries(bn)) {
    if ((t as Tensor).size !== c) throw new RangeError(`batchNorm: ${k} has ${(t as Tensor).size} values for C=${c}`);
  }
  return { n, c, s, m: n * s, oneD: s === 1 };
}

/**
 * Chunking of each channel's M values: enough workgroups to fill a GPU, at least
 * a few elements per thread, at most MAX_CHUNKS partials per channel.
 */
function chunking(l: Layout): { chunks: number; chunkLen: number; grid: [number, number] } {
  if (l.oneD) {
    const chunkLen = Math.max(R1_TY * 16, Math.ceil(l.n / MAX_CHUNKS));
    const chunks = Math.ceil(l.n / chunkLen);
    return { chunks, chunkLen, grid: [Math.ceil(l.c / R1_TX), chunks] };
  }
  const chunkLen = Math.max(REDUCE_WG * 8, Math.ceil(l.m / MAX_CHUNKS));
  const chunks = Math.ceil(l.m / chunkLen);
  return { chunks, chunkLen, grid: [chunks, l.c] };
}

/** Batch norm (optionally + ReLU) on [N, C] or [N, C, H, W]; records its backward on `tape`. */
export function batchNorm(tape: Tape | null, x: Tensor, bn: BatchNormParams, opts: BatchNormOptions = {}): Tensor {
  const gpu = x.gpu;
  const training = opts.training ?? true;
  const relu = opts.relu ?? false;
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? 0.1;
  const l = layoutOf(x, bn);
  if (training && l.m < 2 && (opts.updateRunningStats ?? true)) {
    // PyTorch refuses too: the unbiased variance of one value is undefined.
    throw new RangeError(`batchNorm: training needs more than 1 value per channel, got [${x.shape}]`);
  }
  // stats = [mean (C) | invstd (C)]: saved for backward.
  const stats = Tensor.empty(gpu, [2, l.c]);
  const fin = (flag: number) => gpu.params('uuuuffu', l.c, l.s, 0, l.m, eps, momentum, flag);
  if (training) {
    const { chunks, chunkLen, grid } = chunking(l);
    const part = Tensor.empty(gpu, [l.c, chunks, 2]);
    const rp = gpu.params('uuuuu', l.n, l.c, l.s, chunks, chunkLen);
    gpu.dispatch(gpu.kernel(reduceSpec(l.oneD, 'stats_main', false)), { p: rp, x: x.buffer, part: part.buffer }, grid);
    gpu.dispatch(
      gpu.kernel(finalizeSpec('stats_final')),
      {
        p: gpu.params('uuuuffu', l.c, l.s, chunks, l.m, eps, momentum, (opts.updateRunningStats ?? true) ? 1 : 0),
        part: part.buffer,
        x: x.buffer,
        stats: stats.buffer,
        rmean: bn.runningMean.buffer,
        rvar: bn.runningVar.buffer,
      },
      [l.c],
    );
    part.release(); // stream-ordered: a later user of this buffer runs after these dispatches
  } else {
    gpu.dispatch(
      gpu.kernel(finalizeSpec('eval_stats')),
      { p: fin(0), stats: stats.buffer, rmean_in: bn.runningMean.buffer, rvar_in: bn.runningVar.buffer },
      [Math.ceil(l.c / FIN_WG)],
    );
  }
  const y = Tensor.empty(gpu, x.shape);
  const v = vecMode(l);
  const items = v === 'scalar' ? x.size : x.size / 4;
  gpu.dispatch(
    gpu.kernel(applySpec(relu, v)),
    { p: gpu.params('uuu', items, l.c, l.s), x: x.buffer, stats: stats.buffer, gamma: bn.weight.buffer, beta: bn.bias.buffer, y: y.buffer },
    grid1d(Math.ceil(items / 256)),
  );
  if (!tape) {
    stats.release();
    return y;
  }
  tape.record({
    op: relu ? 'batchnorm_relu' : 'batchnorm',
    inputs: [x, bn.weight, bn.bias],
    outputs: [y],
    saved: [stats],
    backward: ([gy]) => {
      const r = batchNormBackward(gpu, x, y, gy!, stats, bn.weight, { training, relu, layout: l });
      return [r.dx, r.dweight, r.dbias];
    },
  });
  return y;
}

/**
 * Gradients of batchNorm given dy. `y` is the forward output (only read when the
 * ReLU is fused, for its mask), `stats` the saved [mean | invstd].
 */
export function batchNormBackward(
  gpu: Gpu,
  x: Tensor,
  y: Tensor,
  dy: Tensor,
  stats: Tensor,
  weight: Tensor,
  o: { training: boolean; relu: boolean; layout?: Layout },
): { dx: Tensor; dweight: Tensor; dbias: Tensor } {
  const l =
    o.layout ??
    layoutOf(x, { weight, bias: weight, runningMean: weight, runningVar: weight });
  const { chunks, chunkLen, grid } = chunking(l);
  const part = Tensor.empty(gpu, [l.c, chunks, 2]);
  const mask = o.relu ? y.buffer : dy.buffer; // y is unused without the ReLU
  gpu.dispatch(
    gpu.kernel(reduceSpec(l.oneD, 'grad_main', o.relu)),
    { p: gpu.params('uuuuu', l.n, l.c, l.s, chunks, chunkLen), x: x.buffer, dy: dy.buffer, y: mask, stats: stats.buffer, part: part.buffer },
    grid,
  );
  const dweight = Tensor.empty(gpu, [l.c]);
  const dbias = Tensor.empty(gpu, [l.c]);
  const coef = Tensor.empty(gpu, [3, l.c]);
  gpu.dispatch(
    gpu.kernel(finalizeSpec('grad_final')),
    {
      p: gpu.params('uuuuffu', l.c, l.s, chunks, l.m, 0, 0, o.training ? 1 : 0),
      part: part.buffer,
      sstats: stats.buffer,
      gamma: weight.buffer,
      dgamma: dweight.buffer,
      dbeta: dbias.buffer,
      coef: coef.buffer,
    },
    [l.c],
  );
  const dx = Tensor.empty(gpu, x.shape);
  const v = vecMode(l);
  const items = v === 'scalar' ? x.size : x.size / 4;
  gpu.dispatch(
    gpu.kernel(backwardSpec(o.relu, v)),
    { p: gpu.params('uuu', items, l.c, l.s), x: x.buffer, dy: dy.buffer, y: mask, stats: stats.buffer, coef: coef.buffer, dx: dx.buffer },
    grid1d(Math.ceil(items / 256)),
  );
  part.release();
  coef.release();
  return { dx, dweight, dbias };
}
