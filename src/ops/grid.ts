import elementwiseSrc from '../../kernels/common/elementwise.wgsl';
import type { WgslPart } from '../gpu/kernel.js';

/** Splits a 1-D workgroup count into a 2-D grid under the per-dimension limit. */
export function grid1d(workgroups: number, maxPerDim = 65535): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(workgroups, 0), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  return [Math.ceil(workgroups / y), y];
}

/**
 * The entry point `main` of a one-invocation-per-element kernel (declares `const WG`): put it
 * after a part that defines `ew_len()` and `ew(i)`; dispatch over ew_len() elements.
 */
export const ELEMENTWISE: WgslPart = { file: 'kernels/common/elementwise.wgsl', code: elementwiseSrc };
