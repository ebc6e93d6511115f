import axpySrc from '../../kernels/common/axpy.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../tensor.js';
import { ELEMENTWISE } from './grid.js';

const AXPY = { name: 'common/axpy', parts: [{ file: 'kernels/common/axpy.wgsl', code: axpySrc }, ELEMENTWISE] };

/** y += alpha * x, in place on the GPU. */
export function axpy(gpu: Gpu, alpha: number, x: Tensor, y: Tensor): void {
  if (x.size !== y.size) throw new RangeError(`axpy: sizes ${x.size} and ${y.size} differ`);
  const k = gpu.kernel(AXPY);
  gpu.dispatchOver(k, { p: { n: y.size, alpha }, x: x.buffer, y: y.buffer }, y.size);
}
