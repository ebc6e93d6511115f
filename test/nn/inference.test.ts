/**
 * The evaluation encoder (VicregModel.inferenceEncoder: eval-mode batch norm folded into each
 * conv, ReLU in the conv's epilogue) against a float64 reference of the eval-mode network:
 * conv, BN under the running statistics, ReLU, 2x2 max pool, grid / global average pool.
 */
import { describe, expect, it } from 'vitest';
import { randn, testGpu } from '../helpers/gpu.js';
import { expectClose } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { VicregModel, gridWindow, type ModelConfig } from '../../src/nn/model.js';
import { convForwardRef, outSize, type ConvShape } from '../ref/conv.js';
import { avgPoolRef, globalAvgPoolRef, maxPoolRef } from '../ref/pool.js';

const NB = 5;
const S = 9;
const EPS = 1e-5;

describe('inferenceEncoder: batch norm folded into the convs', () => {
  it.each([
    ['global average pool', { inChannels: 1, conv: [[4, 3, 2, false], [6, 3, 1, true]], expander: [] } as ModelConfig],
    ['2x2 grid pool', { inChannels: 1, conv: [[4, 3, 1, true], [6, 3, 1, false]], expander: [], reprGrid: 2 } as ModelConfig],
  ])('matches the float64 eval-mode network and encode(null, x, false) (%s)', async (_name, cfg) => {
    const gpu = await testGpu();
    const model = new VicregModel(gpu, cfg, 3, false);
    // Running statistics and affine parameters far from their init (0 / 1), so that a fold that
    // dropped or misplaced any of them would show.
    let seed = 100;
    const host = model.convs.map((c) => {
      const C = c.weight.shape[0]!;
      const gamma = randn(C, seed++).map((v) => 1 + 0.5 * v);
      const beta = randn(C, seed++);
      const mean = randn(C, seed++);
      const variance = randn(C, seed++).map((v) => 0.2 + v * v);
      for (const [t, d] of [[c.bn.weight, gamma], [c.bn.bias, beta], [c.bn.runningMean, mean], [c.bn.runningVar, variance]] as const) gpu.upload(t.buffer, d);
      return { gamma, beta, mean, variance };
    });
    const weights = await Promise.all(model.convs.map((c) => c.weight.read()));
    const x = randn(NB * S * S, 9);
    const X = Tensor.from(gpu, x, [NB, 1, S, S]);

    // float64 reference
    let cur: Float64Array = Float64Array.from(x);
    let [c, h] = [1, S];
    model.convs.forEach((l, i) => {
      const cout = l.weight.shape[0]!;
      const s: ConvShape = { nb: NB, cin: c, h, w: h, cout, k: l.k, stride: l.stride, pad: l.pad };
      const [oh] = outSize(s);
      const y = convForwardRef(s, cur, weights[i]!);
      const { gamma, beta, mean, variance } = host[i]!;
      for (let j = 0; j < y.length; j++) {
        const ch = Math.floor(j / (oh * oh)) % cout;
        y[j] = Math.max(0, ((y[j]! - mean[ch]!) / Math.sqrt(variance[ch]! + EPS)) * gamma[ch]! + beta[ch]!);
      }
      cur = y;
      [c, h] = [cout, oh];
      if (l.pool) {
        cur = maxPoolRef(cur, NB * c, h, h, 2, 2).y;
        h = Math.floor(h / 2);
      }
    });
    const g = cfg.reprGrid ?? 1;
    let ref: Float64Array;
    if (g > 1) {
      const { k, s } = gridWindow(h, g);
      ref = avgPoolRef(cur, NB * c, h, h, k, s);
    } else ref = globalAvgPoolRef(cur, NB * c, h * h);

    const enc = model.inferenceEncoder();
    const r = enc.encode(X);
    expect(r.shape).toEqual([NB, model.reprDim]);
    const got = await r.read();
    expectClose(got, ref, 1e-5, 'folded encoder vs float64');
    const plain = model.encode(null, X, false);
    expectClose(got, await plain.read(), 1e-5, 'folded vs encode(null, x, false)');
    enc.release();
    [r, plain, X].forEach((t) => t.release());
  });
});
