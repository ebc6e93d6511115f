/**
 * conv2d as explicit im2col + the shared GEMM, the path for CPU adapters (lavapipe).
 *
 * On llvmpipe every gathered load costs a scalar loop over the 8 SIMD lanes whatever its
 * address, and the implicit GEMM decodes (n, y, x) and tests padding on every operand read;
 * materialising im2col once per chunk (one store per element) lets the GEMM run on plain
 * row-major operands with vec4 loads and no index arithmetic. Images are processed in chunks
 * so that the scratch columns stay under CHUNK_FLOATS (and the binding limit):
 *   forward:      cols = im2col(X)          Y = W cols                 (NCHW scatter, bias per row)
 *   input grad:   dyt = [cout, (n,q)] of dY  dcols = W^T dyt            dX = col2im(dcols)
 *   weight grad:  dW = sum over chunks and K-splits of dyt cols^T, db = row sums of dyt; one reduce.
 */
import indexSrc from '../../kernels/common/index.wgsl';
import im2colSrc from '../../kernels/nn/im2col.wgsl';
import col2imSrc from '../../kernels/nn/col2im.wgsl';
import reduceSrc from '../../kernels/nn/conv_wgrad_reduce.wgsl';
import biasGradSrc from '../../kernels/nn/conv_bias_grad.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { WgslPart } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { ConvGeometry } from './conv.js';
import { channelMajorOf, type ChannelMajor } from './channel-major.js';
import { grid1d } from './grid.js';
import { gemm, rowStatParts, transpose } from './matmul.js';
import { attachBatchStats } from './batch-stats.js';
import { cpuSubgroups, cpuTileRows, cpuTilesFor, matmulTiles } from './matmul-core.js';

const INDEX: WgslPart = { file: 'kernels/common/index.wgsl', code: indexSrc };
/** Default cap on one scratch matrix (floats): 32 MiB, well under lavapipe's 128 MiB binding. */
export const CHUNK_FLOATS = 8 << 20;

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

interface Chunk {
  n0: number;
  ni: number;
  /** Valid columns (ni * oh * ow) and the padded row length. */
  ncols: number;
  ldc: number;
}

/** Image chunks whose widest scratch matrix (`rows` x ldc) fits the cap. */
function chunks(gpu: Gpu, g: ConvGeometry, rows: number, align: number, cap: number): Chunk[] {
  const ohw = g.oh * g.ow;
  // `cap` is soft; the binding limit is not, padding included (ldc rounds up by < 128 columns).
  const hard = Math.floor((gpu.maxBinding / 4 / rows - 128) / ohw);
  const per = Math.max(1, Math.min(g.nb, hard, Math.floor(cap / (rows * ohw)), 65535)); // images on a grid axis
  const out: Chunk[] = [];
  for (let n0 = 0; n0 < g.nb; n0 += per) {
    const ni = Math.min(per, g.nb - n0);
    out.push({ n0, ni, ncols: ni * ohw, ldc: roundUp(ni * ohw, align) });
  }
  return out;
}

/** True when one image's scratch fits a binding (otherwise the implicit path must be used). */
export function im2colFits(gpu: Gpu, g: ConvGeometry): boolean {
  const rows = Math.max(g.cin * g.kh * g.kw + 1, g.cout);
  return rows * (g.oh * g.ow + 128) * 4 <= gpu.maxBinding;
}

