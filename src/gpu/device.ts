/**
 * The only module that talks to the WebGPU API (with kernel.ts and pool.ts).
 * A Gpu wraps one GPUDevice: adapter choice, kernel cache, buffer pool, one
 * command encoder per step (all dispatches, one submit), read-back on demand.
 */
import { BufferPool } from './pool.js';
import { DispatchProfiler, type DispatchTiming } from './profiler.js';
import { KernelRegistry, packUniform, workgroupsFor, type Kernel, type KernelSpec, type UniformValues } from './kernel.js';
import { GpuDeviceError } from './errors.js';
import { checkLimits } from './limits.js';
import { quietly } from './quiet-wait.js';
// Dawn in Node (./dawn.ts), navigator.gpu in a browser (./navigator.ts): package.json "imports".
import { openPlatformDevice } from '#platform-gpu';
import { InputError } from '../errors.js';

const MAP_READ = 0x01;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;

/** What a dispatch computes, for the step profiler's table (src/gpu/profiler.ts). */
export interface DispatchCost {
  /** Useful floating-point operations (a multiply-add counts 2). */
  flops: number;
}

/** A buffer region to bind; a bare GPUBuffer binds whole. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}
/** A buffer (region), or for a uniform binding its field values by name (packed from the reflected struct). */
export type Bindable = GPUBuffer | BufferRange | UniformValues;

function isUniformValues(b: Bindable): b is UniformValues {
  return !('buffer' in b) && typeof (b as { mapAsync?: unknown }).mapAsync !== 'function';
}

export interface GpuOptions {
  /** Use the caller's own device instead of creating one. */
  device?: GPUDevice;
  /** 'vulkan' (real GPU or lavapipe), 'opengles' (compatibility mode), or auto (default). */
  backend?: 'auto' | 'vulkan' | 'opengles';
  /** Extra Dawn instance flags, e.g. 'enable-dawn-features=disable_robustness'. */
  dawnFlags?: string[];
  /** Adapter label to report when `device` is given. */
  adapterName?: string;
  /**
   * Kernel family: 'gpu' (shared-memory tiles, implicit-GEMM conv), 'cpu' (CPU-shaped tiles,
   * im2col conv), or 'auto' (default: 'cpu' on software adapters). 'auto' defers to VICREG_TUNING.
   */
  tuning?: TuningOption;
  /**
   * Wait for the GPU without Dawn's Node bindings spinning a core (quiet-wait.ts), at up to 1 ms
   * of latency per wait. Default: on software adapters, whose own threads share those cores.
   */
  quietWait?: boolean;
}

export type Tuning = 'gpu' | 'cpu';
export type TuningOption = 'auto' | Tuning;
const TUNINGS: readonly TuningOption[] = ['auto', 'gpu', 'cpu'];

/**
 * The tuning to use: an explicit 'gpu' / 'cpu' option wins (a caller that asks for a family
 * gets it), else VICREG_TUNING when set (non-empty), else 'auto'. An unknown value in either
 * is an InputError('bad-option'), never a silent fallback.
 */
export function requestedTuning(opt?: string, env: string | undefined = globalThis.process?.env?.VICREG_TUNING): TuningOption {
  const check = (v: string, from: string): TuningOption => {
    if (!(TUNINGS as readonly string[]).includes(v)) throw new InputError('bad-option', `${from} must be auto, gpu or cpu, got '${v}'`);
    return v as TuningOption;
  };
  const fromEnv = env !== undefined && env !== '' ? check(env, 'VICREG_TUNING') : 'auto';
  const fromOpt = opt === undefined ? 'auto' : check(opt, 'the tuning option');
  return fromOpt !== 'auto' ? fromOpt : fromEnv;
}

// 'subgroups': the matmul core's CPU loop broadcasts operands through them (matmul-core.ts).
const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName];

