/**
 * TensorFlow.js's WebGPU backend as a peer engine on the same adapter (in Node,
 * through Dawn's bindings). This is the one place outside src/gpu that touches
 * the WebGPU API: the peer needs its own instance and device.
 */
import { quietly } from '../../src/gpu/quiet-wait.js';

type Tf = typeof import('@tensorflow/tfjs-core');

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

// The object from create() must stay reachable for the whole process, or Dawn frees
// its instance under a live device and the next event pump crashes (NOTES-dawn.md).
const pinned = ((globalThis as Record<string, unknown>).__tfjsDawn ??= { gpu: null as GPU | null }) as { gpu: GPU | null };

let ready: Promise<{ tf: Tf; adapter: string }> | null = null;
const peerErrors: string[] = [];

/**
 * Initialises tfjs-core with the 'webgpu' backend (once per process). `flags` go to
 * Dawn's create() (e.g. 'enable-dawn-features=disable_robustness'). CPU forwarding of
 * small ops is turned off so every op we time runs on the adapter.
 */
export function initTfjsWebgpu(flags: string[] = []): Promise<{ tf: Tf; adapter: string }> {
  return (ready ??= init(flags));
}

async function init(flags: string[]): Promise<{ tf: Tf; adapter: string }> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const dawn = (await import('webgpu')) as unknown as DawnModule;
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = (pinned.gpu ??= dawn.create(flags));
  // tfjs-backend-webgpu registers itself at import time only if navigator.gpu exists.
  const g = globalThis as Record<string, unknown>;
  const nav = (g.navigator as Record<string, unknown> | undefined) ?? {};
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });

  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialise');
  await tf.ready();

  // dawn.node prints uncaptured errors to stdout (breaking --json); collect them instead and
  // let tfjsSync() throw them, so a peer that failed on the device never reports a time.
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  device.addEventListener('uncapturederror', (ev) => {
    (ev as GPUUncapturedErrorEvent).preventDefault();
    peerErrors.push((ev as GPUUncapturedErrorEvent).error.message.split('\n')[0]!);
  });

  const probe = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const i = probe?.info;
  const adapter = i
    ? `${i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ')} [tfjs webgpu${i.isFallbackAdapter ? ', software' : ''}]`
    : 'unknown [tfjs webgpu]';
  return { tf, adapter };
}

/** Submits tfjs's deferred command buffers and waits until the adapter is idle. */
export async function tfjsSync(tf: Tf, quiet: boolean): Promise<void> {
  const backend = tf.backend() as unknown as {
    ensureCommandEncoderReady(): void;
    endComputePassEncoder(): void;
    submitQueue(): void;
    device: GPUDevice;
  };
  // The same sequence tfjs uses before its own reads: close the pass, submit the batch.
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  // `quiet`: the engine's own waits are quiet (Gpu.quietWait), so neither side's time includes a spinning core.
  const done = () => backend.device.queue.onSubmittedWorkDone();
  await (quiet ? quietly(done) : done());
  if (peerErrors.length) {
    const first = peerErrors[0];
    peerErrors.length = 0;
    throw new Error(`tfjs device error: ${first}`);
  }
}
