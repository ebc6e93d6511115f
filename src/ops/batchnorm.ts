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
import finalizeSrc from '../../kernels/nn/batchnorm_finalize.wgsl';
import wgSum2Src from '../../kernels/common/wg_sum2.wgsl';
import applySrc from '../../kernels/nn/batchnorm_apply.wgsl';
import backwardSrc from '../../kernels/nn/batchnorm_backward.wgsl';
import lanesSrc from '../../kernels/common/lanes.wgsl';
import bnLanesSrc from '../../kernels/nn/batchnorm_lanes.wgsl';
import type { Gpu } from '../gpu/device.js';
import { wgslSections, workgroupsFor, type Kernel, type KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { batchStatsOf } from './batch-stats.js';
import { channelMajorWanted, markChannelMajor } from './channel-major.js';
import { ELEMENTWISE } from './grid.js';

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
/**
 * CPU adapters: few, small workgroups with long loops (`main_planes`: 32 invocations, each
 * walking whole planes). A 256-wide workgroup's shared-memory tree costs llvmpipe 9 barriers over
 * 32 SIMD fibres; there is parallelism for 2-16 cores only.
 */
const CPU_PLANES_WG = 32;
const CPU_WORKGROUPS = 16;
// Measured side by side on lavapipe (quick preset step, 2-core AVX2 EPYC): the 8 statistics and
// gradient reductions of a step take 17 ms instead of 49-57 ms (64-wide workgroups over element
// ranges); walking planes instead of (n, s) bookkeeping per element then took a BN+ReLU forward
// and backward on [96, 64, 7, 7] from 3.6-4.6 to 3.0-3.9 ms (Zen 5, min of 30, 2026-12-02).
const cpuReduce = (gpu: Gpu) => gpu.tuning === 'cpu';
const R1_TX = 32;
const R1_TY = 8;
/** Most chunks per channel: keeps the per-channel finish to one short loop. */
const MAX_CHUNKS = 256;

const WG_SUM2 = { file: 'kernels/common/wg_sum2.wgsl', code: wgSum2Src };
/** PyTorch's default epsilon, batchNorm's default. */
const BN_EPS = 1e-5;
const reduceSpec = (oneD: boolean, pass: 'stats' | 'grad', relu: boolean, cpu: boolean): KernelSpec => ({
  name: oneD ? 'nn/batchnorm_reduce1d' : 'nn/batchnorm_reduce',
  parts: [{ file: 'kernels/nn/batchnorm_reduce.wgsl', code: reduceSrc }, WG_SUM2],
  entryPoint: oneD ? 'main_1d' : cpu ? 'main_planes' : 'main',
  consts: {
    GRAD: pass === 'grad',
    RELU: relu,
    // [N, C]: a TX x TY workgroup whose tree sums each channel's column of TY partials.
    ...(oneD ? { TX: R1_TX, TY: R1_TY, WG: R1_TX * R1_TY, WG_SUM_STRIDE: R1_TX } : { WG: cpu ? CPU_PLANES_WG : REDUCE_WG }),
  },
});
const finalizeSpec = (entry: 'stats_final' | 'stats_merge' | 'grad_final' | 'eval_stats' | 'fold', serial = false, accum = false): KernelSpec => ({
  name: 'nn/batchnorm_finalize',
  parts: [{ file: 'kernels/nn/batchnorm_finalize.wgsl', code: finalizeSrc }, WG_SUM2],
  entryPoint: entry,
  consts: { SERIAL: serial, ACCUM: accum },
});
/**
 * The finishing passes over the chunk partials: one invocation per channel on CPU adapters
 * (measured in the quick step on lavapipe: 16 calls 9.9 ms with a workgroup per channel), else
 * a workgroup per channel.
 */
function finalize(gpu: Gpu, entry: 'stats_final' | 'stats_merge' | 'grad_final', c: number, accum = false): { kernel: Kernel; grid: [number, number?, number?] } {
  const serial = cpuReduce(gpu);
  const kernel = gpu.kernel(finalizeSpec(entry, serial, accum));
  return { kernel, grid: serial ? workgroupsFor(kernel, [c, 1]) : [c] };
}
/**
 * Element-wise passes run on vec4s when 4 consecutive elements share a channel
 * (S % 4 == 0) or are 4 consecutive channels (S == 1, C % 4 == 0); otherwise on GPUs one
 * element per invocation (adjacent invocations, adjacent addresses). On CPU adapters an
 * invocation walks a whole plane with its channel's values loaded once, in vec4s ('plane4')
 * or elements ('plane'): measured on lavapipe (batchnorm_lanes.wgsl), BN+ReLU forward and
 * backward of the quick step's 7 x 7 maps 6.5-8.7 -> 1.2-3.8 ms, of its [96, 24, 14, 14] map
 * 5.2 -> 3.0 ms (min of 30; the same dx bit for bit).
 */
type Vec = 'scalar' | 'same' | 'channels' | 'plane' | 'plane4';
function vecMode(gpu: Gpu, l: Layout): Vec {
  if (l.s % 4 === 0) return cpuReduce(gpu) ? 'plane4' : 'same';
  if (l.s === 1 && l.c % 4 === 0) return 'channels';
  if (l.s > 1 && cpuReduce(gpu)) return 'plane';
  return 'scalar';
}
/** The element-wise passes' invocation count and lane parameters for mode `v`. */
function lanesGrid(x: Tensor, l: Layout, v: Vec, ldo = 0): { items: number; p: { total: number; c: number; s: number; per: number; ldo: number } } {
  if (v === 'plane' || v === 'plane4') {
    const w = v === 'plane' ? 1 : 4;
    return { items: l.n * l.c, p: { total: l.n * l.c, c: l.c, s: 1, per: l.s / w, ldo: ldo / w } };
  }
  const items = v === 'scalar' ? x.size : x.size / 4;
  return { items, p: { total: items, c: l.c, s: l.s, per: 1, ldo: 0 } };
}
// One source per pass, compiled 1 or 4 lanes wide; the vec4 variants keep their names ('...4').
const LANES = wgslSections('kernels/common/lanes.wgsl', lanesSrc, ['scalar', 'vec4']);
const elementwiseSpec = (pass: 'apply' | 'backward', code: string, relu: boolean, v: Vec, channelMajor = false): KernelSpec => ({
  name: `nn/batchnorm_${pass}${v === 'scalar' ? '' : v === 'plane' ? '_plane' : v === 'plane4' ? '_plane4' : '4'}`,
  parts: [
    v === 'scalar' || v === 'plane' ? LANES.scalar : LANES.vec4,
    { file: 'kernels/nn/batchnorm_lanes.wgsl', code: bnLanesSrc },
    { file: `kernels/nn/batchnorm_${pass}.wgsl`, code },
    ELEMENTWISE,
  ],
  consts: { RELU: relu, SAME: v !== 'channels', PLANE: v === 'plane' || v === 'plane4', CHANNEL_MAJOR: channelMajor },
});
const applySpec = (relu: boolean, v: Vec): KernelSpec => elementwiseSpec('apply', applySrc, relu, v);
const backwardSpec = (relu: boolean, v: Vec, channelMajor: boolean): KernelSpec => elementwiseSpec('backward', backwardSrc, relu, v, channelMajor);

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
function chunking(l: Layout, cpu: boolean): { chunks: number; chunkLen: number; grid: [number, number] } {
  if (l.oneD) {
    const chunkLen = Math.max(R1_TY * 16, Math.ceil(l.n / MAX_CHUNKS));
    const chunks = Math.ceil(l.n / chunkLen);
    return { chunks, chunkLen, grid: [Math.ceil(l.c / R1_TX), chunks] };
  }
  if (cpu) {
    // main_planes: chunks of whole planes (chunkLen counts planes), each invocation a few planes.
    const chunks = Math.max(1, Math.min(Math.ceil(CPU_WORKGROUPS / l.c), Math.floor(l.n / (CPU_PLANES_WG * 2)) || 1));
    const chunkLen = Math.ceil(l.n / chunks);
    return { chunks: Math.ceil(l.n / chunkLen), chunkLen, grid: [Math.ceil(l.n / chunkLen), l.c] };
  }
  const chunkLen = Math.max(REDUCE_WG * 8, Math.ceil(l.m / MAX_CHUNKS));
  const chunks = Math.ceil(l.m / chunkLen);
  return { chunks, chunkLen, grid: [chunks, l.c] };
}

/** Statistics pass 1: per-channel partial shifted sums, part[c, chunk] = (sum (x-K), sum (x-K)^2), K = x[0, c, 0]. */
function statsReduce(gpu: Gpu, x: Tensor, l: Layout): { part: Tensor; chunks: number } {
  const cpu = cpuReduce(gpu);
  const { chunks, chunkLen, grid } = chunking(l, cpu);
  const part = Tensor.empty(gpu, [l.c, chunks, 2]);
  const rp = { n: l.n, c: l.c, s: l.s, chunks, chunk_len: chunkLen };
  // The stats pass reads no dy, y or stats: x stands in for them.
  gpu.dispatch(gpu.kernel(reduceSpec(l.oneD, 'stats', false, cpu)), { p: rp, x: x.buffer, dy: x.buffer, y: x.buffer, stats: x.buffer, part: part.buffer }, grid);
  return { part, chunks };
}

/**
 * Statistics pass 2: mean/invstd from `chunks` partials per channel over `m` values, shift
 * K[c] = shift[c * stride], and the running-statistics update.
 */
function statsFinalize(
  gpu: Gpu,
  l: Layout,
  part: Tensor,
  chunks: number,
  m: number,
  shift: { buf: GPUBuffer; stride: number },
  stats: Tensor,
  bn: BatchNormParams,
  eps: number,
  momentum: number,
  update: boolean,
): void {
  const f = finalize(gpu, 'stats_final', l.c);
  gpu.dispatch(
    f.kernel,
    {
      p: { c: l.c, s: shift.stride, chunks, m, eps, momentum, flag: update },
      part: part.buffer,
      x: shift.buf,
      stats: stats.buffer,
      rmean: bn.runningMean.buffer,
      rvar: bn.runningVar.buffer,
    },
    f.grid,
  );
}

function applyNorm(gpu: Gpu, x: Tensor, l: Layout, relu: boolean, stats: Tensor, bn: BatchNormParams): Tensor {
  const y = Tensor.empty(gpu, x.shape);
  const v = vecMode(gpu, l);
  const { items, p } = lanesGrid(x, l, v);
  gpu.dispatchOver(
    gpu.kernel(applySpec(relu, v)),
    { p, x: x.buffer, stats: stats.buffer, gamma: bn.weight.buffer, beta: bn.bias.buffer, y: y.buffer },
    items,
  );
  return y;
}

function resolveBn(x: Tensor, bn: BatchNormParams, opts: BatchNormOptions) {
  const training = opts.training ?? true;
  const l = layoutOf(x, bn);
  if (training && l.m < 2 && (opts.updateRunningStats ?? true)) {
    // PyTorch refuses too: the unbiased variance of one value is undefined.
    throw new RangeError(`batchNorm: training needs more than 1 value per channel, got [${x.shape}]`);
  }
  return { training, relu: opts.relu ?? false, eps: opts.eps ?? BN_EPS, momentum: opts.momentum ?? 0.1, update: opts.updateRunningStats ?? true, l };
}

/** Batch norm (optionally + ReLU) on [N, C] or [N, C, H, W]; records its backward on `tape`. */
export function batchNorm(tape: Tape | null, x: Tensor, bn: BatchNormParams, opts: BatchNormOptions = {}): Tensor {
  const gpu = x.gpu;
  const { training, relu, eps, momentum, update, l } = resolveBn(x, bn, opts);
  // stats = [mean (C) | invstd (C)]: saved for backward.
  const stats = Tensor.empty(gpu, [2, l.c]);
  const fused = training && cpuReduce(gpu) ? batchStatsOf(x) : undefined;
  if (fused && fused.channels === l.c && fused.count === l.m) {
    // The conv that made x summed its channels already (batch-stats.ts): merge its partials.
    const f = finalize(gpu, 'stats_merge', l.c);
    gpu.dispatch(
      f.kernel,
      { p: { c: l.c, s: 0, chunks: fused.parts, m: l.m, eps, momentum, flag: update }, part: fused.part.buffer, stats: stats.buffer, rmean: bn.runningMean.buffer, rvar: bn.runningVar.buffer },
      f.grid,
    );
  } else if (training) {
    const { part, chunks } = statsReduce(gpu, x, l);
    statsFinalize(gpu, l, part, chunks, l.m, { buf: x.buffer, stride: l.s }, stats, bn, eps, momentum, update);
    part.release(); // stream-ordered: a later user of this buffer runs after these dispatches
  } else {
    gpu.dispatchOver(
      gpu.kernel(finalizeSpec('eval_stats')),
      { p: { c: l.c, s: l.s, chunks: 0, m: l.m, eps, momentum, flag: 0 }, stats: stats.buffer, rmean_in: bn.runningMean.buffer, rvar_in: bn.runningVar.buffer },
      [l.c, 1],
    );
  }
  return applyAndRecord(tape, x, bn, l, relu, stats, relu ? 'batchnorm_relu' : 'batchnorm', (y, gy, into) =>
    batchNormBackward(gpu, x, y, gy, stats, bn.weight, { training, relu, layout: l, into }),
  );
}

type BnGrads = { dx: Tensor; dweight: Tensor; dbias: Tensor };

/**
 * The tail batchNorm and batchNormSynced share: normalise with `stats`, then either release
 * them (no tape) or keep them for the backward recorded on the tape.
 */
function applyAndRecord(
  tape: Tape | null,
  x: Tensor,
  bn: BatchNormParams,
  l: Layout,
  relu: boolean,
  stats: Tensor,
  op: string,
  backward: (y: Tensor, gy: Tensor, into: { dweight?: Tensor | null; dbias?: Tensor | null }) => BnGrads | Promise<BnGrads>,
): Tensor {
  const y = applyNorm(x.gpu, x, l, relu, stats, bn);
  if (!tape) {
    stats.release();
    return y;
  }
  tape.record({
    op,
    inputs: [x, bn.weight, bn.bias],
    outputs: [y],
    saved: [stats],
    // Synchronous unless the backward is (the synced one waits for the other ranks): a plain
    // tape.backward() must keep working for batchNorm.
    backward: ([gy], into) => {
      const r = backward(y, gy!, { dweight: into[1], dbias: into[2] });
      const list = (g: BnGrads) => [g.dx, g.dweight, g.dbias];
      return r instanceof Promise ? r.then(list) : list(r);
    },
  });
  return y;
}

/**
 * Cross-process sums for synchronised batch norm (SyncBN, as torch.nn.SyncBatchNorm): every
 * rank holds an equal share of the batch; `allreduce` sums host arrays over the ranks (blocking).
 */
export interface BnSync {
  readonly rank: number;
  readonly size: number;
  allreduce(buf: Float64Array): Float64Array;
}

/**
 * batchNorm with the statistics of the batch shared by `sync.size` processes: the per-channel
 * sums are read back mid-step, summed over the ranks in float64 and uploaded for the finishing
 * pass; the backward shares its two sums the same way. dweight/dbias stay this rank's own sums
 * (the gradient all-reduce averages them, as DDP does with SyncBatchNorm). Eval mode and
 * size 1 are batchNorm itself.
 *
 * The local sums are shifted by this rank's first value per channel; they are re-shifted to
 * rank 0's (which rides along in the same all-reduce: the others add 0), so every rank gets
 * bit-identical statistics and running statistics.
 */
export async function batchNormSynced(tape: Tape | null, x: Tensor, bn: BatchNormParams, opts: BatchNormOptions, sync: BnSync): Promise<Tensor> {
  const { training, relu, eps, momentum, update, l } = resolveBn(x, bn, opts);
  if (!training || sync.size === 1) return batchNorm(tape, x, bn, opts);
  const gpu = x.gpu;
  const { part, chunks } = statsReduce(gpu, x, l);
  // One read-back: the partials, then each channel's shift x[0, c, 0].
  const np = l.c * chunks * 2;
  const rb = Tensor.empty(gpu, [np + l.c]);
  gpu.copy(part.buffer, 0, rb.buffer, 0, np * 4);
  if (l.s === 1) gpu.copy(x.buffer, 0, rb.buffer, np * 4, l.c * 4);
  else for (let c = 0; c < l.c; c++) gpu.copy(x.buffer, c * l.s * 4, rb.buffer, (np + c) * 4, 4);
  part.release();
  const h = new Float32Array(await gpu.read(rb.buffer, 0, (np + l.c) * 4));
  rb.release();
  const C = l.c;
  const m = l.m;
  const buf = new Float64Array(3 * C);
  for (let c = 0; c < C; c++) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < chunks; k++) {
      a += h[(c * chunks + k) * 2]!;
      b += h[(c * chunks + k) * 2 + 1]!;
    }
    const sh = h[np + c]!;
    buf[c] = a + m * sh; // sum x
    buf[C + c] = b + 2 * sh * a + m * sh * sh; // sum x^2
    buf[2 * C + c] = sync.rank === 0 ? sh : 0; // rank 0's shift
  }
  sync.allreduce(buf);
  const M = m * sync.size;
  const g = new Float32Array(2 * C);
  const k0 = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const sx = buf[c]!;
    const z = buf[2 * C + c]!;
    g[2 * c] = sx - M * z;
    g[2 * c + 1] = buf[C + c]! - 2 * z * sx + M * z * z;
    k0[c] = z;
  }
  const gsum = Tensor.from(gpu, g, [C, 1, 2]);
  const shift = Tensor.from(gpu, k0, [C]);
  const stats = Tensor.empty(gpu, [2, C]);
  statsFinalize(gpu, l, gsum, 1, M, { buf: shift.buffer, stride: 1 }, stats, bn, eps, momentum, update);
  gsum.release();
  shift.release();
  return applyAndRecord(tape, x, bn, l, relu, stats, relu ? 'batchnorm_relu_sync' : 'batchnorm_sync', (y, gy) =>
    batchNormBackwardSynced(gpu, x, y, gy, stats, bn.weight, { relu, layout: l }, sync),
  );
}

