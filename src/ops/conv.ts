/**
 * conv2d (NCHW activations, weight [cout, cin, kh, kw], optional bias) on the shared matmul
 * core, by one of two algorithms:
 * - implicit GEMM (GPUs): forward, input gradient (transposed-conv GEMM) and weight gradient
 *   (GEMM over nb*oh*ow, bias gradient fused as an extra column), one core dispatch each;
 *   the weight gradient adds a small reduce when it splits K.
 * - explicit im2col + GEMM (CPU adapters, conv-im2col.ts): gathered loads cost as much as
 *   loads from memory there, so the columns are materialised once per image chunk and the
 *   GEMMs run on plain operands with vec4 loads.
 */
import commonSrc from '../../kernels/nn/conv_common.wgsl';
import fwdSrc from '../../kernels/nn/conv_fwd.wgsl';
import dgradSrc from '../../kernels/nn/conv_dgrad.wgsl';
import wgradSrc from '../../kernels/nn/conv_wgrad.wgsl';
import reduceSrc from '../../kernels/nn/conv_wgrad_reduce.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { UniformValues, WgslPart } from '../gpu/kernel.js';
import type { Tape } from '../tape.js';
import { relu } from './activation.js';
import { Tensor } from '../tensor.js';
import indexSrc from '../../kernels/common/index.wgsl';
import { backwardDyLayout, conv2dBackwardIm2col, conv2dForwardIm2col, im2colFits, weightGradTargets, type HeldGrads, type SavedCols } from './conv-im2col.js';
import { wantChannelMajorGrad } from './channel-major.js';
import { MATMUL_CORE, MATMUL_SCALAR_HOOKS, matmulCore, matmulGrid, matmulTiles, tileConsts, type MatmulTiles } from './matmul-core.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  /** Compute the input gradient in backward (default true); false for the first layer. */
  inputGrad?: boolean;
  /** Default: 'im2col' on CPU adapters (when a one-image chunk fits a binding), else 'implicit'. */
  algo?: 'implicit' | 'im2col';
  /** im2col: scratch cap per matrix in floats (tests use small values to exercise chunking). */
  chunkFloats?: number;
  /** implicit: workgroups per dispatch along x before positions go to slices along z (tests). */
  maxGridX?: number;
  /** conv2dForward only: y = max(conv + bias, 0), in the GEMM's epilogue on the im2col path. */
  relu?: boolean;
  /**
   * conv2d on a tape: a training batch norm follows; where the im2col GEMM can, it sums the
   * output's channels in its epilogue for it (batch-stats.ts).
   */
  batchStats?: boolean;
}

export interface ConvGeometry {
  nb: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  oh: number;
  ow: number;
}

const INDEX: WgslPart = { file: 'kernels/common/index.wgsl', code: indexSrc };
const COMMON: WgslPart = { file: 'kernels/nn/conv_common.wgsl', code: commonSrc };
const F24 = 1 << 24;

export function convGeometry(xShape: readonly number[], wShape: readonly number[], stride = 1, pad = 0): ConvGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) throw new RangeError(`conv2d: x [${xShape}] and w [${wShape}] must be 4-D`);
  const [nb, cin, h, w] = xShape as [number, number, number, number];
  const [cout, wcin, kh, kw] = wShape as [number, number, number, number];
  if (wcin !== cin) throw new RangeError(`conv2d: x has ${cin} channels, w expects ${wcin}`);
  if (!(stride >= 1) || !(pad >= 0)) throw new RangeError(`conv2d: stride ${stride}, padding ${pad}`);
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  if (oh < 1 || ow < 1) throw new RangeError(`conv2d: empty output for x [${xShape}], k ${kh}x${kw}, stride ${stride}, padding ${pad}`);
  // Float-reciprocal index decoding (conv_common.wgsl) is exact below 2^24.
  if (nb * Math.max(oh * ow, h * w) >= F24 || cout * cin * kh * kw >= F24) throw new RangeError('conv2d: tensor too large for 24-bit index decoding');
  return { nb, cin, h, w, cout, kh, kw, stride, pad, oh, ow };
}

/** kernels/nn/conv_common.wgsl's ConvParams. */
function params(g: ConvGeometry, kchunk = 0, ktotal = 0, chunkCols = 0): UniformValues {
  const { nb, cin, h, w, cout, oh, ow, kh, kw, stride, pad } = g;
  return {
    nb, cin, h, w, cout, oh, ow, kh, kw, stride, pad, kchunk, ktotal, chunk_cols: chunkCols,
    inv_ohw: 1 / (oh * ow), inv_ow: 1 / ow, inv_khw: 1 / (kh * kw), inv_kw: 1 / kw,
    inv_hw: 1 / (h * w), inv_w: 1 / w, inv_stride: 1 / stride,
  };
}

/**
 * Grid of an implicit-GEMM pass over `cols` positions: column tiles along x, row tiles along y,
 * and, past the per-dimension workgroup limit, slices of `chunkCols` positions along z.
 */
