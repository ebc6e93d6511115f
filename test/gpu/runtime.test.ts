import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { linear } from '../../src/ops/linear.js';
import { axpy } from '../../src/ops/elementwise.js';
import { KernelCompileError } from '../../src/gpu/errors.js';

describe('gpu runtime', () => {
  it('names the adapter and requests its limits', async () => {
    const gpu = await testGpu();
    expect(gpu.adapterName.length).toBeGreaterThan(3);
    expect(gpu.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });

  it('axpy matches the CPU on a size that is not a multiple of the workgroup', async () => {
    const gpu = await testGpu();
    const n = 1000;
    const x = randn(n, 3);
    const y = randn(n, 4);
    const tx = Tensor.from(gpu, x, [n]);
    const ty = Tensor.from(gpu, y, [n]);
    axpy(gpu, -0.75, tx, ty);
    const got = await ty.read();
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(y[i]! - 0.75 * x[i]!, 6);
    tx.release();
    ty.release();
  });

  it('compiles a kernel once per specialisation', async () => {
    const gpu = await testGpu();
    const spec = (wg: number) => ({
      name: 'test/fill',
      parts: [{ file: 'fill.wgsl', code: `const WG: u32 = 64;\nconst V: f32 = 1.0;\n@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(WG) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (g.x < arrayLength(&o)) { o[g.x] = V; } }` }],
      consts: { WG: wg, V: 2.5 },
    });
    const a = gpu.kernel(spec(32));
    expect(gpu.kernel(spec(32))).toBe(a);
    expect(a.workgroupSize).toEqual([32, 1, 1]);
    expect(gpu.kernel(spec(64))).not.toBe(a);
    const t = Tensor.empty(gpu, [100]);
    gpu.dispatch(a, { o: t.buffer }, [Math.ceil(t.buffer.size / 4 / 32)]);
    const got = await t.read();
    expect([...got.slice(0, 3)]).toEqual([2.5, 2.5, 2.5]);
    t.release();
  });

  it('reports a WGSL compile error with the kernel name and line', async () => {
    const gpu = await testGpu();
    gpu.kernel({
      name: 'test/broken',
      parts: [
        { file: 'prelude.wgsl', code: '@group(0) @binding(0) var<storage, read_write> o: array<f32>;' },
        { file: 'broken.wgsl', code: '@compute @workgroup_size(1) fn main() {\n  o[0] = undefined_symbol;\n}' },
      ],
    });
    const err = await gpu.checkErrors().catch((e) => e);
    expect(err).toBeInstanceOf(KernelCompileError);
    expect(err.message).toContain("test/broken");
    expect(err.message).toContain('broken.wgsl:2');
  });

  it('tape accumulates a gradient used twice', async () => {
    const gpu = await testGpu();
    const tape = new Tape(gpu);
    const x = Tensor.from(gpu, new Float32Array([1, 2, 3]), [3]);
    tape.watch(x);
    // y = x (identity op used twice): dL/dx = g1 + g2
    const y1 = Tensor.from(gpu, new Float32Array([1, 2, 3]), [3]);
    const y2 = Tensor.from(gpu, new Float32Array([1, 2, 3]), [3]);
    const s = Tensor.zeros(gpu, [3]);
    const ident = (out: Tensor) =>
      tape.record({ op: 'ident', inputs: [x], outputs: [out], backward: ([g]) => [g ?? null] });
    ident(y1);
    ident(y2);
    tape.record({
      op: 'sum2',
      inputs: [y1, y2],
      outputs: [s],
      backward: ([g]) => {
        const a = Tensor.zeros(gpu, [3]);
        axpy(gpu, 2, g!, a);
        const b = Tensor.zeros(gpu, [3]);
        axpy(gpu, 3, g!, b);
        return [a, b];
      },
    });
    const seed = Tensor.from(gpu, new Float32Array([1, 10, 100]), [3]);
    tape.backward(s, seed);
    expect([...(await x.grad!.read())]).toEqual([5, 50, 500]);
    tape.dispose([s]);
    expect(y1.released && y2.released).toBe(true);
  });

  it('tape frees every gradient it sums (a parameter read by two ops: no buffer left per step)', async () => {
    const gpu = await testGpu();
    const W = Tensor.from(gpu, new Float32Array([1, -2, 3, 0.5, 4, -1]), [2, 3]);
    const X = Tensor.from(gpu, new Float32Array([1, 2, 3, -1, 0, 2]), [2, 3]);
    const live: number[] = [];
    for (let step = 0; step < 3; step++) {
      const tape = new Tape(gpu);
      tape.watch(W);
      // Two views through the same weight, as a training step runs them.
      const y1 = linear(tape, X, W);
      const y2 = linear(tape, X, W);
      const s = Tensor.zeros(gpu, y1.shape);
      tape.record({
        op: 'sum2',
        inputs: [y1, y2],
        outputs: [s],
        backward: ([g]) => {
          const a = Tensor.zeros(gpu, g!.shape);
          axpy(gpu, 1, g!, a);
          const b = Tensor.zeros(gpu, g!.shape);
          axpy(gpu, 1, g!, b);
          return [a, b];
        },
      });
      const seed = Tensor.from(gpu, new Float32Array(4).fill(1), [2, 2]);
      tape.backward(s, seed);
      // dW = 2 * ones^T X: column sums of X, twice.
      expect([...(await W.grad!.read())]).toEqual([0, 4, 10, 0, 4, 10]);
      W.grad!.release();
      W.grad = null;
      tape.dispose();
      seed.release();
      live.push(gpu.pool.liveBytes);
    }
    expect(live[2]).toBe(live[1]);
    expect(live[1]).toBe(live[0]);
  });
});
