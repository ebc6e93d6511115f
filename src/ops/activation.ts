/** ReLU forward/backward (for BN+ReLU use batchNorm's fused `relu` option instead). */
import reluSrc from '../../kernels/nn/relu.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { ELEMENTWISE } from './grid.js';

const spec = (pass: 'forward' | 'backward'): KernelSpec => ({
  name: 'nn/relu',
  parts: [{ file: 'kernels/nn/relu.wgsl', code: reluSrc }, ELEMENTWISE],
  consts: { BACKWARD: pass === 'backward' },
});

/** y = max(x, 0). */
export function relu(tape: Tape | null, x: Tensor): Tensor {
  const gpu = x.gpu;
  const y = Tensor.empty(gpu, x.shape);
  gpu.dispatchOver(gpu.kernel(spec('forward')), { p: { n: x.size }, x: x.buffer, y: y.buffer, dy: gpu.dummy, dx: gpu.dummyWritable }, x.size);
  tape?.record({ op: 'relu', inputs: [x], outputs: [y], backward: ([gy]) => [reluBackward(gpu, x, gy!)] });
  return y;
}

/** dx = dy where x > 0, else 0. */
export function reluBackward(gpu: Gpu, x: Tensor, dy: Tensor): Tensor {
  const dx = Tensor.empty(gpu, x.shape);
  gpu.dispatchOver(gpu.kernel(spec('backward')), { p: { n: x.size }, x: x.buffer, y: gpu.dummyWritable, dy: dy.buffer, dx: dx.buffer }, x.size);
  return dx;
}
