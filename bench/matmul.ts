/**
 * Matmul benchmark: median time, GFLOP/s and fraction of the adapter's measured FMA
 * peak per shape (peak measured in the same run, before and after; the higher counts),
 * with TensorFlow.js's WebGPU backend computing the same product on the same adapter.
 * Options: --json, --no-peer, --quick (skip 1024^3), --fast (Dawn without robustness, both engines).
 */
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { Tensor } from '../src/tensor.js';
import { matmul } from '../src/ops/matmul.js';
import { linearForward, linearInputGrad, linearWeightGrad } from '../src/ops/linear.js';
import { matmulTiles } from '../src/ops/matmul-core.js';
import { measureFmaPeak } from './fma-peak.js';
import { parseOptions, type OptionSpec, type OptionValues } from '../src/cli/args.js';
import { fmt, rand, table, timeAsync, timeGpu } from './common.js';
import { initTfjsWebgpu, tfjsSync } from './peer/tfjs.js';

export interface BenchRow {
  name: string;
  m: number;
  n: number;
  k: number;
  ms: number;
  gflops: number;
  adapter: string;
  /** gpu.tuning: the kernel family that ran (VICREG_TUNING). */
  tuning: string;
  /** conv rows: the algorithm that ran (implicit | im2col). */
  algo?: string;
  peak_fraction?: number;
  peer_ms?: number;
  peer_gflops?: number;
  peer_ratio?: number;
  peer_adapter?: string;
  [extra: string]: unknown;
}

