/**
 * Browser: opens a device from `navigator.gpu`. The '#platform-gpu' import (package.json
 * "imports", `browser` condition) maps here; the Node builds get ./dawn.ts.
 */
import type { GpuOptions } from './device.js';
import { GpuUnavailableError } from './errors.js';
import { engineLimits } from './limits.js';

export async function openPlatformDevice(_opts: GpuOptions, features: GPUFeatureName[]): Promise<{ device: GPUDevice; name: string }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new GpuUnavailableError('no WebGPU here (navigator.gpu is undefined): use a browser with WebGPU enabled, or pass createGpu({ device })');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuUnavailableError('navigator.gpu.requestAdapter() found no adapter');
  const requiredFeatures = features.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits: engineLimits(adapter), requiredFeatures, label: 'vicreg-webgpu' });
  const i = adapter.info;
  const desc = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ') || 'WebGPU adapter';
  return { device, name: `${desc} [browser${i.isFallbackAdapter ? ', software' : ''}]` };
}
