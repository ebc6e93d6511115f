/**
 * Linear probe: multinomial logistic regression on frozen features, trained on the GPU.
 * Features are standardised with the train mean / std; weights [R, C] and bias start at zero
 * (the problem is convex); mini-batch Adam (or SGD with momentum) with L2 on the weights, a
 * seeded shuffle per epoch. The gradient is the probe's kernel, the step the optimizer
 * modules' (src/optim: AdamW without decoupled decay is Adam; Sgd); top-1 on the test set. Only the predictions and the per-row losses
 * (for the per-epoch mean) are read back, once, at the end.
 */
import colstatsSrc from '../../kernels/eval/probe_colstats.wgsl';
import gatherSrc from '../../kernels/eval/probe_gather.wgsl';
import forwardSrc from '../../kernels/eval/probe_forward.wgsl';
import gradSrc from '../../kernels/eval/probe_grad.wgsl';
import predictSrc from '../../kernels/eval/probe_predict.wgsl';
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { Sgd } from '../optim/sgd.js';
import type { Optimizer } from '../optim/optimizer.js';
import { checkLabels, describeFeatures, hostLabels, numClasses, type FeatureSet, type Labels } from './features.js';

const spec = (name: string, code: string, consts?: Record<string, number | boolean>) => ({
  name: `eval/${name}`,
  parts: [{ file: `kernels/eval/${name}.wgsl`, code }],
  consts,
});

export interface LinearProbeOptions {
  /** Passes over the training set (default 10). */
  epochs?: number;
  /** Mini-batch size (default 512). */
  batch?: number;
  /** Learning rate (default 1e-3 for Adam, 0.1 for SGD). */
  lr?: number;
  /** L2 penalty on the weights, added to the gradient (default 1e-4). */
  weightDecay?: number;
  /** Shuffle seed (default 0). */
  seed?: number;
  /** 'adam' (default) or 'sgd' (with momentum). */
  optimizer?: 'adam' | 'sgd';
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Added to the variance before 1/sqrt (default 1e-5): keeps near-constant features finite. */
  stdEps?: number;
  /** Number of classes (default: largest label + 1). */
  classes?: number;
  /** Stop after this many optimiser steps (tests). */
  maxSteps?: number;
  /** Also read back the parameters [(R + 1) * C] (last row: bias) and the column statistics. */
  returnParams?: boolean;
}

export interface LinearProbeResult {
  top1: number;
  /** Mean training cross-entropy of each epoch (over the rows seen in it). */
  losses: number[];
  pred: Uint32Array;
  epochs: number;
  batch: number;
  lr: number;
  steps: number;
  params?: Float32Array;
  /** [mean (R), 1/std (R)] when returnParams. */
  stats?: Float32Array;
}

