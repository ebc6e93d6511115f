// Embedding on a caller's own GPUDevice and GPUBuffers, through the package entry.
import { describe, expect, it } from 'vitest';
import { create, globals } from 'webgpu';
import { createGpu, Tensor, vicregLoss, InputError } from '../../src/index.js';
import { fixedVector } from '../ref/vicreg.js';

// Test code plays the embedding user here, so it talks to WebGPU itself.
Object.assign(globalThis, globals);
const keep = ((globalThis as Record<string, unknown>).__embedTestDawn ??= create([])) as GPU;

describe('package entry on a caller-provided GPUDevice', () => {
  it('computes the fixed vector from caller buffers, results left on the GPU', async () => {
    const adapter = await keep.requestAdapter();
    const device = await adapter!.requestDevice();
    const gpu = await createGpu({ device, adapterName: 'caller device' });
    expect(gpu.device).toBe(device);
    const { a, b } = fixedVector();
    const mk = (data: Float32Array) => {
      const buf = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
      return buf;
    };
    const z1 = Tensor.wrap(gpu, mk(a), [8, 4]);
    const z2 = Tensor.wrap(gpu, mk(b), [8, 4]);
    const res = vicregLoss(gpu, z1, z2);
    expect(res.gradZ1.buffer).toBeInstanceOf(GPUBuffer);
    const terms = await res.read();
    expect(terms.loss).toBeCloseTo(9.231594724112, 4);
    expect(terms.covariance).toBeCloseTo(1.411508122613, 4);
    // Wrapped caller buffers are never returned to our pool.
    z1.release();
    expect(gpu.pool.pooledBytes).toBeGreaterThanOrEqual(0);
    res.release();
  });

  it('throws typed errors for bad shapes on GPU tensors', async () => {
    const gpu = await createGpu();
    const one = Tensor.zeros(gpu, [1, 4]);
    const a = Tensor.zeros(gpu, [3, 4]);
    const b = Tensor.zeros(gpu, [3, 5]);
    const c = Tensor.zeros(gpu, [12]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).code;
      }
      return 'no error';
    };
    expect(code(() => vicregLoss(gpu, one, one))).toBe('too-few-rows');
    expect(code(() => vicregLoss(gpu, a, b))).toBe('shape-mismatch');
    expect(code(() => vicregLoss(gpu, c, c))).toBe('bad-rank');
    expect(code(() => vicregLoss(gpu, a, a, { convention: 'nope' as 'paper' }))).toBe('bad-option');
  });

  it('reports NaN in GPU-resident inputs as a typed error when read', async () => {
    const gpu = await createGpu();
    const { a, b } = fixedVector();
    a[5] = NaN;
    const res = vicregLoss(gpu, Tensor.from(gpu, a, [8, 4]), Tensor.from(gpu, b, [8, 4]));
    await expect(res.read()).rejects.toMatchObject({ code: 'non-finite' });
    b[3] = Infinity;
    a[5] = 0;
    const res2 = vicregLoss(gpu, Tensor.from(gpu, a, [8, 4]), Tensor.from(gpu, b, [8, 4]));
    await expect(res2.read()).rejects.toMatchObject({ code: 'non-finite' });
  });
});