/** Backward pass 1: per-channel partials (sum g, sum g (x - mean)), g = dy (masked by y > 0 with the ReLU). */
function gradReduce(gpu: Gpu, x: Tensor, dy: Tensor, mask: GPUBuffer, stats: Tensor, l: Layout, relu: boolean): { part: Tensor; chunks: number } {
  const cpu = cpuReduce(gpu);
  const { chunks, chunkLen, grid } = chunking(l, cpu);
  const part = Tensor.empty(gpu, [l.c, chunks, 2]);
  gpu.dispatch(
    gpu.kernel(reduceSpec(l.oneD, 'grad', relu, cpu)),
    { p: { n: l.n, c: l.c, s: l.s, chunks, chunk_len: chunkLen }, x: x.buffer, dy: dy.buffer, y: mask, stats: stats.buffer, part: part.buffer },
    grid,
  );
  return { part, chunks };
}

/**
 * Backward pass 2: dgamma, dbeta (added into out's when `accum`) and the dx coefficients from
 * `chunks` partials over `m` values.
 */
function gradFinalize(gpu: Gpu, l: Layout, part: Tensor, chunks: number, m: number, stats: Tensor, weight: Tensor, out: { dweight: Tensor; dbias: Tensor; coef: Tensor }, training: boolean, accum = false): void {
  const f = finalize(gpu, 'grad_final', l.c, accum);
  gpu.dispatch(
    f.kernel,
    {
      p: { c: l.c, s: l.s, chunks, m, eps: 0, momentum: 0, flag: training },
      part: part.buffer,
      sstats: stats.buffer,
      gamma: weight.buffer,
      dgamma: out.dweight.buffer,
      dbeta: out.dbias.buffer,
      coef: out.coef.buffer,
    },
    f.grid,
  );
}

