import { describe, expect, it } from 'vitest';
import { testGpu, randn, relMaxErr } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { linearProbe } from '../../src/eval/linear-probe.js';
import { probeLossGradRef, standardiseRef } from '../ref/eval.js';

/** Gaussian-ish blobs: class c has mean 2 * e_(c mod r) (+ a shared offset and scale per feature). */
function blobs(n: number, r: number, classes: number, seed: number, noise: number) {
  const x = randn(n * r, seed, noise);
  const y = Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % classes);
  for (let i = 0; i < n; i++) {
    x[i * r + (y[i]! % r)]! += 2;
    for (let k = 0; k < r; k++) x[i * r + k] = x[i * r + k]! * (1 + k) + 3 - k; // needs standardising
  }
  return { x, y };
}

describe('linear probe', () => {
  // R = 16: the CPU family's gradient kernel takes 4 feature columns an invocation (main4).
  for (const r of [13, 16]) it(`first SGD step matches the float64 gradient (standardisation, softmax CE, bias, L2), R = ${r}`, async () => {
    const gpu = await testGpu();
    const [n, c] = [203, 10];
    const x = randn(n * r, 5);
    for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) x[i * r + k] = x[i * r + k]! * (k + 1) + k;
    const y = Uint8Array.from(randn(n, 6), (v) => Math.min(c - 1, Math.floor(((v + 1) / 2) * c)));
    // Two shards, one full batch: the mean gradient does not depend on the shuffle.
    const tr = [Tensor.from(gpu, x.subarray(0, 90 * r), [90, r]), Tensor.from(gpu, x.subarray(90 * r), [n - 90, r])];
    const lr = 0.5;
    const res = await linearProbe(gpu, tr, y, tr, y, { optimizer: 'sgd', lr, batch: n, maxSteps: 1, weightDecay: 0.01, classes: c, returnParams: true });
    const { mean, invStd } = standardiseRef(x, n, r, 1e-5);
    expect(relMaxErr(res.stats!.subarray(0, r), mean)).toBeLessThan(1e-5);
    expect(relMaxErr(res.stats!.subarray(r), invStd)).toBeLessThan(1e-5);
    // From W = 0 the first step is -lr * grad (momentum buffer starts at zero).
    const zero = new Float64Array((r + 1) * c);
    const ref = probeLossGradRef(x, y, r, c, zero, mean, invStd, 0.01);
    expect(relMaxErr(res.params!, ref.grad.map((g) => -lr * g))).toBeLessThan(1e-5);
    expect(res.losses[0]).toBeCloseTo(Math.log(c), 5);
    expect(res.steps).toBe(1);
    // Second step of SGD with momentum, from the reference's W1.
    const res2 = await linearProbe(gpu, tr, y, tr, y, { optimizer: 'sgd', lr, batch: n, maxSteps: 2, weightDecay: 0.01, classes: c, returnParams: true });
    const w1 = ref.grad.map((g) => -lr * g);
    const g2 = probeLossGradRef(x, y, r, c, w1, mean, invStd, 0.01);
    const w2 = w1.map((w, i) => w - lr * (0.9 * ref.grad[i]! + g2.grad[i]!));
    expect(relMaxErr(res2.params!, w2)).toBeLessThan(1e-4);
    for (const t of tr) t.release();
  });

  it('first Adam step is -lr * sign(grad)', async () => {
    const gpu = await testGpu();
    const [n, r, c] = [64, 5, 3];
    const { x, y } = blobs(n, r, c, 3, 1);
    const t = Tensor.from(gpu, x, [n, r]);
    const res = await linearProbe(gpu, t, y, t, y, { lr: 0.01, batch: n, maxSteps: 1, weightDecay: 0, returnParams: true });
    const { mean, invStd } = standardiseRef(x, n, r, 1e-5);
    const ref = probeLossGradRef(x, y, r, c, new Float64Array((r + 1) * c), mean, invStd, 0);
    for (let i = 0; i < ref.grad.length; i++) {
      if (Math.abs(ref.grad[i]!) > 1e-4) expect(res.params![i]).toBeCloseTo(-0.01 * Math.sign(ref.grad[i]!), 5);
    }
    t.release();
  });

  it('loss decreases and a separable problem is learned; deterministic from the seed', async () => {
    const gpu = await testGpu();
    const [r, c] = [6, 4];
    const a = blobs(1500, r, c, 1, 0.4);
    const b = blobs(301, r, c, 2, 0.4);
    const tr = Tensor.from(gpu, a.x, [1500, r]);
    const te = Tensor.from(gpu, b.x, [301, r]);
    const opts = { epochs: 6, batch: 128, lr: 0.05, seed: 7 };
    const res = await linearProbe(gpu, tr, a.y, te, b.y, opts);
    expect(res.losses).toHaveLength(6);
    for (let e = 1; e < res.losses.length; e++) expect(res.losses[e]!).toBeLessThan(res.losses[e - 1]!);
    expect(res.losses[5]!).toBeLessThan(0.1);
    expect(res.top1).toBeGreaterThan(0.99);
    const again = await linearProbe(gpu, tr, a.y, te, b.y, opts);
    expect(again.losses).toEqual(res.losses);
    const other = await linearProbe(gpu, tr, a.y, te, b.y, { ...opts, seed: 8 });
    expect(other.losses).not.toEqual(res.losses);
    tr.release();
    te.release();
  });

  it('rejects bad options and mismatched shapes', async () => {
    const gpu = await testGpu();
    const t = Tensor.from(gpu, randn(20, 1), [10, 2]);
    const u = Tensor.from(gpu, randn(30, 1), [10, 3]);
    const y = new Uint8Array(10);
    await expect(linearProbe(gpu, t, y, u, y)).rejects.toThrow(/R=2/);
    await expect(linearProbe(gpu, t, y, t, y, { epochs: 0 })).rejects.toThrow(/epochs/);
    await expect(linearProbe(gpu, t, y.subarray(0, 9), t, y)).rejects.toThrow(/labels/);
    t.release();
    u.release();
  });
});
