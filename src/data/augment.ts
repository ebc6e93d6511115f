/**
 * GPU batch construction: two augmented views in one dispatch (kernels/data/augment.wgsl)
 * and the un-augmented eval path (kernels/data/normalize.wgsl). Parameters come from
 * augment-params.ts (drawn per step, or explicit in tests).
 */
import sampleSrc from '../../kernels/data/sample.wgsl';
import augmentSrc from '../../kernels/data/augment.wgsl';
import normalizeSrc from '../../kernels/data/normalize.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import { ELEMENTWISE } from '../ops/grid.js';
import { AUG_PARAMS, type AugmentConfig } from './augment-params.js';
import type { GpuImages } from './gpu-images.js';

const SAMPLE = { file: 'kernels/data/sample.wgsl', code: sampleSrc };
// One workgroup per image; 64 threads measured fastest on lavapipe (fewer lanes idle at barriers).
const AUG_WG = 64;

function augmentSpec(size: number, radius: number): KernelSpec {
  return {
    name: 'data/augment',
    parts: [SAMPLE, { file: 'kernels/data/augment.wgsl', code: augmentSrc }],
    consts: { S: size, R: radius, WG: AUG_WG, NP: AUG_PARAMS },
  };
}
const NORMALIZE: KernelSpec = { name: 'data/normalize', parts: [SAMPLE, { file: 'kernels/data/normalize.wgsl', code: normalizeSrc }, ELEMENTWISE] };

/** Bytes of workgroup memory the augment kernel needs at output side `size`. */
export function augmentWorkgroupBytes(size: number): number {
  return (2 * size * size + AUG_WG) * 4;
}

/**
 * Both views [B,1,S,S] of the images at `indices` (u32 [B]) with packed `params`
 * ([2,B,AUG_PARAMS] f32, view-major). Indices must be < src.n (not checked on the GPU).
 */
export function augmentViews(gpu: Gpu, src: GpuImages, indices: Tensor, params: Tensor, cfg: AugmentConfig): [Tensor, Tensor] {
  const B = indices.size;
  const S = cfg.size;
  if (params.size !== 2 * B * AUG_PARAMS) throw new RangeError(`augmentViews: ${params.size} params for batch ${B} (want ${2 * B * AUG_PARAMS})`);
  const need = augmentWorkgroupBytes(S);
  if (need > gpu.limits.maxComputeWorkgroupStorageSize) {
    throw new InputError('too-large', `augmentation size ${S} needs ${need} bytes of workgroup memory; the device allows ${gpu.limits.maxComputeWorkgroupStorageSize}`);
  }
  if (B > gpu.limits.maxComputeWorkgroupsPerDimension) throw new InputError('too-large', `batch ${B} exceeds ${gpu.limits.maxComputeWorkgroupsPerDimension}`);
  const v1 = Tensor.empty(gpu, [B, 1, S, S]);
  const v2 = Tensor.empty(gpu, [B, 1, S, S]);
  const k = gpu.kernel(augmentSpec(S, cfg.blurRadius));
  const p = { B, H: src.height, W: src.width, mean: cfg.mean, sd: cfg.std, threshold: cfg.solarizeThreshold };
  gpu.dispatch(k, { images: src.packed.buffer, p, indices: indices.buffer, prm: params.buffer, out1: v1.buffer, out2: v2.buffer }, [B, 2]);
  return [v1, v2];
}

/** Eval path: images at `indices` resized to [B,1,size,size] (identity at the source size) and normalised. */
export function normalizeImages(gpu: Gpu, src: GpuImages, indices: Tensor, size: number, mean: number, std: number): Tensor {
  const B = indices.size;
  const out = Tensor.empty(gpu, [B, 1, size, size]);
  const p = { B, H: src.height, W: src.width, S: size, mean, sd: std };
  gpu.dispatchOver(gpu.kernel(NORMALIZE), { images: src.packed.buffer, p, indices: indices.buffer, out: out.buffer }, (B * size * size));
  return out;
}