/**
 * Backward pass 3: dx = A g + B (x - mean) + D per channel; written [C, ldc] when x's producer
 * asks for that layout and the pass walks planes (channel-major.ts).
 */
function gradApply(gpu: Gpu, x: Tensor, dy: Tensor, mask: GPUBuffer, stats: Tensor, coef: Tensor, l: Layout, relu: boolean): Tensor {
  const v = vecMode(gpu, l);
  const want = channelMajorWanted(x);
  const cm = want && (v === 'plane' || v === 'plane4') && want.channels === l.c && want.ncols === l.m && want.ldc % 4 === 0 ? want : undefined;
  const dx = Tensor.empty(gpu, cm ? [l.c, cm.ldc] : x.shape);
  if (cm) markChannelMajor(dx, cm);
  const { items, p } = lanesGrid(x, l, v, cm?.ldc ?? 0);
  gpu.dispatchOver(
    gpu.kernel(backwardSpec(relu, v, !!cm)),
    { p, x: x.buffer, dy: dy.buffer, y: mask, stats: stats.buffer, coef: coef.buffer, dx: dx.buffer },
    items,
  );
  return dx;
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
  o: { training: boolean; relu: boolean; layout?: Layout; into?: { dweight?: Tensor | null; dbias?: Tensor | null } },
): { dx: Tensor; dweight: Tensor; dbias: Tensor } {
  const l =
    o.layout ??
    layoutOf(x, { weight, bias: weight, runningMean: weight, runningVar: weight });
  const mask = o.relu ? y.buffer : dy.buffer; // y is unused without the ReLU
  const { part, chunks } = gradReduce(gpu, x, dy, mask, stats, l, o.relu);
  // Added into the gradients the tape holds (both or neither) when given.
  const accum = !!(o.into?.dweight && o.into?.dbias);
  const dweight = accum ? o.into!.dweight! : Tensor.empty(gpu, [l.c]);
  const dbias = accum ? o.into!.dbias! : Tensor.empty(gpu, [l.c]);
  const coef = Tensor.empty(gpu, [3, l.c]);
  gradFinalize(gpu, l, part, chunks, l.m, stats, weight, { dweight, dbias, coef }, o.training, accum);
  const dx = gradApply(gpu, x, dy, mask, stats, coef, l, o.relu);
  part.release();
  coef.release();
  return { dx, dweight, dbias };
}

