/** The shared tiled matmul core: its WGSL part, tile constants and dispatch size. */
import coreSrc from '../../kernels/common/matmul_core.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { WgslPart } from '../gpu/kernel.js';

/** Portable core (any adapter). */
export const MATMUL_CORE: WgslPart = { file: 'kernels/common/matmul_core.wgsl', code: coreSrc };

const BCAST_MARK = '// ---- lane broadcast';
const SG_SECTION = `${BCAST_MARK} (subgroups: one lane's load serves the 8 lanes of its subgroup)
const MM_SUBGROUPS: bool = true;
fn mm_bcast8(v: f32) -> array<f32, 8> {
  return array<f32, 8>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u),
                       subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}
`;

/**
 * The same core with the CPU loop's A rows broadcast through subgroups (size 8).
 * Its `enable subgroups;` is hoisted above the prelude by the kernel registry.
 */
export const MATMUL_CORE_SG: WgslPart = {
  file: 'kernels/common/matmul_core.wgsl',
  code: `enable subgroups;\n${coreSrc.slice(0, coreSrc.indexOf(BCAST_MARK))}${SG_SECTION}`,
};

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
}

/** GPU tiles: 64 x 64 x 16 staged in shared memory, 16 x 16 threads, 4 x 4 outputs each. */
export const DEFAULT_TILES: MatmulTiles = { TILE_M: 64, TILE_N: 64, TILE_K: 16, THREADS_X: 16, THREADS_Y: 16, REG_M: 4 };

/**
 * CPU tiles (lavapipe/llvmpipe, SwiftShader): a 16 x 4 register block per invocation,
 * 32 invocations side by side = 16 x 128 outputs per workgroup. TILE_K and REG_M
 * only size the (unused) GPU path's shared arrays.
 */
export const CPU_TILES: MatmulTiles = { TILE_M: 16, TILE_N: 128, TILE_K: 4, THREADS_X: 32, THREADS_Y: 1, REG_M: 4, RN: 4, MM_CPU: true };

/** Whether the CPU core can broadcast through 8-wide subgroups on this device. */
export function cpuSubgroups(gpu: Gpu): boolean {
  return gpu.isSoftware && gpu.hasFeature('subgroups' as GPUFeatureName) && gpu.subgroupSize === 8;
}

/** The tiles to use on this adapter (CPU tiles on software adapters). */
export function matmulTiles(gpu: Gpu): MatmulTiles {
  return gpu.isSoftware ? CPU_TILES : DEFAULT_TILES;
}

/** The core part to use on this adapter with matmulTiles(gpu). */
export function matmulCore(gpu: Gpu): WgslPart {
  return cpuSubgroups(gpu) ? MATMUL_CORE_SG : MATMUL_CORE;
}

/** Workgroups for an M x N output per batch. */
export function matmulGrid(M: number, N: number, batches: number, t: MatmulTiles = DEFAULT_TILES): [number, number, number] {
  return [Math.ceil(N / t.TILE_N), Math.ceil(M / t.TILE_M), batches];
}

export function tileConsts(t: MatmulTiles = DEFAULT_TILES): Record<string, number | boolean> {
  return { ...t, RN: t.RN ?? 4, MM_CPU: !!t.MM_CPU };
}
