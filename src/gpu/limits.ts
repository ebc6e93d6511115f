/**
 * The device limits the engine asks for and the ones it cannot do without.
 *
 * createGpu() asks the adapter for its own value of the few limits the engine reads (bigger
 * bindings, more storage buffers per stage or more workgroup memory let it pick faster kernels
 * or accept bigger shapes) and leaves every other limit at WebGPU's default, so nothing
 * depends on a limit that a web page's device would lack. (Dawn's two "...artificially
 * reduced" start-up warnings do not depend on the limits requested: scripts/dawn-log-filter.mjs.)
 * On a caller's device, `checkLimits` refuses a device below what the kernels need with a
 * GpuLimitError naming the limit.
 */
import { GpuLimitError } from './errors.js';

/** Limits the engine reads and adapts to (src/gpu/pool.ts, matmul-core.ts, augment.ts, dispatch). */
export const ADAPTIVE_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * The least every kernel needs: WebGPU's default limits (a device made without
 * `requiredLimits`, as a web page gets by default, runs the loss, every op and a training
 * step: test/gpu/default-limits.test.ts). Limits not named here are not used beyond 1 group.
 */
export const REQUIRED_LIMITS: Readonly<Record<string, number>> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** `requiredLimits` for requestDevice: the adapter's value of each adaptive limit, nothing else. */
export function engineLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  const have = adapter.limits as unknown as Record<string, number | undefined>;
  for (const k of ADAPTIVE_LIMITS) {
    const v = have[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** Throws GpuLimitError for the first limit of `device` below REQUIRED_LIMITS. */
export function checkLimits(device: GPUDevice): void {
  const have = device.limits as unknown as Record<string, number | undefined>;
  for (const [limit, needed] of Object.entries(REQUIRED_LIMITS)) {
    const v = have[limit];
    if (typeof v === 'number' && v < needed) throw new GpuLimitError(limit, needed, v);
  }
}
