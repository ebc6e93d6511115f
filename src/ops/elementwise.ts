import axpySrc from '../../kernels/common/axpy.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../tensor.js';
import { grid1d } from './grid.js';

const AXPY = { name: 'common/axpy', parts: [{ file: 'kernels/common/axpy.wgsl', code: axpySrc }] };

/** y += alpha * x, in place on the GPU. */
export function axpy(gpu: Gpu, alpha: number, x: Tensor, y: Tensor): void {
  if (x.size !== y.size) throw new RangeError(`axpy: sizes ${x.size} and ${y.size} differ`);
  const k = gpu.kernel(AXPY);
  gpu.dispatch(k, { p: gpu.params('uf', y.size, alpha), x: x.buffer, y: y.buffer }, grid1d(Math.ceil(y.size / 256)));
}