/** cols [rows, ldc] <- im2col of images [n0, n0+ni) of `src` (a 1x1 "im2col" transposes dY). */
function im2col(gpu: Gpu, src: Tensor, cols: Tensor, c: Chunk, geo: { cin: number; h: number; w: number; kh: number; kw: number; stride: number; pad: number; oh: number; ow: number }): void {
  // Channels per invocation: enough taps per decoded position (a 1x1 transpose has one per channel).
  const cpi = Math.min(geo.cin, Math.max(1, Math.ceil(16 / (geo.kh * geo.kw))));
  const groups = Math.ceil(geo.cin / cpi);
  const k = gpu.kernel({
    name: 'nn/im2col',
    parts: [INDEX, { file: 'kernels/nn/im2col.wgsl', code: im2colSrc }],
    consts: { KH: geo.kh, KW: geo.kw, STRIDE: geo.stride, CPI: cpi },
  });
  const params = { cin: geo.cin, h: geo.h, w: geo.w, pad: geo.pad, oh: geo.oh, ow: geo.ow, ncols: c.ncols, ldc: c.ldc, n0: c.n0, inv_ow: 1 / geo.ow };
  // x: positions of one image (or padding columns, if more); y: channel groups; z: images.
  gpu.dispatchOver(k, { p: params, X: src.buffer, cols: cols.buffer }, [Math.max(geo.oh * geo.ow, c.ldc - c.ncols), groups, c.ni]);
}

/** dY chunk as [cout, (n, q)] (zero-padded to ldc). */
function transposeDy(gpu: Gpu, gy: Tensor, dyt: Tensor, c: Chunk, g: ConvGeometry): void {
  im2col(gpu, gy, dyt, c, { cin: g.cout, h: g.oh, w: g.ow, kh: 1, kw: 1, stride: 1, pad: 0, oh: g.oh, ow: g.ow });
}

export interface Im2colOptions {
  /** Scratch cap in floats (tests use small values to exercise chunking). */
  chunkFloats?: number;
  /** Forward: a ReLU after the bias, in the GEMM's epilogue. */
  relu?: boolean;
  /**
   * Forward with `keep`: also the output's per-channel batch statistics, from the GEMM's
   * registers (one chunk, CPU tiles, no bias or ReLU), attached to the output (batch-stats.ts).
   */
  batchStats?: boolean;
}

/**
 * The forward's im2col columns of a one-chunk batch, kept for the weight gradient, which
 * needs exactly these columns (padding columns are zeros in both): rebuilding them cost
 * ~2 ms a layer a view in the quick step on lavapipe.
 */
export interface SavedCols {
  cols: Tensor;
  ldc: number;
  /** The output's batch-statistics partials, when asked for (batch-stats.ts). */
  stats?: Tensor;
}

/** `keep`: receives the columns instead of releasing them, when the batch is one chunk. */
export function conv2dForwardIm2col(
  gpu: Gpu, x: Tensor, w: Tensor, bias: Tensor | null | undefined, g: ConvGeometry, o: Im2colOptions = {}, keep?: (s: SavedCols) => void,
): Tensor {
  const base = matmulTiles(gpu);
  const ck = g.cin * g.kh * g.kw;
  const tiles = base.MM_CPU ? { ...base, TILE_M: cpuTileRows(g.cout) } : base;
  const y = Tensor.empty(gpu, [g.nb, g.cout, g.oh, g.ow]);
  const parts = chunks(gpu, g, ck, tiles.TILE_N, o.chunkFloats ?? CHUNK_FLOATS);
  const cols = Tensor.empty(gpu, [ck * parts[0]!.ldc]);
  const withStats = !!(keep && o.batchStats && parts.length === 1 && tiles.MM_CPU && !bias && !o.relu);
  const nparts = rowStatParts(gpu, parts[0]!.ldc, tiles);
  const stats = withStats ? Tensor.empty(gpu, [g.cout, nparts, 3]) : undefined;
  for (const c of parts) {
    im2col(gpu, x, cols, c, g);
    // Every column tile is full (ldc is a multiple of TILE_N); the scatter skips padding columns.
    gemm(gpu, {
      A: w.buffer, B: cols.buffer, C: y.buffer, M: g.cout, N: c.ldc, K: ck,
      lda: ck, ldb: c.ldc, ldc: 0, offC: c.n0 * g.cout * g.oh * g.ow,
      outNchw: { q: g.oh * g.ow, nValid: c.ncols }, bias: bias?.buffer, relu: o.relu, tiles, rowStats: stats?.buffer,
    });
  }
  if (stats) attachBatchStats(y, { part: stats, parts: nparts, channels: g.cout, count: parts[0]!.ncols });
  if (keep && parts.length === 1) keep({ cols, ldc: parts[0]!.ldc, stats });
  else cols.release();
  return y;
}

