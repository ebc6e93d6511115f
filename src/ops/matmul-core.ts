/** The shared tiled matmul core: its WGSL part, tile constants and dispatch size. */
import coreSrc from '../../kernels/common/matmul_core.wgsl';
import bcastSrc from '../../kernels/common/matmul_bcast.wgsl';
import bcastSgSrc from '../../kernels/common/matmul_bcast_subgroups.wgsl';
import scalar4Src from '../../kernels/common/matmul_scalar4.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec, WgslPart } from '../gpu/kernel.js';

/** Portable core (any adapter). */
const CORE_PART: WgslPart = { file: 'kernels/common/matmul_core.wgsl', code: coreSrc };
/** The tiled GEMM core and its portable lane broadcast: spread into a kernel's parts after the prelude. */
export const MATMUL_CORE: WgslPart[] = [CORE_PART, { file: 'kernels/common/matmul_bcast.wgsl', code: bcastSrc }];

/**
 * Default `mm_readA4` / `mm_readB4` (4 scalar hook calls) for a prelude without a vec4
 * view of its operands; put it between the prelude and the core, with VEC_A = VEC_B = 0.
 */
export const MATMUL_SCALAR_HOOKS: WgslPart = { file: 'kernels/common/matmul_scalar4.wgsl', code: scalar4Src };

/**
 * An op's kernel with or without the CPU loop's vec4 views (`spec(true)` / `spec(false)`): the
 * views only with CPU tiles, and only when the adapter allows the storage buffers the vec4
 * variant binds, counted by reflecting its WGSL. `vec` says which was chosen (the op binds the views).
 */
export function pickVec4(gpu: Gpu, tiles: MatmulTiles, spec: (vec: boolean) => KernelSpec): { spec: KernelSpec; vec: boolean } {
  if (tiles.MM_CPU) {
    const vecSpec = spec(true);
    if (gpu.kernels.storageBuffers(vecSpec) <= gpu.limits.maxStorageBuffersPerShaderStage) return { spec: vecSpec, vec: true };
  }
  return { spec: spec(false), vec: false };
}

/** The same core with the CPU loop's A rows broadcast through subgroups (size 8). */
export const MATMUL_CORE_SG: WgslPart[] = [CORE_PART, { file: 'kernels/common/matmul_bcast_subgroups.wgsl', code: bcastSgSrc }];

export interface MatmulTiles {
  TILE_M: number;
  TILE_N: number;
  TILE_K: number;
  THREADS_X: number;
  THREADS_Y: number;
  REG_M: number;
  /** CPU loop: columns per invocation (TILE_N = THREADS_X * RN). */
  RN?: number;
  /** Use the CPU loop (no shared memory, no barriers). */
  MM_CPU?: boolean;
  /**
   * CPU loop: the grid's x walks row blocks, y column tiles (matmul_core.wgsl). llvmpipe gives
   * each thread a consecutive range of a dispatch's workgroups, so its threads then work on
   * different columns of B instead of both streaming all of it. A small gain: the quick step's
   * medians 1.02x, 1.06x (AVX-512 code) and 1.02x (AVX2 code) in three runs of both revisions in
   * one process (10 alternating blocks of 15 steps; 5-6 of 10 pairs faster: the noise of one
   * pair is larger; Intel Xeon, 2026-12-08).
   */
  ROWS_FAST?: boolean;
}

/** GPU tiles: 64 x 64 x 16 staged in shared memory, 16 x 16 threads, 4 x 4 outputs each. */
export const DEFAULT_TILES: MatmulTiles = { TILE_M: 64, TILE_N: 64, TILE_K: 16, THREADS_X: 16, THREADS_Y: 16, REG_M: 4 };

/**
 * CPU tiles (lavapipe/llvmpipe, SwiftShader): a 16 x 4 register block per invocation,
 * 32 invocations side by side = 16 x 128 outputs per workgroup. TILE_K and REG_M
 * only size the (unused) GPU path's shared arrays.
 */
export const CPU_TILES: MatmulTiles = { TILE_M: 16, TILE_N: 128, TILE_K: 4, THREADS_X: 32, THREADS_Y: 1, REG_M: 4, RN: 4, MM_CPU: true, ROWS_FAST: true };

/**
 * CPU tiles whose width (THREADS_X x 4 columns, THREADS_X a multiple of 8 up to 32) wastes
 * the fewest columns on an N-column output, preferring wider tiles: e.g. N = 288 (a conv
 * weight gradient) gets 96-wide tiles instead of 3 x 128 with a mostly empty last tile.
 */
export function cpuTilesFor(n: number, m?: number, rows: RowHints = {}): MatmulTiles {
  let best = CPU_TILES;
  for (const tx of [24, 16, 8]) {
    const w = tx * 4;
    if (Math.ceil(n / w) * w < Math.ceil(n / best.TILE_N) * best.TILE_N) best = { ...CPU_TILES, THREADS_X: tx, TILE_N: w };
  }
  return m === undefined ? best : { ...best, TILE_M: cpuTileRows(m, rows) };
}

