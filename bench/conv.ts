/**
 * conv2d benchmark on encoder-like shapes: forward, input gradient and weight gradient,
 * each beside a plain matmul with the same useful FLOPs measured in the same run (fwd
 * cout x nb*oh*ow x cin*k*k, dX cin*k*k x nb*oh*ow x cout, dW cout x cin*k*k x nb*oh*ow),
 * and beside TensorFlow.js's WebGPU conv2d / backprop kernels on the same adapter.
 * FLOPs counted as 2*nb*cout*oh*ow*cin*kh*kw for all three (useful work only).
 * Options: --json, --no-peer, --quick (batch 64), --fast, --algo implicit|im2col, --vs-implicit.
 */
import { createGpu } from '../src/gpu/device.js';
import { Tensor } from '../src/tensor.js';
import { matmul } from '../src/ops/matmul.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, convAlgo, convGeometry } from '../src/ops/conv.js';
import { parseOptions } from '../src/cli/args.js';
import { InputError } from '../src/errors.js';
import { fmt, rand, timeAsync, timeGpu } from './common.js';
import { COMMON_OPTIONS, dawnFlags, peakOf, report, type BenchRow } from './matmul.js';
import { initTfjsWebgpu, tfjsSync } from './peer/tfjs.js';

export async function runConvBench(args: string[]): Promise<void> {
  const o = parseOptions(args, { ...COMMON_OPTIONS, algo: { type: 'string' }, 'vs-implicit': { type: 'boolean' } });
  const gpu = await createGpu({ dawnFlags: dawnFlags(o) });
  const peer = o['no-peer'] ? null : await initTfjsWebgpu(dawnFlags(o));
  let peak = await peakOf(gpu);
  const nb = o.quick ? 64 : 256;
  // Default: the adapter's algorithm (convAlgo); --algo implicit|im2col forces one.
  const algoFlag = o.algo as string | undefined;
  if (algoFlag !== undefined && algoFlag !== 'implicit' && algoFlag !== 'im2col') throw new InputError('bad-option', `--algo must be implicit or im2col, not '${algoFlag}'`);
  const algo = algoFlag as 'implicit' | 'im2col' | undefined;
  // --vs-implicit: also time the implicit-GEMM algorithm in the same run (speed-up column).
  const vsImplicit = !!o['vs-implicit'];
  const releaseGrads = (r: { dW: Tensor; db: Tensor | null }) => {
    r.dW.release();
    r.db?.release();
  };
  const shapes = [
    { cin: 1, cout: 32, h: 28, k: 3, stride: 1, pad: 1 },
    { cin: 32, cout: 64, h: 14, k: 3, stride: 1, pad: 1 },
    { cin: 32, cout: 64, h: 14, k: 3, stride: 2, pad: 1 },
    // The quick training preset's two layers (src/train/config.ts).
    { cin: 1, cout: 24, h: 28, k: 5, stride: 2, pad: 2 },
    { cin: 24, cout: 64, h: 7, k: 3, stride: 1, pad: 1 },
  ];
  const rows: BenchRow[] = [];
  for (const s of shapes) {
    const g = convGeometry([nb, s.cin, s.h, s.h], [s.cout, s.cin, s.k, s.k], s.stride, s.pad);
    const flops = 2 * nb * s.cout * g.oh * g.ow * s.cin * s.k * s.k;
    const x = Tensor.from(gpu, rand(nb * s.cin * s.h * s.h, 1), [nb, s.cin, s.h, s.h]);
    const w = Tensor.from(gpu, rand(s.cout * s.cin * s.k * s.k, 2), [s.cout, s.cin, s.k, s.k]);
    const b = Tensor.from(gpu, rand(s.cout, 3), [s.cout]);
    const gy = Tensor.from(gpu, rand(nb * s.cout * g.oh * g.ow, 4), [nb, s.cout, g.oh, g.ow]);
    const o = { stride: s.stride, padding: s.pad, algo };
    const oi = { ...o, algo: 'implicit' as const };
    const label = `${s.cin}->${s.cout} ${s.h}x${s.h} k${s.k} s${s.stride} p${s.pad}`;
    const kinds = [
      { name: `conv fwd ${label}`, mnk: [s.cout, nb * g.oh * g.ow, s.cin * s.k * s.k], run: () => conv2dForward(gpu, x, w, b, o).release(), runImplicit: () => conv2dForward(gpu, x, w, b, oi).release() },
      { name: `conv dX ${label}`, mnk: [s.cin * s.k * s.k, nb * g.oh * g.ow, s.cout], run: () => conv2dInputGrad(gpu, gy, w, x.shape, o).release(), runImplicit: () => conv2dInputGrad(gpu, gy, w, x.shape, oi).release() },
      {
        name: `conv dW+db ${label}`,
        mnk: [s.cout, s.cin * s.k * s.k, nb * g.oh * g.ow],
        run: () => releaseGrads(conv2dWeightGrad(gpu, gy, x, w.shape, true, o)),
        runImplicit: () => releaseGrads(conv2dWeightGrad(gpu, gy, x, w.shape, true, oi)),
      },
    ];
    // tfjs: NHWC activations, [kh, kw, cin, cout] filters (its native layouts).
    const tf = peer?.tf;
    const tx = tf?.tensor4d(rand(nb * s.cin * s.h * s.h, 1), [nb, s.h, s.h, s.cin]);
    const tw = tf?.tensor4d(rand(s.cout * s.cin * s.k * s.k, 2), [s.k, s.k, s.cin, s.cout]);
    const tgy = tf?.tensor4d(rand(nb * s.cout * g.oh * g.ow, 4), [nb, g.oh, g.ow, s.cout]);
    const attrs = { strides: [s.stride, s.stride], pad: s.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
    const peerRuns = tf
      ? [
          () => tf.dispose(tf.conv2d(tx!, tw!, s.stride, s.pad)),
          () => tf.dispose(tf.engine().runKernel('Conv2DBackpropInput', { dy: tgy!, filter: tw! }, { ...attrs, inputShape: tx!.shape } as never)),
          () => tf.dispose(tf.engine().runKernel('Conv2DBackpropFilter', { x: tx!, dy: tgy! }, { ...attrs, filterShape: tw!.shape } as never)),
        ]
      : [];
    for (let i = 0; i < kinds.length; i++) {
      const kd = kinds[i]!;
      const ms = await timeGpu(gpu, kd.run, { samples: 3 });
      // The same-size plain matmul, for the "within 2x of matmul" check.
      const [M, N0, K] = kd.mnk as [number, number, number];
      // The dense B of the input-gradient GEMM can exceed one binding; fewer columns
      // give the same GFLOP/s once N is large.
      const N = Math.min(N0, Math.floor(gpu.maxBinding / 4 / Math.max(K, M)));
      const A = Tensor.from(gpu, rand(M * K, 5), [M, K]);
      const B = Tensor.from(gpu, rand(K * N, 6), [K, N]);
      const C = Tensor.empty(gpu, [M, N]);
      const mms = await timeGpu(gpu, () => void matmul(gpu, A, B, { out: C }), { samples: 3 });
      [A, B, C].forEach((q) => q.release());
      const gemmFlops = 2 * M * N * K;
      const row: BenchRow = {
        name: kd.name, m: M, n: N, k: K, ms, gflops: flops / ms / 1e6, adapter: gpu.adapterName, tuning: gpu.tuning, algo: convAlgo(gpu, g, o),
        matmul_ms: mms, matmul_gflops: gemmFlops / mms / 1e6, vs_matmul: flops / ms / (gemmFlops / mms),
      };
      if (vsImplicit && row.algo !== 'implicit') {
        const ims = await timeGpu(gpu, kd.runImplicit, { samples: 3 });
        Object.assign(row, { implicit_ms: ims, vs_implicit: ims / ms });
      }
      if (tf) {
        const pms = await timeAsync(peerRuns[i]!, () => tfjsSync(tf, gpu.quietWait), { samples: 3 });
        Object.assign(row, { peer_ms: pms, peer_gflops: flops / pms / 1e6, peer_ratio: pms / ms, peer_adapter: peer!.adapter });
      }
      rows.push(row);
    }
    [x, w, b, gy].forEach((q) => q.release());
    tf?.dispose([tx!, tw!, tgy!]);
  }
  peak = Math.max(peak, await peakOf(gpu));
  for (const r of rows) Object.assign(r, { peak_fraction: r.gflops / peak, peak_gflops: peak });
  const algos = [...new Set(rows.map((r) => r.algo))].join('/');
  report(rows, o, `conv2d (${algos}) on ${gpu.adapterName} (batch ${nb}); FMA peak ${fmt(peak)} GFLOP/s; 'vs matmul' = conv GFLOP/s / same-size matmul GFLOP/s`);
}