/** What the backward pass computes. */
export interface ConvWant {
  dx: boolean;
  dW: boolean;
  bias: boolean;
}

/**
 * The backward pass's image chunks, each with its K-splits of the weight gradient and its dY
 * row length ldc (the forward's output asks for that layout: channel-major.ts).
 */
export function backwardChunks(gpu: Gpu, g: ConvGeometry, want: ConvWant, o: { chunkFloats?: number; splits?: number } = {}): (Chunk & { splits: number })[] {
  const tiles = matmulTiles(gpu);
  const ck = g.cin * g.kh * g.kw;
  const wtiles = tiles.MM_CPU ? cpuTilesFor(ck, g.cout) : tiles;
  // K-splits of the weight gradient per chunk: enough workgroups to occupy the adapter.
  const wTiles = Math.ceil(g.cout / wtiles.TILE_M) * Math.ceil(ck / wtiles.TILE_N);
  const parts = chunks(gpu, g, Math.max(ck, g.cout), tiles.TILE_N, o.chunkFloats ?? CHUNK_FLOATS);
  // A power of two, so that ldc (a multiple of max(TILE_N, 4 * splits), both powers of two)
  // splits into equal, vec4-aligned K ranges; padding columns are zeros in dyt and cols.
  const splitsFor = (c: Chunk) => {
    if (!want.dW) return 1;
    const s = Math.max(1, o.splits ?? Math.min(Math.ceil(16 / wTiles), Math.floor(c.ncols / 256)));
    return 2 ** Math.floor(Math.log2(s));
  };
  return parts.map((c) => {
    const s = splitsFor(c);
    return { ...c, splits: s, ldc: roundUp(c.ncols, Math.max(tiles.TILE_N, 4 * s)) };
  });
}

/**
 * The dY layout the backward pass would read without a transpose ([cout, ldc], channel-major.ts):
 * one chunk, and dY transposed at all (not the 1-channel input-gradient-only case).
 */
export function backwardDyLayout(gpu: Gpu, g: ConvGeometry, want: ConvWant, o: { chunkFloats?: number; splits?: number } = {}): ChannelMajor | undefined {
  const shaped = backwardChunks(gpu, g, want, o);
  if (shaped.length !== 1 || dyDirect(g, want)) return undefined;
  return { channels: g.cout, ncols: shaped[0]!.ncols, ldc: shaped[0]!.ldc };
}

// The input gradient alone with few GEMM rows (cin*kh*kw < 64, e.g. a 1-channel first layer):
// the dY transpose would cost more than the GEMM, so the GEMM reads dY per image instead
// (batch = image, N = oh*ow, at the price of a partly empty last column tile per image).
const dyDirect = (g: ConvGeometry, want: ConvWant) => !want.dW && g.cin * g.kh * g.kw < 64;

/** Gradients of a conv's weight and bias that the tape already holds (its `accumulate`). */
export interface HeldGrads {
  dW?: Tensor | null;
  db?: Tensor | null;
}

/**
 * Where a weight gradient (and bias gradient) is written: into the held ones (both, or the
 * weight's alone without a bias: one kernel writes both), else new tensors; `accum` says which.
 */
export function weightGradTargets(gpu: Gpu, g: ConvGeometry, withBias: boolean, into: HeldGrads = {}): { dW: Tensor; db: Tensor | null; accum: boolean } {
  const accum = !!into.dW && (!withBias || !!into.db);
  const dW = accum ? into.dW! : Tensor.empty(gpu, [g.cout, g.cin, g.kh, g.kw]);
  const db = withBias ? (accum ? into.db! : Tensor.empty(gpu, [g.cout])) : null;
  return { dW, db, accum };
}

