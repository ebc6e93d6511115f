import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { knnClassify, knnTop1 } from '../../src/eval/knn.js';
import { knnRef } from '../ref/eval.js';

function labelsFor(n: number, classes: number, seed: number): Uint8Array {
  const u = randn(n, seed);
  return Uint8Array.from(u, (v) => Math.min(classes - 1, Math.floor(((v + 1) / 2) * classes)));
}

describe('kNN (weighted, cosine)', () => {
  it('matches the float64 reference on random data (Ntr=300, Nte=77, R=13, k=20)', async () => {
    const gpu = await testGpu();
    const [ntr, nte, r] = [300, 77, 13];
    const xtr = randn(ntr * r, 11);
    const xte = randn(nte * r, 12);
    const ytr = labelsFor(ntr, 10, 13);
    const yte = labelsFor(nte, 10, 14);
    const tr = Tensor.from(gpu, xtr, [ntr, r]);
    const te = Tensor.from(gpu, xte, [nte, r]);
    const got = await knnClassify(gpu, tr, ytr, te, yte, { k: 20 });
    const ref = knnRef(xtr, ytr, xte, yte, r, 20, 0.07, 10);
    expect([...got.pred]).toEqual([...ref.pred]);
    expect(got.top1).toBeCloseTo(ref.top1, 12);
    tr.release();
    te.release();
  });

  it('handles k above some class counts, shards, several chunks and a small temperature', async () => {
    const gpu = await testGpu();
    const [ntr, nte, r] = [301, 45, 9];
    const xtr = randn(ntr * r, 21);
    const xte = randn(nte * r, 22);
    // Class 0 has 5 rows, class 1 has 3: fewer than k. Classes 0..3.
    const ytr = Uint8Array.from({ length: ntr }, (_, i) => (i < 5 ? 0 : i < 8 ? 1 : 2 + (i % 2)));
    const yte = labelsFor(nte, 4, 23);
    // Train as two row shards, test as two shards; tiny chunks force many chunks and a partial one.
    const tr = [Tensor.from(gpu, xtr.subarray(0, 130 * r), [130, r]), Tensor.from(gpu, xtr.subarray(130 * r), [ntr - 130, r])];
    const te = [Tensor.from(gpu, xte.subarray(0, 20 * r), [20, r]), Tensor.from(gpu, xte.subarray(20 * r), [nte - 20, r])];
    for (const [k, t] of [
      [37, 0.07],
      [7, 0.01],
    ] as const) {
      const got = await knnClassify(gpu, tr, ytr, te, yte, { k, temperature: t, chunkBytes: 16 * 304 * 4 });
      const ref = knnRef(xtr, ytr, xte, yte, r, k, t, 4);
      expect([...got.pred]).toEqual([...ref.pred]);
    }
    for (const t of [...tr, ...te]) t.release();
  });

  it('is exact on a trivially separable problem and clamps k to Ntr', async () => {
    const gpu = await testGpu();
    const r = 4;
    // Class c points along axis c with a little noise.
    const mk = (n: number, seed: number) => {
      const noise = randn(n * r, seed, 0.1);
      const y = Uint8Array.from({ length: n }, (_, i) => i % 4);
      const x = Float32Array.from(noise, (v, j) => v + (Math.floor(j / r) % 4 === j % r ? 1 : 0));
      return { x, y };
    };
    const a = mk(30, 1);
    const b = mk(17, 2);
    const tr = Tensor.from(gpu, a.x, [30, r]);
    const te = Tensor.from(gpu, b.x, [17, r]);
    expect(await knnTop1(gpu, tr, a.y, te, b.y)).toBe(1);
    expect(await knnTop1(gpu, tr, a.y, te, b.y, { k: 500, temperature: 0.02 })).toBe(1);
    // Labels may also live on the GPU as u32 tensors.
    const ya = Tensor.from(gpu, Uint32Array.from(a.y), [30]);
    const yb = Tensor.from(gpu, Uint32Array.from(b.y), [17]);
    expect(await knnTop1(gpu, tr, ya, te, yb)).toBe(1);
    await expect(knnTop1(gpu, tr, a.y, te, b.y, { classes: 3 })).rejects.toThrow(/out of range/);
    ya.release();
    yb.release();
    tr.release();
    te.release();
  });
});