/** batchNormBackward of batchNormSynced (training mode): the two sums shared over the ranks. */
async function batchNormBackwardSynced(
  gpu: Gpu,
  x: Tensor,
  y: Tensor,
  dy: Tensor,
  stats: Tensor,
  weight: Tensor,
  o: { relu: boolean; layout: Layout },
  sync: BnSync,
): Promise<{ dx: Tensor; dweight: Tensor; dbias: Tensor }> {
  const l = o.layout;
  const C = l.c;
  const mask = o.relu ? y.buffer : dy.buffer;
  const { part, chunks } = gradReduce(gpu, x, dy, mask, stats, l, o.relu);
  // This rank's dgamma/dbeta from its own sums (their coefficients are not used) ...
  const dweight = Tensor.empty(gpu, [C]);
  const dbias = Tensor.empty(gpu, [C]);
  const scratch = { dweight: Tensor.empty(gpu, [C]), dbias: Tensor.empty(gpu, [C]), coef: Tensor.empty(gpu, [3, C]) };
  gradFinalize(gpu, l, part, chunks, l.m, stats, weight, { dweight, dbias, coef: scratch.coef }, true);
  const h = new Float32Array(await gpu.read(part.buffer, 0, C * chunks * 8));
  part.release();
  const buf = new Float64Array(2 * C);
  for (let c = 0; c < C; c++) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < chunks; k++) {
      a += h[(c * chunks + k) * 2]!;
      b += h[(c * chunks + k) * 2 + 1]!;
    }
    buf[2 * c] = a;
    buf[2 * c + 1] = b;
  }
  sync.allreduce(buf);
  // ... and dx's coefficients from the global sums over all ranks' m values.
  const gsum = Tensor.from(gpu, Float32Array.from(buf), [C, 1, 2]);
  const coef = Tensor.empty(gpu, [3, C]);
  gradFinalize(gpu, l, gsum, 1, l.m * sync.size, stats, weight, { dweight: scratch.dweight, dbias: scratch.dbias, coef }, true);
  const dx = gradApply(gpu, x, dy, mask, stats, coef, l, o.relu);
  for (const t of [gsum, coef, scratch.dweight, scratch.dbias, scratch.coef]) t.release();
  return { dx, dweight, dbias };
}

/**
 * Eval-mode batch norm folded into the conv before it (the `fold` entry of the finishing
 * kernels, which read the same running statistics): W' [cout, ...] and b' [cout] with
 * conv(x, W') + b' = BN(conv(x, W)), k = gamma / sqrt(running_var + eps), W' = W k,
 * b' = beta - running_mean k. Evaluation only (no gradient).
 */
export function foldBatchNorm(w: Tensor, bn: BatchNormParams, eps = BN_EPS): { weight: Tensor; bias: Tensor } {
  const gpu = w.gpu;
  const cout = w.shape[0]!;
  const weight = Tensor.empty(gpu, w.shape);
  const bias = Tensor.empty(gpu, [cout]);
  gpu.dispatchOver(
    gpu.kernel({ ...finalizeSpec('fold'), name: 'nn/batchnorm_fold' }),
    {
      p: { c: cout, s: w.size / cout, chunks: 0, m: 0, eps, momentum: 0, flag: 0 },
      w: w.buffer, gamma: bn.weight.buffer, beta: bn.bias.buffer, rmean_in: bn.runningMean.buffer, rvar_in: bn.runningVar.buffer,
      wout: weight.buffer, bout: bias.buffer,
    },
    w.size,
  );
  return { weight, bias };
}