/** mulberry32: a small seeded generator, so that the shuffle is reproducible across runs. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function linearProbe(
  gpu: Gpu,
  train: FeatureSet,
  trainLabelsIn: Labels,
  test: FeatureSet,
  testLabelsIn: Labels,
  opts: LinearProbeOptions = {},
): Promise<LinearProbeResult> {
  const trainLabels = await hostLabels(trainLabelsIn, 'probe train');
  const testLabels = await hostLabels(testLabelsIn, 'probe test');
  const tr = describeFeatures(train, 'probe train');
  const te = describeFeatures(test, 'probe test');
  if (tr.dim !== te.dim) throw new InputError('shape-mismatch', `probe: train R=${tr.dim}, test R=${te.dim}`);
  checkLabels(trainLabels, tr.rows, 'probe train');
  checkLabels(testLabels, te.rows, 'probe test');
  const optimizer = opts.optimizer ?? 'adam';
  const epochs = opts.epochs ?? 10;
  const batch = Math.min(opts.batch ?? 512, tr.rows);
  const lr = opts.lr ?? (optimizer === 'adam' ? 1e-3 : 0.1);
  const wd = opts.weightDecay ?? 1e-4;
  const momentum = opts.momentum ?? 0.9;
  const stdEps = opts.stdEps ?? 1e-5;
  const seen = numClasses(trainLabels, testLabels);
  const classes = opts.classes ?? seen;
  if (seen > classes) throw new InputError('bad-option', `probe: label ${seen - 1} out of range for ${classes} classes`);
  for (const [name, v] of [['epochs', epochs], ['batch', batch]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError('bad-option', `probe: ${name} must be a positive integer, got ${v}`);
  }
  if (!(lr > 0) || !(wd >= 0) || !(stdEps >= 0)) throw new InputError('bad-option', 'probe: lr must be > 0, weightDecay and stdEps >= 0');
  const R = tr.dim;
  const N = tr.rows;
  if (batch * R * 4 > gpu.maxBinding) throw new InputError('too-large', `probe: batch ${batch} x R ${R} exceeds one binding`);

  const kStats = gpu.kernel(spec('probe_colstats', colstatsSrc));
  const kGather = gpu.kernel(spec('probe_gather', gatherSrc));
  const kForward = gpu.kernel(spec('probe_forward', forwardSrc, { C: classes }));
  // 4 feature columns x all classes per invocation where rows are vec4-aligned, on CPU adapters
  // (probe_grad.wgsl: main4); one (column, class) per invocation otherwise.
  const grad4 = R % 4 === 0 && gpu.tuning === 'cpu';
  const kGrad = gpu.kernel({ ...spec('probe_grad', gradSrc, { C: classes }), entryPoint: grad4 ? 'main4' : 'main' });
  const kPredict = gpu.kernel(spec('probe_predict', predictSrc, { C: classes }));

  const P = (R + 1) * classes;
  const st = Tensor.zeros(gpu, [2 * R]);
  const ms = Tensor.empty(gpu, [2 * R]);
  const w = Tensor.zeros(gpu, [P]);
  const grad = Tensor.empty(gpu, [P]);
  w.grad = grad; // the optimizers step every parameter that has one
  // The L2 term is in the gradient (coupled, as the probe's reference), so no decoupled decay here.
  const optim: Optimizer =
    optimizer === 'adam' ? new AdamW(gpu, [w], { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }) : new Sgd(gpu, [w], { momentum, weightDecay: 0 });
  const xb = Tensor.empty(gpu, [batch, R]);
  const gz = Tensor.empty(gpu, [batch, classes]);
  const idx = Tensor.empty(gpu, [N], 'u32');
  const labels = Tensor.from(gpu, Uint32Array.from(trainLabels), [N]);
  const stepsPerEpoch = Math.ceil(N / batch);
  const totalSteps = Math.min(epochs * stepsPerEpoch, opts.maxSteps ?? Infinity);
  const runEpochs = Math.ceil(totalSteps / stepsPerEpoch);
  const loss = Tensor.zeros(gpu, [runEpochs * N]);
  const pred = Tensor.empty(gpu, [te.rows], 'u32');
  const tensors = [st, ms, w, grad, xb, gz, idx, labels, loss, pred];
  try {
    for (const pass of [0, 1]) {
      for (const sh of tr.shards) {
        const params = { rows: sh.rows, r: R, pass_: pass, n: N, eps: stdEps };
        gpu.dispatchOver(kStats, { p: params, x: sh.t.buffer, st: st.buffer, ms: ms.buffer }, [R, 1]);
      }
    }
    gpu.dispatchOver(kStats, { p: { rows: 0, r: R, pass_: 2, n: N, eps: stdEps }, x: tr.shards[0]!.t.buffer, st: st.buffer, ms: ms.buffer }, [R, 1]);

    const rand = rng(opts.seed ?? 0);
    const perm = new Uint32Array(N);
    let step = 0;
    let seenLast = 0;
    for (let e = 0; e < runEpochs; e++) {
      for (let i = 0; i < N; i++) perm[i] = i;
      for (let i = N - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
      }
      gpu.upload(idx.buffer, perm); // stream-ordered: the previous epoch's steps have read the old order
      for (let s = 0; s < stepsPerEpoch && step < totalSteps; s++, step++) {
        const off = s * batch;
        const bsz = Math.min(batch, N - off);
        seenLast = off + bsz;
        for (const sh of tr.shards) {
          const params = { bsz, r: R, off, lo: sh.row0, hi: sh.row0 + sh.rows };
          gpu.dispatchOver(kGather, { p: params, x: sh.t.buffer, idx: idx.buffer, ms: ms.buffer, xb: xb.buffer }, [R, bsz]);
        }
        gpu.dispatchOver(
          kForward,
          { p: { bsz, r: R, off, loss_off: e * N + off, inv_b: 1 / bsz }, xb: xb.buffer, w: w.buffer, idx: idx.buffer, labels: labels.buffer, gz: gz.buffer, loss: loss.buffer },
          [bsz, 1],
        );
        if (grad4) gpu.dispatchOver(kGrad, { p: { bsz, r: R, wd }, xb4: xb.buffer, gz: gz.buffer, w: w.buffer, g: grad.buffer }, [R / 4 + 1, 1]);
        else gpu.dispatchOver(kGrad, { p: { bsz, r: R, wd }, xb: xb.buffer, gz: gz.buffer, w: w.buffer, g: grad.buffer }, [R + 1, classes]);
        optim.step(lr);
      }
      gpu.flush();
    }

    for (const sh of te.shards) {
      gpu.dispatchOver(kPredict, { p: { rows: sh.rows, r: R, row0: sh.row0 }, x: sh.t.buffer, ms: ms.buffer, w: w.buffer, pred: pred.buffer }, [sh.rows, 1]); // [n, 1]: the kernel indexes x only (no fold into y)
    }
    const p = await pred.readU32();
    let correct = 0;
    for (let i = 0; i < te.rows; i++) if (p[i] === testLabels[i]) correct++;
    const rowLoss = await loss.read();
    const losses: number[] = [];
    for (let e = 0; e < runEpochs; e++) {
      const seen = e === runEpochs - 1 ? seenLast : N;
      let s = 0;
      for (let i = 0; i < seen; i++) s += rowLoss[e * N + i]!;
      losses.push(s / seen);
    }
    const result: LinearProbeResult = { top1: correct / te.rows, losses, pred: p, epochs, batch, lr, steps: step };
    if (opts.returnParams) {
      result.params = await w.read();
      result.stats = await ms.read();
    }
    return result;
  } finally {
    optim.dispose();
    for (const t of tensors) t.release();
  }
}
