/**
 * The adapter's reachable FMA throughput: a kernel of independent vec4 fma chains
 * (no memory traffic in the loop), tried with a few chain counts; the best counts.
 */
import peakSrc from '../kernels/bench/fma_peak.wgsl';
import type { Gpu } from '../src/gpu/device.js';
import { Tensor } from '../src/tensor.js';
import { timeGpu } from './common.js';

export interface PeakResult {
  gflops: number;
  chains: number;
  byChains: Record<number, number>;
}

export async function measureFmaPeak(gpu: Gpu, o: { samples?: number } = {}): Promise<PeakResult> {
  const WG = 64;
  const workgroups = 512;
  const iters = 256;
  const out = Tensor.empty(gpu, [WG * workgroups]);
  const byChains: Record<number, number> = {};
  let best = { gflops: 0, chains: 0 };
  for (const chains of [2, 4, 8]) {
    const k = gpu.kernel({ name: 'bench/fma_peak', parts: [{ file: 'kernels/bench/fma_peak.wgsl', code: peakSrc }], consts: { CHAINS: chains, WG } });
    const params = { iters, seed: 1e-7 };
    const ms = await timeGpu(gpu, () => gpu.dispatch(k, { p: params, out: out.buffer }, [workgroups]), { samples: o.samples ?? 5 });
    const flops = WG * workgroups * iters * 4 * chains * 4 * 2;
    const gflops = flops / (ms * 1e6);
    byChains[chains] = gflops;
    if (gflops > best.gflops) best = { gflops, chains };
  }
  out.release();
  return { ...best, byChains };
}