/** Both conv gradients in one pass over image chunks (dY is transposed once per chunk). */
export function conv2dBackwardIm2col(
  gpu: Gpu,
  gy: Tensor,
  x: Tensor | null,
  w: Tensor | null,
  g: ConvGeometry,
  want: ConvWant,
  o: Im2colOptions & { splits?: number; saved?: SavedCols; into?: HeldGrads } = {},
): { dx: Tensor | null; dW: Tensor | null; db: Tensor | null } {
  const tiles = matmulTiles(gpu);
  const ck = g.cin * g.kh * g.kw;
  // Partial slices are [cout, ck (+1: db)]; the GEMM writes the ck dW columns, a row sum of
  // dyt the db column (a ones row in cols would cost the GEMM a mostly empty extra tile).
  const ncolsW = ck + (want.bias ? 1 : 0);
  const wtiles = tiles.MM_CPU ? cpuTilesFor(ck, g.cout) : tiles;
  const shaped = backwardChunks(gpu, g, want, o);
  const maxLdc = Math.max(...shaped.map((c) => c.ldc));
  const direct = dyDirect(g, want);
  // dY already [cout, ldc] (the batch norm after the forward wrote it so: channel-major.ts).
  const cm = channelMajorOf(gy);
  const given = cm && shaped.length === 1 && !direct && cm.channels === g.cout && cm.ldc === shaped[0]!.ldc && cm.ncols === shaped[0]!.ncols;
  const dyt = given ? gy : Tensor.empty(gpu, [direct ? 1 : g.cout * maxLdc]);
  // The forward's columns serve when they have this pass's single chunk's layout.
  const reuse = want.dW && o.saved && shaped.length === 1 && o.saved.ldc === shaped[0]!.ldc ? o.saved.cols : null;
  const cols = reuse ?? (want.dW ? Tensor.empty(gpu, [ck * maxLdc]) : null);
  const dcols = want.dx ? Tensor.empty(gpu, [ck * maxLdc]) : null;
  const totalSplits = shaped.reduce((a, c) => a + c.splits, 0);
  const part = want.dW ? Tensor.empty(gpu, [totalSplits * g.cout * ncolsW]) : null;
  const dx = want.dx ? Tensor.empty(gpu, [g.nb, g.cin, g.h, g.w]) : null;
  let slice = 0;
  let wt: Tensor | null = null;
  for (const c of shaped) {
    if (!direct && !given) transposeDy(gpu, gy, dyt, c, g);
    if (cols && part && x) {
      if (!reuse) im2col(gpu, x, cols, c, g);
      const kc = c.ldc / c.splits;
      gemm(gpu, {
        A: dyt.buffer, B: cols.buffer, C: part.buffer, M: g.cout, N: ck, K: kc, batch: c.splits, transB: true,
        lda: c.ldc, ldb: c.ldc, ldc: ncolsW, batchStrideA: kc, batchStrideB: kc,
        offC: slice * g.cout * ncolsW, batchStrideC: g.cout * ncolsW, tiles: wtiles,
      });
      if (want.bias) {
        const k = gpu.kernel({ name: 'nn/conv_bias_grad', parts: [{ file: 'kernels/nn/conv_bias_grad.wgsl', code: biasGradSrc }] });
        const params = { cout: g.cout, kc4: kc / 4, ldc4: c.ldc / 4, ncols: ncolsW, ck, slice0: slice, splits: c.splits };
        gpu.dispatchOver(k, { p: params, dyt: dyt.buffer, part: part.buffer }, [g.cout * c.splits, 1]); // [n, 1]: x only, no fold into y
      }
      slice += c.splits;
    }
    if (dcols && dx && w) {
      // Channels per col2im invocation (one position decode): ~32 tap loads each (measured:
      // k3 s2, 4 taps: 8 channels 2.5x faster than 1; k3 s1, 9 taps: 2-3 best).
      const taps = Math.ceil(g.kh / g.stride) * Math.ceil(g.kw / g.stride);
      const cpi = Math.min(g.cin, Math.max(1, Math.floor(32 / taps)));
      const ohw = g.oh * g.ow;
      if (direct) {
        gemm(gpu, {
          A: w.buffer, B: gy.buffer, C: dcols.buffer, M: ck, N: ohw, K: g.cout, batch: c.ni, transA: true,
          lda: ck, ldb: ohw, ldc: c.ldc, offB: c.n0 * g.cout * ohw, batchStrideB: g.cout * ohw, batchStrideC: ohw, tiles: tiles.MM_CPU ? cpuTilesFor(ohw) : tiles,
        });
      } else if (tiles.MM_CPU && cpuSubgroups(gpu)) {
        // W^T row-major (a [ck, cout] copy, ~0.1 ms): the CPU loop reads A along K with vec4s and
        // taller register blocks instead of K-major at 16 rows (conv2's 216 x 4736 x 64 on
        // lavapipe, min of 25: 12.4 -> 8.7-9.6 ms). Only with subgroup broadcasts: without them
        // a taller block is many unrolled loads, which LLVM compiles for minutes.
        wt ??= transpose(gpu, w.buffer, g.cout, ck);
        gemm(gpu, { A: wt.buffer, B: dyt.buffer, C: dcols.buffer, M: ck, N: c.ldc, K: g.cout, lda: g.cout, ldb: c.ldc, ldc: c.ldc, tiles: { ...tiles, TILE_M: cpuTileRows(ck) } });
      } else {
        gemm(gpu, { A: w.buffer, B: dyt.buffer, C: dcols.buffer, M: ck, N: c.ldc, K: g.cout, transA: true, lda: ck, ldb: c.ldc, ldc: c.ldc, tiles });
      }
      const k = gpu.kernel({
        name: 'nn/col2im',
        parts: [INDEX, { file: 'kernels/nn/col2im.wgsl', code: col2imSrc }],
        consts: { KH: g.kh, KW: g.kw, STRIDE: g.stride, CPI: cpi },
      });
      const npos = c.ni * g.h * g.w;
      const params = { cin: g.cin, h: g.h, w: g.w, pad: g.pad, oh: g.oh, ow: g.ow, npos, ldc: c.ldc, n0: c.n0, inv_hw: 1 / (g.h * g.w), inv_w: 1 / g.w };
      const [gx, gz] = grid1d(Math.ceil(npos / 64)); // positions over x and z, channel groups on y
      gpu.dispatch(k, { p: params, dcols: dcols.buffer, dX: dx.buffer }, [gx, Math.ceil(g.cin / cpi), gz]);
    }
  }
  let dW: Tensor | null = null;
  let db: Tensor | null = null;
  if (part) {
    const t = weightGradTargets(gpu, g, want.bias, o.into);
    dW = t.dW;
    db = t.db;
    const count = g.cout * ncolsW;
    const reduce = gpu.kernel({ name: 'nn/conv_wgrad_reduce', parts: [{ file: 'kernels/nn/conv_wgrad_reduce.wgsl', code: reduceSrc }], consts: { HAS_BIAS: want.bias, ACCUM: t.accum } });
    gpu.dispatchOver(
      reduce,
      { p: { count, ncols: ncolsW, ck, splits: totalSplits, inv_ncols: 1 / ncolsW }, part: part.buffer, dW: dW.buffer, db: db?.buffer ?? gpu.dummy },
      count,
    );
  }
  [given ? null : dyt, reuse ? null : cols, dcols, part, wt].forEach((t) => t?.release());
  return { dx, dW, db };
}
