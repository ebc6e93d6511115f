/**
 * `npm run bench -- loss [--json] [--shapes 256x2048,1024x1024] [--no-peer]`
 * The fused VICReg loss + both gradients: median time per shape on the adapter in use,
 * beside TensorFlow.js's WebGPU backend on the same adapter computing the same loss
 * with its autodiff (the official formulation, d x d covariance), and the ratio.
 */
import { createGpu } from '../src/gpu/device.js';
import { Tensor } from '../src/tensor.js';
import { vicregLoss, chooseForm, type Form } from '../src/vicreg/loss.js';
import { matmulTiles, type MatmulTiles } from '../src/ops/matmul-core.js';
import { parseOptions } from '../src/cli/args.js';
import { fmt, table, timeAsync, timeGpu } from './common.js';
import { measureFmaPeak } from './fma-peak.js';
import { initTfjsWebgpu, tfjsSync } from './peer/tfjs.js';
import { registerTfjsGradients } from './peer/tfjs-grads.js';

type Tf = typeof import('@tensorflow/tfjs-core');

/** Arithmetic our kernels execute: triangular product tiles + the gradient product, both views. */
export function lossFlops(n: number, d: number, form: 'cov' | 'gram', t: MatmulTiles): number {
  const dim = form === 'gram' ? n : d;
  const inner = form === 'gram' ? d : n;
  let tiles = 0;
  const gx = Math.ceil(dim / t.TILE_N);
  const gy = Math.ceil(dim / t.TILE_M);
  for (let r = 0; r < gy; r++) for (let c = 0; c < gx; c++) if (!(r * t.TILE_M >= (c + 1) * t.TILE_N)) tiles++;
  const product = tiles * t.TILE_M * t.TILE_N * inner * 2;
  const grad = 2 * n * d * (form === 'gram' ? n : d);
  return 2 * (product + grad);
}

/** The official facebookresearch/vicreg loss written with tfjs ops (or with the Gram trick). */
function peerLoss(tf: Tf, gram: boolean) {
  return (x: import('@tensorflow/tfjs-core').Tensor, y: import('@tensorflow/tfjs-core').Tensor) => {
    const [n, d] = x.shape as [number, number];
    const repr = tf.mean(tf.square(tf.sub(x, y)));
    const view = (z: import('@tensorflow/tfjs-core').Tensor) => {
      const zc = tf.sub(z, tf.mean(z, 0));
      const varj = tf.div(tf.sum(tf.square(zc), 0), n - 1);
      const std = tf.sqrt(tf.add(varj, 1e-4));
      const hinge = tf.mean(tf.relu(tf.sub(1, std)));
      let off: import('@tensorflow/tfjs-core').Tensor;
      if (gram) {
        const K = tf.div(tf.matMul(zc, zc, false, true), n - 1);
        off = tf.sub(tf.sum(tf.square(K)), tf.sum(tf.square(varj)));
      } else {
        const C = tf.div(tf.matMul(zc, zc, true, false), n - 1);
        off = tf.sub(tf.sum(tf.square(C)), tf.sum(tf.square(varj)));
      }
      return { hinge, cov: tf.div(off, d) };
    };
    const a = view(x);
    const b = view(y);
    const std = tf.add(tf.div(a.hinge, 2), tf.div(b.hinge, 2));
    const cov = tf.add(a.cov, b.cov);
    return tf.add(tf.add(tf.mul(repr, 25), tf.mul(std, 25)), cov) as import('@tensorflow/tfjs-core').Scalar;
  };
}