/** What the row-block choice depends on: A's vector direction. */
export interface RowHints {
  /** 2: A stored K-major (transposed). */
  aDir?: 1 | 2;
}

/**
 * Register-block rows for an M-row output (CPU loop): 16, 24, 32 or 40, whichever minimises the
 * padded rows times a per-row cost that falls with the block's height (taller blocks load A and
 * B fewer times per FMA): 1.15 / 1 / 0.93 / 0.88. Measured in one process (2026-12-08, Intel
 * Xeon, AVX-512, quiet), ms for 16 / 24 / 32 / 40 rows:
 *   1024^3                              101 / 83 / 77 / 73
 *   1024^3 (B^T)                         90 / 79 / 81 / 71
 *   conv2 fwd 64 x 4736 x 216           7.1 / 7.9 / 6.2 / 7.0
 *   conv2 dW 64 x 256 x 4736 (B^T)      7.2 / 7.0 / 6.1 / 5.6
 *   conv2 dcols 216 x 4736 x 64         8.3 / 8.4 / 8.1 / 7.7
 *   expander fwd 96 x 256 x 256 (B^T)  0.78 / 0.70 / 0.67 / 0.75
 *   expander dX 96 x 256 x 256         0.72 / 0.68 / 0.64 / 0.72
 *   kNN-like 256 x 4096 x 576 (B^T)      52 / 51 / 49 / 44
 *   conv1 fwd 24 x 18816 x 28          2.4 / 1.9 / 2.9 / 1.8
 * (single runs move by ~10-20%; the trend, taller is cheaper per row, held in every run.) The
 * accumulator-major loop keeps 32 and 40 rows fast only because it unrolls its row groups in
 * loops of at most 3 (matmul_core.wgsl). K-major A stays at 16 (its loop keeps k outermost;
 * taller blocks there were 5-10x slower: its lane arithmetic no longer folds).
 */
export function cpuTileRows(m: number, h: RowHints = {}): number {
  if (h.aDir === 2) return 16;
  let best = 24;
  let bestCost = Infinity;
  for (const [rows, perRow] of [[24, 1], [32, 0.93], [40, 0.88], [16, 1.15]] as const) {
    const cost = Math.ceil(m / rows) * rows * perRow;
    if (cost < bestCost) [best, bestCost] = [rows, cost];
  }
  return best;
}

/**
 * Whether the CPU core can broadcast through 8-wide subgroups on this device: CPU tuning,
 * and the feature with a fixed subgroup size of 8 (CPU tuning on an adapter without them
 * takes the plain CPU loop).
 */
export function cpuSubgroups(gpu: Gpu): boolean {
  return gpu.tuning === 'cpu' && gpu.hasFeature('subgroups' as GPUFeatureName) && gpu.subgroupSize === 8;
}

/** The tiles of this device's tuning (CPU tiles with `gpu.tuning === 'cpu'`). */
export function matmulTiles(gpu: Gpu): MatmulTiles {
  return gpu.tuning === 'cpu' ? CPU_TILES : DEFAULT_TILES;
}

/** The core part to use on this adapter with matmulTiles(gpu). */
export function matmulCore(gpu: Gpu): WgslPart[] {
  return cpuSubgroups(gpu) ? MATMUL_CORE_SG : MATMUL_CORE;
}

/** Workgroups for an M x N output per batch (read tile indices back with matmulTileCols). */
export function matmulGrid(M: number, N: number, batches: number, t: MatmulTiles = DEFAULT_TILES): [number, number, number] {
  const cols = matmulTileCols(N, t);
  const rows = Math.ceil(M / t.TILE_M);
  return rowsFast(t) ? [rows, cols, batches] : [cols, rows, batches];
}

const rowsFast = (t: MatmulTiles) => !!t.MM_CPU && !!t.ROWS_FAST;

/** Column tiles of an N-column output: a tile's flat index is row * cols + col, whatever the grid's order. */
export function matmulTileCols(N: number, t: MatmulTiles = DEFAULT_TILES): number {
  return Math.ceil(N / t.TILE_N);
}

export function tileConsts(t: MatmulTiles = DEFAULT_TILES): Record<string, number | boolean> {
  return { ...t, RN: t.RN ?? 4, MM_CPU: !!t.MM_CPU, ROWS_FAST: rowsFast(t) };
}

/**
 * VEC_A / VEC_B for the CPU loop: `aDir` / `bDir` (1 or 2, the core's vector directions)
 * when the operand's leading dimension (the stride between the 4-float groups' rows, which
 * is also a factor of any batch stride) is a multiple of 4, else 0 (scalar hooks).
 * The vec4 view needs that so every vec4 load is aligned. VEC_B = 1 also needs RN % 4 == 0.
 */
export function matmulVec(aLead: number, aDir: 1 | 2, bLead: number, bDir: 1 | 2, t: MatmulTiles): { VEC_A: number; VEC_B: number } {
  const rn = t.RN ?? 4;
  return {
    VEC_A: aLead % 4 === 0 && t.TILE_M % 8 === 0 ? aDir : 0,
    VEC_B: bLead % 4 === 0 && (bDir === 2 || rn % 4 === 0) ? bDir : 0,
  };
}
