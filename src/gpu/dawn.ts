/**
 * Node only: opens a device through Dawn's Node bindings (`webgpu`). createGpu() reaches this
 * through the package import '#platform-gpu' (package.json "imports"), whose `browser`
 * condition maps to ./navigator.ts instead, so no browser build ever resolves 'webgpu'.
 */
import type { GpuOptions } from './device.js';
import { GpuUnavailableError } from './errors.js';
import { engineLimits } from './limits.js';
import { enableValidation, validationRequested } from './validation.js';

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

// Dawn frees its instance when the object from create() is collected, crashing the
// next event pump (NOTES-dawn.md). Everything created is pinned here for the process.
const pinned: { instances: GPU[] } = ((globalThis as Record<string, unknown>).__vicregDawn ??= { instances: [] }) as {
  instances: GPU[];
};

async function loadDawn(): Promise<DawnModule> {
  const mod = (await import('webgpu')) as unknown as DawnModule;
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod;
}

export function describeAdapter(adapter: GPUAdapter, backend: string): string {
  const i = adapter.info;
  const desc = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ');
  return `${desc} [${backend}${i.isFallbackAdapter ? ', software' : ''}]`;
}

async function requestAdapter(backend: 'vulkan' | 'opengles', flags: string[]): Promise<{ adapter: GPUAdapter; name: string } | null> {
  const dawn = await loadDawn();
  if (backend === 'opengles') {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpu = dawn.create(['backend=opengles', ...flags]);
    pinned.instances.push(gpu);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
    return adapter ? { adapter, name: describeAdapter(adapter, 'opengles compat') } : null;
  }
  const gpu = dawn.create(flags);
  pinned.instances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? { adapter, name: describeAdapter(adapter, 'vulkan') } : null;
}

/** A Dawn adapter for tests that make their own device (e.g. one with default limits). */
export async function dawnAdapter(backend: 'vulkan' | 'opengles' = 'vulkan'): Promise<{ adapter: GPUAdapter; name: string }> {
  const found = await requestAdapter(backend, []);
  if (!found) throw new GpuUnavailableError(`no ${backend} adapter`);
  return found;
}

/**
 * A real GPU when present, else lavapipe (both via Vulkan), else Dawn's OpenGL ES backend in
 * compatibility mode. VICREG_BACKEND=vulkan|opengles forces a backend.
 */
export async function openPlatformDevice(opts: GpuOptions, features: GPUFeatureName[]): Promise<{ device: GPUDevice; name: string }> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const forced = (process.env.VICREG_BACKEND as GpuOptions['backend']) || opts.backend || 'auto';
  const flags = [...(opts.dawnFlags ?? [])];
  // VICREG_VALIDATE=1: Khronos validation layer, messages logged to a file (validation.ts).
  if (validationRequested()) flags.push(...(await enableValidation()).flags);
  const order: Array<'vulkan' | 'opengles'> = forced === 'auto' ? ['vulkan', 'opengles'] : [forced];
  const tried: string[] = [];
  for (const backend of order) {
    let found: { adapter: GPUAdapter; name: string } | null = null;
    try {
      found = await requestAdapter(backend, flags);
    } catch (e) {
      tried.push(`${backend}: ${(e as Error).message}`);
      continue;
    }
    if (!found) {
      tried.push(`${backend}: no adapter`);
      continue;
    }
    const { adapter, name } = found;
    const requiredFeatures = features.filter((f) => adapter.features.has(f));
    // VICREG_LIMITS=default: no requiredLimits, the device a web page gets by default (tests).
    const requiredLimits = process.env.VICREG_LIMITS === 'default' ? {} : engineLimits(adapter);
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'vicreg-webgpu' });
    return { device, name };
  }
  throw new GpuUnavailableError(
    `no WebGPU adapter found (${tried.join('; ')}). On Debian 12 install Mesa's software Vulkan driver: ` +
      `echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list && ` +
      `apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers`,
  );
}
