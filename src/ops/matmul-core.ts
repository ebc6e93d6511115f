/** The shared tiled matmul core: its WGSL part, tile constants and dispatch size. */
import coreSrc from '../../kernels/common/matmul_core.wgsl';
import type { WgslPart } from '../gpu/kernel.js';

export const MATMUL_CORE: WgslPart = { file: 'kernels/common/matmul_core.wgsl', code: coreSrc };

export interface MatmulTiles {
  TILE_M: number;
  TILE_N: number;
  TILE_K: number;
  THREADS_X: number;
  THREADS_Y: number;
  REG_M: number;
}

export const DEFAULT_TILES: MatmulTiles = { TILE_M: 64, TILE_N: 64, TILE_K: 16, THREADS_X: 16, THREADS_Y: 16, REG_M: 4 };

/** Workgroups for an M x N output per batch. */
export function matmulGrid(M: number, N: number, batches: number, t: MatmulTiles = DEFAULT_TILES): [number, number, number] {
  return [Math.ceil(N / t.TILE_N), Math.ceil(M / t.TILE_M), batches];
}

export function tileConsts(t: MatmulTiles = DEFAULT_TILES): Record<string, number> {
  return { ...t };
}
