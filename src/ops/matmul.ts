/** Batched matmul C = op(A) op(B) (+bias, ReLU) on the shared core. */
import matmulSrc from '../../kernels/common/matmul.wgsl';
import transposeSrc from '../../kernels/common/transpose.wgsl';
import type { Gpu } from '../gpu/device.js';
import { wgslSections } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import { ELEMENTWISE } from './grid.js';
import { MATMUL_CORE, cpuSubgroups, cpuTilesFor, matmulCore, matmulGrid, matmulTiles, matmulVec, tileConsts, type MatmulTiles } from './matmul-core.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor;
  relu?: boolean;
  /** Defaults to matmulTiles(gpu) (on software adapters CPU tiles as wide as fit N: cpuTilesFor). */
  tiles?: MatmulTiles;
  out?: Tensor;
  /** CPU loop: vec4 loads where the layouts allow (default true; false = scalar hooks only). */
  vec?: boolean;
}

/** One GEMM on strided views of buffers (see kernels/common/matmul.wgsl). */
export interface GemmSpec {
  A: GPUBuffer;
  B: GPUBuffer;
  C: GPUBuffer;
  M: number;
  N: number;
  K: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  /** Leading dimensions (row strides of the stored matrices). */
  lda: number;
  ldb: number;
  ldc: number;
  /** Element offsets and batch strides (default 0). */
  offA?: number;
  offB?: number;
  offC?: number;
  batchStrideA?: number;
  batchStrideB?: number;
  batchStrideC?: number;
  bias?: GPUBuffer;
  relu?: boolean;
  /** Write column (n, q) of row r to C[offC + (n*M + r)*q + q'] (NCHW), columns < nValid only; bias per row. */
  outNchw?: { q: number; nValid: number };
  /**
   * CPU tiles only, no bias or ReLU: per-row statistics of C over the columns < nValid, as
   * rowStatParts() partials (count, mean, squared deviations) per row in this buffer.
   */
  rowStats?: GPUBuffer;
  tiles?: MatmulTiles;
  /** CPU loop: vec4 loads where the layouts allow (default true). */
  vec?: boolean;
}

const aligned4 = (...xs: (number | undefined)[]) => xs.every((x) => (x ?? 0) % 4 === 0);

/** Records C = op(A) op(B) on the shared core. */
export function gemm(gpu: Gpu, s: GemmSpec): void {
  const base = matmulTiles(gpu);
  const tiles = s.tiles ?? (base.MM_CPU ? cpuTilesFor(s.N, s.M, { aDir: s.transA ? 2 : 1 }) : base);
  const vec = tiles.MM_CPU && s.vec !== false
    ? matmulVec(
        aligned4(s.lda, s.offA, s.batchStrideA) ? 4 : 1, s.transA ? 2 : 1,
        aligned4(s.ldb, s.offB, s.batchStrideB) ? 4 : 1, s.transB ? 2 : 1, tiles)
    : {};
  const kernel = gpu.kernel({
    name: 'common/matmul',
    parts: [{ file: 'kernels/common/matmul.wgsl', code: matmulSrc }, ...(tiles.MM_CPU ? matmulCore(gpu) : MATMUL_CORE)],
    consts: {
      ...tileConsts(tiles),
      TRANS_A: !!s.transA,
      TRANS_B: !!s.transB,
      HAS_BIAS: !!s.bias,
      RELU: !!s.relu,
      OUT_NCHW: !!s.outNchw,
      A_ROW_FAST: !!s.transA,
      ...vec,
      // The hooks of kernels/common/matmul.wgsl are plain loads: edge tiles may use vec4 too.
      VEC_EDGES: true,
      MM_ROW_STATS: !!s.rowStats,
    },
  });
  if (s.rowStats && (!tiles.MM_CPU || s.bias || s.relu)) throw new RangeError('gemm: rowStats needs CPU tiles and no bias or ReLU');
  const q = s.outNchw?.q ?? 1;
  const params = {
    M: s.M, N: s.N, K: s.K, n_valid: s.outNchw?.nValid ?? s.N,
    lda: s.lda, ldb: s.ldb, ldc: s.ldc, out_q: q,
    off_a: s.offA ?? 0, off_b: s.offB ?? 0, off_c: s.offC ?? 0, inv_q: 1 / q,
    batch_stride_a: s.batchStrideA ?? 0, batch_stride_b: s.batchStrideB ?? 0, batch_stride_c: s.batchStrideC ?? 0,
  };
  gpu.dispatch(kernel, { p: params, A: s.A, B: s.B, A4: s.A, B4: s.B, C: s.C, bias: s.bias ?? gpu.dummy, stat_part: s.rowStats ?? gpu.dummyWritable }, matmulGrid(s.M, s.N, s.batch ?? 1, tiles), {
    flops: 2 * s.M * s.N * s.K * (s.batch ?? 1),
  });
}

