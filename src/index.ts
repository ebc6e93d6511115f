/**
 * Package entry: the engine for embedding on your own GPUDevice.
 *
 *   const gpu = await createGpu({ device: myDevice });          // or createGpu() for Dawn in Node
 *   const z1 = Tensor.wrap(gpu, myBuffer1, [n, d]);
 *   const res = vicregLoss(gpu, z1, z2);                         // recorded, not yet submitted
 *   gpu.flush();                                                 // submit; res.gradZ1.buffer etc. are GPUBuffers
 *   const { loss, invariance, variance, covariance } = await res.read();
 *
 * This entry is browser-clean (no Node built-ins; `createGpu()` uses navigator.gpu there). The
 * package's `node` condition adds Dawn start-up and the .npy file helpers (src/node.ts).
 */
export { createGpu, defaultGpu, Gpu, type GpuOptions, type Bindable, type BufferRange } from './gpu/device.js';
export { KernelRegistry, type Kernel, type KernelSpec, type WgslPart } from './gpu/kernel.js';
export { GpuDeviceError, GpuLimitError, GpuUnavailableError, KernelCompileError } from './gpu/errors.js';
export { REQUIRED_LIMITS, ADAPTIVE_LIMITS, engineLimits, checkLimits } from './gpu/limits.js';
export { InputError, type InputErrorCode } from './errors.js';
export { Tensor, type DType } from './tensor.js';
export { Tape, type TapeRecord } from './tape.js';
export {
  vicregLoss,
  vicregOp,
  vicregLossHost,
  chooseForm,
  type VicregOptions,
  type VicregResult,
  type VicregTerms,
  type Convention,
  type Form,
} from './vicreg/loss.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export { batchNorm } from './ops/batchnorm.js';
export { relu } from './ops/activation.js';
export { conv2d, type Conv2dOptions } from './ops/conv.js';
export { linear } from './ops/linear.js';
export { VicregModel, featureSizes, type ModelConfig } from './nn/model.js';
export { maxPool2d, avgPool2d, globalAvgPool } from './ops/pool.js';
export { Lars } from './optim/lars.js';
export { Sgd } from './optim/sgd.js';
export { AdamW } from './optim/adamw.js';
export { learningRate, peakLr } from './optim/schedule.js';
export { parseNpy, encodeNpy, type NpyArray } from './io/npy-codec.js';
// Training in a page (examples/browser): the on-GPU dataset, the recorded step, the presets and
// the IDX byte parser, all browser-clean.
export { GpuDataset, type GpuDatasetOptions, type TrainBatch } from './data/gpu-dataset.js';
export { TrainStep } from './train/step.js';
export { resolveConfig, PRESETS, type TrainConfig } from './train/config.js';
export { parseIdxImages, parseIdxLabels, type IdxImages, type IdxLabels } from './data/idx-parse.js';
export { FASHION_MEAN, FASHION_STD, FASHION_CLASSES } from './data/fashion-stats.js';
export type { Split } from './data/fashion.js';