export async function runLossBench(args: string[]): Promise<void> {
  const o = parseOptions(args, { json: { type: 'boolean' }, shapes: { type: 'string' }, form: { type: 'choice', choices: ['auto', 'cov', 'gram'] }, samples: { type: 'number', integer: true, min: 1 }, 'no-peer': { type: 'boolean' } });
  const json = !!o.json;
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const shapes = ((o.shapes as string | undefined) ?? '256x2048,1024x1024,512x8192').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const form = ((o.form as string | undefined) ?? 'auto') as Form;
  const samples = (o.samples as number | undefined) ?? 3;
  const withPeer = !o['no-peer'];

  const gpu = await createGpu();
  log(`adapter: ${gpu.adapterName} (tuning ${gpu.tuning})`);
  const peak = await measureFmaPeak(gpu, { samples: 3 });
  log(`measured FMA peak: ${fmt(peak.gflops)} GFLOP/s`);
  const peer = withPeer ? await initTfjsWebgpu() : null;
  if (peer) await registerTfjsGradients();

  const rows: Array<Record<string, unknown>> = [];
  for (const [n, d] of shapes) {
    const host1 = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.37) * 1.3);
    const host2 = Float32Array.from({ length: n * d }, (_, i) => Math.cos(i * 0.11) * 0.9);
    const z1 = Tensor.from(gpu, host1, [n, d]);
    const z2 = Tensor.from(gpu, host2, [n, d]);
    const f = chooseForm(n, d, form);
    const check = vicregLoss(gpu, z1, z2, { form });
    const ours = (await check.read()).loss;
    check.release();
    const ms = await timeGpu(gpu, () => vicregLoss(gpu, z1, z2, { form }).release(), { samples, minSampleMs: 50 });
    const flops = lossFlops(n, d, f, matmulTiles(gpu));
    const row: Record<string, unknown> = { n, d, form: f, ms, gflops: flops / (ms * 1e6), peak_fraction: flops / (ms * 1e6) / peak.gflops, adapter: gpu.adapterName, tuning: gpu.tuning };
    z1.release();
    z2.release();
    if (peer) {
      const { tf } = peer;
      for (const gram of f === 'gram' ? [false, true] : [false]) {
        const key = gram ? 'peer_gram_ms' : 'peer_ms';
        try {
          const x = tf.tensor2d(host1, [n, d]);
          const y = tf.tensor2d(host2, [n, d]);
          const g = tf.valueAndGrads(peerLoss(tf, gram));
          // The peer must compute the same loss: a failed dispatch (e.g. a d x d matrix over the
          // adapter's binding limit) shows up as a wrong value, not as an exception.
          const first = g([x, y]);
          await tfjsSync(tf, gpu.quietWait);
          const theirs = (await first.value.data())[0]!;
          first.value.dispose();
          first.grads.forEach((t) => t.dispose());
          if (!(Math.abs(theirs - ours) <= 1e-3 * Math.abs(ours))) throw new Error(`peer computed loss ${theirs}, expected ${ours}`);
          const run = () => {
            const r = g([x, y]);
            r.value.dispose();
            r.grads.forEach((t) => t.dispose());
          };
          row[key] = await timeAsync(run, () => tfjsSync(tf, gpu.quietWait), { samples, minSampleMs: 50 });
          x.dispose();
          y.dispose();
        } catch (e) {
          row[key] = null;
          row[`${key}_error`] = (e as Error).message.split('\n')[0];
        }
      }
      if (typeof row.peer_ms === 'number') row.ratio = row.peer_ms / ms;
      if (typeof row.peer_gram_ms === 'number') row.ratio_vs_peer_gram = row.peer_gram_ms / ms;
    }
    rows.push(row);
    log(`(${n}, ${d}) ${f}: ${fmt(ms)} ms, ${fmt(row.gflops as number)} GFLOP/s (${fmt(100 * (row.peak_fraction as number), 0)}% of peak)` +
      (row.peer_ms ? `, tfjs ${fmt(row.peer_ms as number)} ms, ratio ${fmt(row.ratio as number, 1)}x` : row.peer_ms_error ? `, tfjs failed: ${row.peer_ms_error}` : '') +
      (row.peer_gram_ms ? `, tfjs with the Gram trick ${fmt(row.peer_gram_ms as number)} ms (${fmt(row.ratio_vs_peer_gram as number, 1)}x)` : ''));
  }
  if (json) process.stdout.write(JSON.stringify(rows) + '\n');
  else
    table(
      rows.map((r) => ({ n: r.n as number, d: r.d as number, form: r.form as string, ms: fmt(r.ms as number), 'GFLOP/s': fmt(r.gflops as number), '%peak': fmt(100 * (r.peak_fraction as number), 0), 'tfjs ms': r.peer_ms ? fmt(r.peer_ms as number) : '-', ratio: r.ratio ? fmt(r.ratio as number, 1) + 'x' : '-' })),
      log,
    );
}