function sliceGrid(gpu: Gpu, rows: number, cols: number, tiles: MatmulTiles, maxX?: number): { grid: [number, number, number]; chunkCols: number } {
  const [gx, gy] = matmulGrid(rows, cols, 1, tiles);
  const max = maxX ?? gpu.limits.maxComputeWorkgroupsPerDimension;
  const slices = Math.ceil(gx / max);
  const perSlice = Math.ceil(gx / slices);
  return { grid: [perSlice, gy, slices], chunkCols: slices === 1 ? cols : perSlice * tiles.TILE_N };
}

/** The implicit GEMM's tiles: column tiles along the grid's x always (sliceGrid splits x past the workgroup limit). */
const implicitTiles = (gpu: Gpu): MatmulTiles => ({ ...matmulTiles(gpu), ROWS_FAST: false });

function core(gpu: Gpu, tiles: MatmulTiles): WgslPart[] {
  return tiles.MM_CPU ? matmulCore(gpu) : MATMUL_CORE;
}

/** The algorithm `o` asks for, or this adapter's default. */
export function convAlgo(gpu: Gpu, g: ConvGeometry, o: Conv2dOptions = {}): 'implicit' | 'im2col' {
  if (o.algo) return o.algo;
  return matmulTiles(gpu).MM_CPU && im2colFits(gpu, g) ? 'im2col' : 'implicit';
}

/** Useful FLOPs of each conv pass (forward, input grad, weight grad: the same multiply-adds). */
function convFlops(g: ConvGeometry): number {
  return 2 * g.cout * g.nb * g.oh * g.ow * g.cin * g.kh * g.kw;
}

/**
 * y = conv2d(x, w) + b: x [nb, cin, h, w], w [cout, cin, kh, kw] -> y [nb, cout, oh, ow].
 * `keep` (im2col path, one image chunk): receives the columns for the weight gradient.
 */
export function conv2dForward(gpu: Gpu, x: Tensor, w: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}, keep?: (s: SavedCols) => void): Tensor {
  const g = convGeometry(x.shape, w.shape, o.stride ?? 1, o.padding ?? 0);
  if (convAlgo(gpu, g, o) === 'im2col') return conv2dForwardIm2col(gpu, x, w, bias, g, o, keep);
  const tiles = implicitTiles(gpu);
  const y = Tensor.empty(gpu, [g.nb, g.cout, g.oh, g.ow]);
  const kernel = gpu.kernel({
    name: 'nn/conv_fwd',
    parts: [INDEX, COMMON, { file: 'kernels/nn/conv_fwd.wgsl', code: fwdSrc }, MATMUL_SCALAR_HOOKS, ...core(gpu, tiles)],
    consts: { ...tileConsts(tiles), HAS_BIAS: !!bias },
  });
  const s = sliceGrid(gpu, g.cout, g.nb * g.oh * g.ow, tiles, o.maxGridX);
  gpu.dispatch(kernel, { p: params(g, 0, 0, s.chunkCols), X: x.buffer, Wt: w.buffer, bias: bias?.buffer ?? gpu.dummy, Y: y.buffer }, s.grid, { flops: convFlops(g) });
  if (!o.relu) return y;
  const r = relu(null, y);
  y.release();
  return r;
}

/** dX = conv_transpose(dY, w): one implicit-GEMM dispatch, every dX element written once. */
export function conv2dInputGrad(gpu: Gpu, gy: Tensor, w: Tensor, xShape: readonly number[], o: Conv2dOptions = {}): Tensor {
  const g = convGeometry(xShape, w.shape, o.stride ?? 1, o.padding ?? 0);
  if (convAlgo(gpu, g, o) === 'im2col') return conv2dBackwardIm2col(gpu, gy, null, w, g, { dx: true, dW: false, bias: false }, o).dx!;
  const tiles = implicitTiles(gpu);
  const dx = Tensor.empty(gpu, [g.nb, g.cin, g.h, g.w]);
  const kernel = gpu.kernel({
    name: 'nn/conv_dgrad',
    parts: [INDEX, COMMON, { file: 'kernels/nn/conv_dgrad.wgsl', code: dgradSrc }, MATMUL_SCALAR_HOOKS, ...core(gpu, tiles)],
    consts: { ...tileConsts(tiles) },
  });
  const s = sliceGrid(gpu, g.cin, g.nb * g.h * g.w, tiles, o.maxGridX);
  gpu.dispatch(kernel, { p: params(g, 0, 0, s.chunkCols), dY: gy.buffer, Wt: w.buffer, dX: dx.buffer }, s.grid, { flops: convFlops(g) });
  return dx;
}

/**
 * dW (and db when withBias) = sum over positions of dY x im2col(X). Splits K = nb*oh*ow
 * across workgroups when the output alone has too few tiles to keep the adapter busy.
 */