/** The options the matmul, peak and conv benchmarks share. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = { json: { type: 'boolean' }, fast: { type: 'boolean' }, 'no-peer': { type: 'boolean' }, quick: { type: 'boolean' } };

export function dawnFlags(o: OptionValues): string[] {
  return o.fast ? ['enable-dawn-features=disable_robustness,skip_validation'] : [];
}

export function report(rows: BenchRow[], o: OptionValues, title: string): void {
  const json = !!o.json;
  const out = json ? (s: string) => process.stderr.write(s + '\n') : (s: string) => process.stdout.write(s + '\n');
  out(title);
  table(
    rows.map((r) => ({
      kernel: r.name,
      'M x N x K': `${r.m}x${r.n}x${r.k}`,
      ms: fmt(r.ms, 1),
      'GFLOP/s': fmt(r.gflops),
      'of peak': r.peak_fraction !== undefined ? `${fmt(100 * r.peak_fraction, 1)}%` : '-',
      ...(r.vs_matmul !== undefined ? { 'vs matmul': fmt(r.vs_matmul as number) } : {}),
      ...(r.vs_implicit !== undefined ? { 'implicit ms': fmt(r.implicit_ms as number, 1), 'vs implicit': `${fmt(r.vs_implicit as number)}x` } : {}),
      'tfjs ms': r.peer_ms !== undefined ? fmt(r.peer_ms, 1) : '-',
      'tfjs GFLOP/s': r.peer_gflops !== undefined ? fmt(r.peer_gflops) : '-',
      'speed-up vs tfjs': r.peer_ratio !== undefined ? `${fmt(r.peer_ratio)}x` : '-',
    })),
    out,
  );
  if (json) process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
}

export async function peakOf(gpu: Gpu): Promise<number> {
  return (await measureFmaPeak(gpu, { samples: 3 })).gflops;
}

export async function runPeakBench(args: string[]): Promise<void> {
  const o = parseOptions(args, COMMON_OPTIONS);
  const gpu = await createGpu({ dawnFlags: dawnFlags(o) });
  const p = await measureFmaPeak(gpu, { samples: 5 });
  const row = { name: 'fma_peak', adapter: gpu.adapterName, tuning: gpu.tuning, gflops: p.gflops, chains: p.chains, by_chains: p.byChains };
  if (o.json) process.stdout.write(JSON.stringify([row]) + '\n');
  else console.log(`${gpu.adapterName}: ${fmt(p.gflops)} GFLOP/s (best of vec4 chains ${JSON.stringify(p.byChains)})`);
}

export async function runMatmulBench(args: string[]): Promise<void> {
  const o = parseOptions(args, COMMON_OPTIONS);
  const gpu = await createGpu({ dawnFlags: dawnFlags(o) });
  const peer = o['no-peer'] ? null : await initTfjsWebgpu(dawnFlags(o));
  let peak = await peakOf(gpu);
  const t = matmulTiles(gpu);
  process.stderr.write(`adapter ${gpu.adapterName}; tiles ${t.MM_CPU ? `CPU ${t.TILE_M}x${t.TILE_N} (${t.THREADS_X} invocations, ${t.TILE_M}x${t.RN} each)` : `GPU ${t.TILE_M}x${t.TILE_N}x${t.TILE_K}`}\n`);

  type Case = { name: string; m: number; n: number; k: number; ours: () => { run: () => void; done: () => void }; tf: (tf: NonNullable<typeof peer>['tf']) => { run: () => void; done: () => void } };
  const cases: Case[] = [];
  const square = (s: number): Case => ({
    name: `matmul ${s}^3`,
    m: s,
    n: s,
    k: s,
    ours: () => {
      const A = Tensor.from(gpu, rand(s * s, 1), [s, s]);
      const B = Tensor.from(gpu, rand(s * s, 2), [s, s]);
      const C = Tensor.empty(gpu, [s, s]);
      return { run: () => void matmul(gpu, A, B, { out: C }), done: () => [A, B, C].forEach((x) => x.release()) };
    },
    tf: (tf) => {
      const a = tf.tensor2d(rand(s * s, 1), [s, s]);
      const b = tf.tensor2d(rand(s * s, 2), [s, s]);
      return { run: () => tf.dispose(tf.matMul(a, b)), done: () => tf.dispose([a, b]) };
    },
  });
  if (!o.quick) cases.push(square(1024));
  // Linear layers of a small expander at batch 256: y = x W^T (+b), dX = dY W, dW = dY^T X (+db).
  for (const [batch, nin, nout] of [[256, 512, 2048], [256, 2048, 2048]] as const) {
    const mk = (seed: number, shape: number[]) => Tensor.from(gpu, rand(shape.reduce((a, b) => a * b), seed), shape);
    cases.push({
      name: `linear ${nin}->${nout} fwd`,
      m: batch,
      n: nout,
      k: nin,
      ours: () => {
        const x = mk(1, [batch, nin]), w = mk(2, [nout, nin]), b = mk(3, [nout]);
        let y: Tensor | null = null;
        return { run: () => { y?.release(); y = linearForward(gpu, x, w, b); }, done: () => [x, w, b, y!].forEach((q) => q.release()) };
      },
      tf: (tf) => {
        const x = tf.tensor2d(rand(batch * nin, 1), [batch, nin]), w = tf.tensor2d(rand(nout * nin, 2), [nout, nin]);
        return { run: () => tf.dispose(tf.matMul(x, w, false, true)), done: () => tf.dispose([x, w]) };
      },
    });
    cases.push({
      name: `linear ${nin}->${nout} dX`,
      m: batch,
      n: nin,
      k: nout,
      ours: () => {
        const g = mk(4, [batch, nout]), w = mk(2, [nout, nin]);
        let dx: Tensor | null = null;
        return { run: () => { dx?.release(); dx = linearInputGrad(gpu, g, w); }, done: () => [g, w, dx!].forEach((q) => q.release()) };
      },
      tf: (tf) => {
        const g = tf.tensor2d(rand(batch * nout, 4), [batch, nout]), w = tf.tensor2d(rand(nout * nin, 2), [nout, nin]);
        return { run: () => tf.dispose(tf.matMul(g, w)), done: () => tf.dispose([g, w]) };
      },
    });
    cases.push({
      name: `linear ${nin}->${nout} dW+db`,
      m: nout,
      n: nin,
      k: batch,
      ours: () => {
        const g = mk(4, [batch, nout]), x = mk(1, [batch, nin]);
        let r: { dW: Tensor; db: Tensor | null } | null = null;
        return {
          run: () => { r?.dW.release(); r?.db?.release(); r = linearWeightGrad(gpu, g, x, nout, true); },
          done: () => [g, x, r!.dW, r!.db!].forEach((q) => q.release()),
        };
      },
      tf: (tf) => {
        const g = tf.tensor2d(rand(batch * nout, 4), [batch, nout]), x = tf.tensor2d(rand(batch * nin, 1), [batch, nin]);
        return { run: () => tf.dispose(tf.matMul(g, x, true, false)), done: () => tf.dispose([g, x]) };
      },
    });
  }

  const rows: BenchRow[] = [];
  for (const c of cases) {
    const flops = 2 * c.m * c.n * c.k;
    const o = c.ours();
    const ms = await timeGpu(gpu, o.run, { samples: 3 });
    o.done();
    const row: BenchRow = { name: c.name, m: c.m, n: c.n, k: c.k, ms, gflops: flops / ms / 1e6, adapter: gpu.adapterName, tuning: gpu.tuning };
    if (peer) {
      const p = c.tf(peer.tf);
      const pms = await timeAsync(p.run, () => tfjsSync(peer.tf, gpu.quietWait), { samples: 3 });
      p.done();
      Object.assign(row, { peer_ms: pms, peer_gflops: flops / pms / 1e6, peer_ratio: pms / ms, peer_adapter: peer.adapter });
    }
    rows.push(row);
  }
  peak = Math.max(peak, await peakOf(gpu));
  for (const r of rows) Object.assign(r, { peak_fraction: r.gflops / peak, peak_gflops: peak });
  report(rows, o, `matmul on ${gpu.adapterName}; FMA peak ${fmt(peak)} GFLOP/s (measured in this run)${peer ? `; peer: ${peer.adapter}` : ''}`);
}
