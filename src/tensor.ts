/**
 * A tensor: a pooled GPU buffer plus a shape (row-major, f32 unless said).
 * Tensors are released back to the pool explicitly (or by the tape).
 */
import type { Gpu } from './gpu/device.js';

export type DType = 'f32' | 'u32';

export class Tensor {
  released = false;
  /** Accumulated gradient, set by the tape's backward pass. */
  grad: Tensor | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    /** False for wrapped caller buffers: never returned to our pool. */
    readonly owned = true,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get bytes(): number {
    return this.size * 4;
  }

  static empty(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return new Tensor(gpu, gpu.pool.acquire(n * 4), shape, dtype);
  }

  static zeros(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = Tensor.empty(gpu, shape, dtype);
    gpu.clear(t.buffer, 0, Math.ceil(t.bytes / 4) * 4);
    return t;
  }

  static from(gpu: Gpu, data: Float32Array | Uint32Array, shape: readonly number[]): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new RangeError(`Tensor.from: ${data.length} values for shape [${shape}]`);
    const t = Tensor.empty(gpu, shape, data instanceof Uint32Array ? 'u32' : 'f32');
    gpu.upload(t.buffer, data);
    return t;
  }

  /** Wraps a caller's buffer without copying; it is never pooled. */
  static wrap(gpu: Gpu, buffer: GPUBuffer, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return new Tensor(gpu, buffer, shape, dtype, false);
  }

  async read(): Promise<Float32Array> {
    this.assertLive();
    return new Float32Array(await this.gpu.read(this.buffer, 0, this.bytes));
  }

  async readU32(): Promise<Uint32Array> {
    this.assertLive();
    return new Uint32Array(await this.gpu.read(this.buffer, 0, this.bytes));
  }

  /** Same buffer, new shape (no copy). */
  reshape(shape: readonly number[]): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== this.size) throw new RangeError(`reshape [${this.shape}] -> [${shape}]`);
    return new Tensor(this.gpu, this.buffer, shape, this.dtype, false);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.owned) this.gpu.pool.release(this.buffer);
  }

  private assertLive(): void {
    if (this.released) throw new Error('tensor used after release');
  }
}