export class Gpu {
  readonly kernels: KernelRegistry;
  readonly pool: BufferPool;
  /** Largest buffer a single storage binding may cover. */
  readonly maxBinding: number;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private errors: string[] = [];
  private uniformCache = new Map<string, GPUBuffer>();
  private bindCache = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private pendingDestroy: GPUBuffer[] = [];
  /** Dispatches recorded since creation (for tests and benchmarks). */
  dispatchCount = 0;
  submitCount = 0;
  lost: string | null = null;
  /**
   * The kernel family every tuning choice follows (matmul tiles and loop, vec4 views, subgroup
   * broadcast, conv algorithm, chunking): 'cpu' on software adapters unless asked otherwise.
   */
  readonly tuning: Tuning;
  /** Waits defer the bindings' polls (GpuOptions.quietWait). */
  readonly quietWait: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    tuning: TuningOption = 'auto',
    quietWait?: boolean,
  ) {
    this.tuning = tuning === 'auto' ? (this.isSoftware ? 'cpu' : 'gpu') : tuning;
    this.quietWait = quietWait ?? this.isSoftware;
    this.kernels = new KernelRegistry(device);
    this.maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.pool = new BufferPool(device, this.maxBinding);
    device.addEventListener('uncapturederror', (ev) => {
      (ev as GPUUncapturedErrorEvent).preventDefault?.();
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((info) => {
      this.lost = info.message || info.reason || 'device lost';
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  hasFeature(f: GPUFeatureName): boolean {
    return this.device.features.has(f);
  }

  /**
   * A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP). Only 'auto' tuning reads
   * this; kernels follow `tuning`.
   */
  get isSoftware(): boolean {
    const info = (this.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    return !!info?.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader|warp/i.test(this.adapterName);
  }

  /** The subgroup size when the adapter has exactly one (e.g. 8 on lavapipe with AVX2), else 0. */
  get subgroupSize(): number {
    const info = (this.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const lo = info?.subgroupMinSize ?? 0;
    return lo > 0 && lo === info?.subgroupMaxSize ? lo : 0;
  }

  // ---------------------------------------------------------------- kernels

  kernel(spec: KernelSpec): Kernel {
    return this.kernels.get(spec);
  }

  /**
   * Records one dispatch into the step's command encoder. `bindings` are by
   * the WGSL variable names; workgroup counts are clamped at zero (no-op).
   */
  dispatch(kernel: Kernel, bindings: Record<string, Bindable>, workgroups: [number, number?, number?], cost?: DispatchCost): void {
    const [x, y = 1, z = 1] = workgroups;
    if (x <= 0 || y <= 0 || z <= 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new RangeError(`kernel '${kernel.name}': dispatch ${x}x${y}x${z} exceeds ${max} workgroups per dimension`);
    }
    const group = this.bindGroup(kernel, bindings);
    const pass = this.profiler ? this.profiler.beginPass(this.endPass(), kernel.name, this.boundBytes(kernel, bindings), cost?.flops ?? 0) : this.computePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) pass.end();
    this.dispatchCount++;
  }

  private profiler: DispatchProfiler | null = null;

  /**
   * Records one dispatch covering `items` invocations (per dimension), sized by the kernel's
   * reflected @workgroup_size: the WGSL is the only place a workgroup size is written.
   */
  dispatchOver(kernel: Kernel, bindings: Record<string, Bindable>, items: number | [number, number?, number?], cost?: DispatchCost): void {
    const it: [number, number?, number?] = typeof items === 'number' ? [items] : items;
    this.dispatch(kernel, bindings, workgroupsFor(kernel, it, this.device.limits.maxComputeWorkgroupsPerDimension), cost);
  }

  /** Times every dispatch from now on (`bench step`); false when the adapter has no timestamp queries. */
  startProfiling(): boolean {
    if (!this.hasFeature('timestamp-query')) return false;
    this.flush();
    this.profiler ??= new DispatchProfiler(this.device);
    return true;
  }

  /** Stops timing and returns every dispatch timed since startProfiling, in order. */
  async stopProfiling(): Promise<DispatchTiming[]> {
    const p = this.profiler;
    if (!p) return [];
    this.flush();
    this.profiler = null;
    const out = await this.wait(() => p.collect());
    p.destroy();
    return out;
  }

  private boundBytes(kernel: Kernel, bindings: Record<string, Bindable>): number {
    let bytes = 0;
    for (const [name, info] of kernel.bindings) {
      if (info.kind === 'uniform') continue;
      const b = bindings[name]!;
      if (isUniformValues(b)) continue;
      const r: BufferRange = 'buffer' in b ? b : { buffer: b };
      bytes += r.size ?? Math.min(r.buffer.size - (r.offset ?? 0), this.maxBinding);
    }
    return bytes;
  }

  private bindGroup(kernel: Kernel, bindings: Record<string, Bindable>): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    let key = kernel.key;
    for (const [name, info] of kernel.bindings) {
      const given = bindings[name];
      if (!given) throw new Error(`kernel '${kernel.name}': binding '${name}' not supplied`);
      const b = isUniformValues(given) ? this.uniform(packUniform(kernel, name, given)) : given;
      const range: BufferRange = 'buffer' in b ? b : { buffer: b };
      const buffer = range.buffer;
      const offset = range.offset ?? 0;
      const size = range.size ?? Math.min(buffer.size - offset, this.maxBinding);
      key += `|${info.binding}:${this.idOf(buffer)}:${offset}:${size}`;
      entries.push({ binding: info.binding, resource: { buffer, offset, size } });
    }
    let group = this.bindCache.get(key);
    if (!group) {
      group = this.device.createBindGroup({ layout: kernel.layout, entries, label: kernel.name });
      this.bindCache.set(key, group);
    }
    return group;
  }

  private idOf(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Ends the open compute pass so that copies can be recorded. */
  private endPass(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.commandEncoder();
  }

  // ---------------------------------------------------------------- buffers

  private dummyBuffer: GPUBuffer | null = null;
  /** A small storage buffer for bindings a specialisation never reads (e.g. bias when HAS_BIAS is false). */
  get dummy(): GPUBuffer {
    return (this.dummyBuffer ??= this.device.createBuffer({ size: 256, usage: 0x80 | COPY_DST | COPY_SRC, label: 'dummy' }));
  }

  private scratchBuffer: GPUBuffer | null = null;
  /** A second placeholder, for an unused read_write binding in a dispatch that binds `dummy` read-only. */
  get dummyWritable(): GPUBuffer {
    return (this.scratchBuffer ??= this.device.createBuffer({ size: 256, usage: 0x80 | COPY_DST | COPY_SRC, label: 'dummy (writable)' }));
  }

  private constants = new Map<string, GPUBuffer>();
  /** A read-only storage buffer holding `values`, created once per device and content. */
  constantBuffer(values: readonly number[]): GPUBuffer {
    const key = values.join(',');
    let buf = this.constants.get(key);
    if (!buf) {
      buf = this.device.createBuffer({ size: Math.max(16, values.length * 4), usage: 0x80 | COPY_DST | COPY_SRC, mappedAtCreation: true, label: `constant [${key}]` });
      new Float32Array(buf.getMappedRange()).set(values);
      buf.unmap();
      this.constants.set(key, buf);
    }
    return buf;
  }

  /** An immutable uniform buffer holding `data`, cached by content. */
  uniform(data: ArrayBufferView): GPUBuffer {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // A plain string key (no Node Buffer): the engine also runs on a browser's GPUDevice.
    const key = bytes.join(',');
    let buf = this.uniformCache.get(key);
    if (!buf) {
      const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
      buf = this.device.createBuffer({ size, usage: UNIFORM | COPY_DST, mappedAtCreation: true });
      new Uint8Array(buf.getMappedRange()).set(bytes);
      buf.unmap();
      this.uniformCache.set(key, buf);
    }
    return buf;
  }

  /**
   * Copies host data into `dst` in stream order (through a staging buffer and a
   * recorded copy), so it never overtakes dispatches already recorded.
   */
  upload(dst: GPUBuffer, data: ArrayBufferView, dstOffset = 0): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength === 0) return;
    const padded = Math.ceil(bytes.byteLength / 4) * 4;
    const staging = this.device.createBuffer({ size: padded, usage: COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.endPass().copyBufferToBuffer(staging, 0, dst, dstOffset, padded);
    this.pendingDestroy.push(staging);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Zero-fills a region (offset and size multiples of 4). */
  clear(buf: GPUBuffer, offset = 0, size?: number): void {
    this.endPass().clearBuffer(buf, offset, size ?? buf.size - offset);
  }

  // ---------------------------------------------------------------- submit / read

  /** Submits everything recorded so far as one command buffer. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.profiler?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.profiler?.submitted();
    this.encoder = null;
    this.submitCount++;
    for (const b of this.pendingDestroy) b.destroy();
    this.pendingDestroy = [];
    // Bounded caches: safe to clear between submits.
    if (this.bindCache.size > 8192) this.bindCache.clear();
    if (this.uniformCache.size > 4096) {
      for (const b of this.uniformCache.values()) b.destroy();
      this.uniformCache.clear();
    }
  }

  /** Reads bytes back; flushes pending work first. */
  async read(src: GPUBuffer, offset = 0, size?: number): Promise<ArrayBuffer> {
    const n = size ?? src.size - offset;
    const padded = Math.ceil(n / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, padded), usage: MAP_READ | COPY_DST });
    if (padded > 0) this.endPass().copyBufferToBuffer(src, offset, staging, 0, padded);
    this.flush();
    try {
      await this.wait(() => staging.mapAsync(MAP_READ));
      const out = staging.getMappedRange(0, Math.max(4, padded)).slice(0, n);
      staging.unmap();
      return out;
    } finally {
      staging.destroy();
      await this.checkErrors();
    }
  }

  async readF32(src: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
    return new Float32Array(await this.read(src, offset, count === undefined ? undefined : count * 4));
  }

  /** Waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.wait(() => this.device.queue.onSubmittedWorkDone());
    await this.checkErrors();
  }

  /** Awaits a GPU promise, quietly where asked (quiet-wait.ts). */
  private wait<T>(start: () => Promise<T>): Promise<T> {
    return this.quietWait ? quietly(start) : start();
  }

  /** Throws the first device or kernel-compile error seen so far. */
  async checkErrors(): Promise<void> {
    try {
      await this.wait(() => this.kernels.checkAll());
    } catch (e) {
      this.errors = []; // the device's pipeline errors are consequences of this one
      throw e;
    }
    if (this.lost) throw new GpuDeviceError(`GPU device lost: ${this.lost}`);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new GpuDeviceError(msg);
    }
  }
}

/**
 * Opens a device: in Node through Dawn (a real GPU, else lavapipe, else OpenGL ES; see
 * dawn.ts), in a browser from navigator.gpu; asks only for the limits the engine reads
 * (limits.ts). With `device`, wraps the caller's device after checking its limits.
 * VICREG_BACKEND=vulkan|opengles forces a backend; VICREG_TUNING=auto|gpu|cpu the kernel family.
 */
export async function createGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const tuning = requestedTuning(opts.tuning);
  if (opts.device) {
    checkLimits(opts.device); // a GpuLimitError names the limit, rather than a failed pipeline later
    return new Gpu(opts.device, opts.adapterName ?? 'caller-provided GPUDevice', tuning, opts.quietWait);
  }
  const { device, name } = await openPlatformDevice(opts, WANTED_FEATURES);
  return new Gpu(device, name, tuning, opts.quietWait);
}

let shared: Promise<Gpu> | null = null;
/** A process-wide default Gpu (created once). */
export function defaultGpu(): Promise<Gpu> {
  return (shared ??= createGpu());
}
