/**
 * The step profiler: every dispatch recorded while profiling comes back once, in order, with
 * its kernel name, the bytes it binds and the FLOPs its op declares; results are unchanged by
 * profiling (one pass per dispatch); the per-kernel table adds up.
 */
import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { matmul } from '../../src/ops/matmul.js';
import { relu } from '../../src/ops/activation.js';
import { kernelTable } from '../../bench/step.js';

describe('dispatch profiler', () => {
  it('times each dispatch with its kernel, bytes and FLOPs, and leaves results unchanged', async () => {
    const gpu = await testGpu();
    const [M, K, N] = [37, 53, 29];
    const a = Tensor.from(gpu, randn(M * K, 1), [M, K]);
    const b = Tensor.from(gpu, randn(K * N, 2), [K, N]);
    const plain = await matmul(gpu, a, b).read();
    if (!gpu.startProfiling()) {
      console.warn('profiler: this adapter has no timestamp queries; skipped');
      return;
    }
    const c = matmul(gpu, a, b);
    const r = relu(null, c);
    const timings = await gpu.stopProfiling();
    expect(Array.from(await c.read())).toEqual(Array.from(plain));
    expect(timings.map((t) => t.kernel)).toEqual(['common/matmul', 'nn/relu']);
    const [mm, act] = timings as [(typeof timings)[0], (typeof timings)[0]];
    expect(mm.flops).toBe(2 * M * N * K);
    // Storage bindings of the matmul: A and B (each twice: scalar and vec4 views), C, bias (the 256-byte dummy).
    expect(mm.bytes).toBeGreaterThanOrEqual((M * K + K * N + M * N) * 4);
    expect(act.flops).toBe(0);
    expect(act.bytes).toBeGreaterThanOrEqual(2 * M * N * 4);
    for (const t of timings) expect(t.ns).toBeGreaterThan(0);
    // Not profiling any more: nothing is collected.
    relu(null, c).release();
    expect(await gpu.stopProfiling()).toEqual([]);
    for (const t of [a, b, c, r]) t.release();
  });

  it('the kernel table groups by kernel, averages over steps and sums to the whole', () => {
    const t = (kernel: string, ns: number, flops = 0, bytes = 1e6) => ({ kernel, ns, flops, bytes });
    const rows = kernelTable([t('mm', 4e6, 8e6), t('bn', 1e6), t('mm', 4e6, 8e6), t('bn', 1e6)], 2, { gflops: 4, gbps: 2 });
    expect(rows.map((r) => r.kernel)).toEqual(['mm', 'bn']);
    expect(rows[0]).toMatchObject({ calls: 1, ms: 4, share: 0.8, gflop: 0.008, gflops: 2, peak_fraction: 0.5 });
    expect(rows[1]).toMatchObject({ calls: 1, ms: 1, gflop: 0, mbytes: 1, gbps: 1, peak_fraction: 0.5 });
    expect(rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 12);
  });
});