export function conv2dWeightGrad(
  gpu: Gpu,
  gy: Tensor,
  x: Tensor,
  wShape: readonly number[],
  withBias: boolean,
  o: Conv2dOptions & { splits?: number; into?: HeldGrads } = {},
): { dW: Tensor; db: Tensor | null } {
  const g = convGeometry(x.shape, wShape, o.stride ?? 1, o.padding ?? 0);
  if (convAlgo(gpu, g, o) === 'im2col') {
    const r = conv2dBackwardIm2col(gpu, gy, x, null, g, { dx: false, dW: true, bias: withBias }, o);
    return { dW: r.dW!, db: r.db };
  }
  const tiles = implicitTiles(gpu);
  const ck = g.cin * g.kh * g.kw;
  const ncols = ck + (withBias ? 1 : 0);
  const K = g.nb * g.oh * g.ow;
  const [gx, gyy] = matmulGrid(g.cout, ncols, 1, tiles);
  // Aim for >= 32 workgroups (load balance over CPU threads / GPU SMs), >= 256 positions per split.
  const splits = Math.max(1, Math.min(o.splits ?? Math.ceil(32 / (gx * gyy)), Math.floor(K / 256) || 1, 65535));
  const kchunk = Math.ceil(K / splits);
  const nsplit = Math.ceil(K / kchunk);
  const split = nsplit > 1;
  const { dW, db, accum } = weightGradTargets(gpu, g, withBias, o.into);
  const part = split ? Tensor.empty(gpu, [nsplit, g.cout, ncols]) : null;
  const kernel = gpu.kernel({
    name: 'nn/conv_wgrad',
    parts: [INDEX, COMMON, { file: 'kernels/nn/conv_wgrad.wgsl', code: wgradSrc }, MATMUL_SCALAR_HOOKS, ...core(gpu, tiles)],
    consts: { ...tileConsts(tiles), HAS_BIAS: withBias, SPLIT: split, ACCUM: accum && !split, A_ROW_FAST: false },
  });
  gpu.dispatch(
    kernel,
    { p: params(g, kchunk, K), dY: gy.buffer, X: x.buffer, dW: (part ?? dW).buffer, db: split ? gpu.dummy : (db?.buffer ?? gpu.dummy) },
    [gx, gyy, nsplit],
    { flops: convFlops(g) },
  );
  if (part) {
    const count = g.cout * ncols;
    const reduce = gpu.kernel({ name: 'nn/conv_wgrad_reduce', parts: [{ file: 'kernels/nn/conv_wgrad_reduce.wgsl', code: reduceSrc }], consts: { HAS_BIAS: withBias, ACCUM: accum } });
    gpu.dispatchOver(
      reduce,
      { p: { count, ncols, ck, splits: nsplit, inv_ncols: 1 / ncols }, part: part.buffer, dW: dW.buffer, db: db?.buffer ?? gpu.dummy },
      count,
    );
    part.release();
  }
  return { dW, db };
}

/** conv2d recorded on `tape`: gradients for x (unless inputGrad is false), w and bias. */
export function conv2d(tape: Tape | null, x: Tensor, w: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  if (o.relu && tape) throw new RangeError('conv2d: the fused relu has no gradient (conv2dForward only); use relu() or batchNorm\'s relu on a tape');
  const gpu = x.gpu;
  let saved: SavedCols | undefined;
  const y = conv2dForward(gpu, x, w, bias, o, tape ? (s) => (saved = s) : undefined);
  const want = { dx: o.inputGrad !== false, dW: true, bias: !!bias };
  if (tape) {
    const g = convGeometry(x.shape, w.shape, o.stride ?? 1, o.padding ?? 0);
    const layout = convAlgo(gpu, g, o) === 'im2col' ? backwardDyLayout(gpu, g, want, o) : undefined;
    if (layout) wantChannelMajorGrad(y, layout);
  }
  tape?.record({
    op: 'conv2d',
    inputs: bias ? [x, w, bias] : [x, w],
    outputs: [y],
    saved: saved ? [saved.cols, ...(saved.stats ? [saved.stats] : [])] : [],
    backward: ([gy], into) => {
      const g = convGeometry(x.shape, w.shape, o.stride ?? 1, o.padding ?? 0);
      if (convAlgo(gpu, g, o) === 'im2col') {
        const r = conv2dBackwardIm2col(gpu, gy!, x, w, g, want, { ...o, saved, into: { dW: into[1], db: into[2] } });
        return bias ? [r.dx, r.dW, r.db] : [r.dx, r.dW];
      }
      const dx = o.inputGrad === false ? null : conv2dInputGrad(gpu, gy!, w, x.shape, o);
      const { dW, db } = conv2dWeightGrad(gpu, gy!, x, w.shape, !!bias, { ...o, into: { dW: into[1], db: into[2] } });
      return bias ? [dx, dW, db] : [dx, dW];
    },
  });
  return y;
}