/** Partials per row of gemm()'s rowStats for an N-column output (matmul_core.wgsl, mm_stat_parts). */
export function rowStatParts(gpu: Gpu, N: number, tiles: MatmulTiles): number {
  const per = cpuSubgroups(gpu) ? tiles.THREADS_X / 8 : tiles.THREADS_X;
  return Math.ceil(N / tiles.TILE_N) * per;
}

/**
 * A: [batch?, M, K] (or [K, M] with transA), B: [batch?, K, N] (or [N, K] with transB).
 * B may be unbatched (shared across batches) when A is batched.
 */
export function matmul(gpu: Gpu, A: Tensor, B: Tensor, o: MatmulOptions = {}): Tensor {
  const a = A.shape.length === 3 ? A.shape : [1, ...A.shape];
  const b = B.shape.length === 3 ? B.shape : [1, ...B.shape];
  const batch = a[0]!;
  const [M, K] = o.transA ? [a[2]!, a[1]!] : [a[1]!, a[2]!];
  const [Kb, N] = o.transB ? [b[2]!, b[1]!] : [b[1]!, b[2]!];
  if (K !== Kb) throw new RangeError(`matmul: inner dimensions ${K} and ${Kb} differ`);
  if (b[0] !== 1 && b[0] !== batch) throw new RangeError(`matmul: batch ${batch} vs ${b[0]}`);
  const outShape = A.shape.length === 3 ? [batch, M, N] : [M, N];
  const C = o.out ?? Tensor.empty(gpu, outShape);
  gemm(gpu, {
    A: A.buffer, B: B.buffer, C: C.buffer, M, N, K, batch,
    transA: o.transA, transB: o.transB,
    lda: o.transA ? M : K, ldb: o.transB ? K : N, ldc: N,
    batchStrideA: M * K, batchStrideB: b[0] === 1 ? 0 : K * N, batchStrideC: M * N,
    bias: o.bias?.buffer, relu: o.relu, tiles: o.tiles, vec: o.vec,
  });
  return C;
}

const TRANSPOSE = wgslSections('kernels/common/transpose.wgsl', transposeSrc, ['scalar', 'block4']);

/**
 * [cols, rows] <- the transpose of a row-major [rows, cols] matrix in `src`, zero where `keep` (a
 * ReLU output of the same shape) is not positive when given. The CPU matmul loop reads a
 * K-major A ~2-3x slower than a row-major one, so products that would (a conv's input gradient
 * reads W^T, a linear weight gradient dY'^T) take a transposed copy instead: a fraction of the
 * product's time. 4 x 4 blocks of vec4s when rows and cols are multiples of 4, else elements.
 */
export function transpose(gpu: Gpu, src: GPUBuffer, rows: number, cols: number, keep?: GPUBuffer): Tensor {
  const out = Tensor.empty(gpu, [cols, rows]);
  const block4 = rows % 4 === 0 && cols % 4 === 0;
  const k = gpu.kernel({
    name: block4 ? 'common/transpose4' : 'common/transpose',
    parts: [TRANSPOSE.main, block4 ? TRANSPOSE.block4 : TRANSPOSE.scalar, ELEMENTWISE],
    consts: { MASK: !!keep },
  });
  const v = block4 ? '4' : '';
  const bind: Record<string, GPUBuffer> = { [`src${v}`]: src, [`keep${v}`]: keep ?? gpu.dummy, [`dst${v}`]: out.buffer };
  gpu.dispatchOver(k, { p: { rows, cols }, ...bind }, block4 ? (rows / 4) * (cols / 4) : rows * cols);
  return out;
}
