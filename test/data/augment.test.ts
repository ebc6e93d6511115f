import { describe, expect, it } from 'vitest';
import { testGpu } from '../helpers/gpu.js';
import { GpuDataset } from '../../src/data/gpu-dataset.js';
import { DEFAULT_AUGMENT, identityParams, packParams, sampleBatchParams, type ViewParams } from '../../src/data/augment-params.js';
import { augmentRef, normalizeRef } from '../ref/augment.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../../src/data/fashion.js';
import { InputError } from '../../src/errors.js';

/** Deterministic images with smooth structure plus noise (bilinear and blur see both). */
function images(n: number, H: number, W: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * H * W);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = i % W;
    const y = Math.floor(i / W) % H;
    const smooth = 127 + 100 * Math.sin(x * 0.7 + seed) * Math.cos(y * 0.45);
    out[i] = Math.max(0, Math.min(255, Math.round(smooth + ((s >>> 24) - 128) * 0.4)));
  }
  return out;
}

function dataset(gpu: Awaited<ReturnType<typeof testGpu>>, n: number, H: number, W: number, size: number, seed = 1) {
  const img = images(n, H, W, 3);
  const split = { images: img, labels: new Uint8Array(n), n };
  return { img, ds: new GpuDataset(gpu, split, H, W, { seed, batchSize: Math.min(n, 4), augment: { size } }) };
}

/** Max |gpu - ref| over pixels not within 1e-4 of the solarize threshold (f32 vs f64 may fall either side). */
function compareViews(got: Float32Array, img: Uint8Array, H: number, W: number, idx: Uint32Array, views: ViewParams[], S: number): number {
  const cfg = { ...DEFAULT_AUGMENT, size: S };
  let err = 0;
  let skipped = 0;
  views.forEach((p, b) => {
    const ref = augmentRef(img, idx[b]!, H, W, p, cfg);
    for (let i = 0; i < S * S; i++) {
      if (p.solarize && Math.abs(ref.preSolarize[i]! - cfg.solarizeThreshold) < 1e-4) {
        skipped++;
        continue;
      }
      err = Math.max(err, Math.abs(got[b * S * S + i]! - ref.out[i]!));
    }
  });
  expect(skipped).toBeLessThan(S * S * views.length * 0.01);
  return err;
}

const base = (H: number, W: number): ViewParams => identityParams(H, W);

/** Hand-picked parameters covering each operation alone and combined. */
function fixedViews(H: number, W: number): [ViewParams[], ViewParams[]] {
  const id = base(H, W);
  const v1: ViewParams[] = [
    id,
    { ...id, x0: 2, y0: 3, w: 6, h: 8 },
    { ...id, x0: 1, y0: 0, w: W - 1, h: H - 2, flip: true },
    { ...id, brightness: 1.35, contrast: 0.65 },
    { ...id, brightness: 0.7, contrast: 1.4, contrastFirst: true },
    { ...id, sigma: 0.1 },
    { ...id, sigma: 1.0, x0: 3, y0: 1, w: 5, h: 7 },
  ];
  const v2: ViewParams[] = [
    { ...id, solarize: true },
    { ...id, sigma: 0.55, solarize: true, flip: true },
    { ...id, x0: W - 3, y0: H - 2, w: 3, h: 2, brightness: 1.2, contrast: 1.3, contrastFirst: true },
    { ...id, x0: 4, y0: 4, w: 1, h: 1 },
    { ...id, brightness: 1.4, contrast: 0.6, sigma: 0.8, solarize: true, flip: true, x0: 1, y0: 2, w: 7, h: 5 },
    id,
    { ...id, contrast: 0 },
  ];
  return [v1, v2];
}

describe('augmentation kernel', () => {
  // Non-square source (13x11) catches swapped axes; sizes up-, down- and same-sample.
  for (const [H, W, S] of [[13, 11, 17], [13, 11, 9], [28, 28, 28], [28, 28, 40]] as const) {
    it(`matches the float64 reference with fixed parameters (${H}x${W} -> ${S})`, async () => {
      const gpu = await testGpu();
      const { img, ds } = dataset(gpu, 5, H, W, S);
      const views = fixedViews(H, W);
      const idx = Uint32Array.from(views[0], (_, i) => (i * 3) % 5);
      const [a, b] = ds.augmentWith(idx, packParams(views));
      expect(a.shape).toEqual([7, 1, S, S]);
      const err1 = compareViews(await a.read(), img, H, W, idx, views[0], S);
      const err2 = compareViews(await b.read(), img, H, W, idx, views[1], S);
      expect(err1).toBeLessThan(1e-5);
      expect(err2).toBeLessThan(1e-5);
      a.release();
      b.release();
      ds.release();
    });
  }

  it('identity parameters give exactly the normalised image', async () => {
    const gpu = await testGpu();
    const { img, ds } = dataset(gpu, 3, 28, 28, 28);
    const id = identityParams(28, 28);
    const [a, b] = ds.augmentWith(new Uint32Array([2, 0]), packParams([[id, id], [id, id]]));
    const got = await a.read();
    for (let i = 0; i < 784; i++) expect(Math.abs(got[i]! - (img[2 * 784 + i]! / 255 - 0.286) / 0.353)).toBeLessThan(1e-6);
    a.release();
    b.release();
    ds.release();
  });

  it('drawn parameters: matches the reference, deterministic per (seed, step), one dispatch per batch', async () => {
    const gpu = await testGpu();
    const { img, ds } = dataset(gpu, 10, 28, 28, 28, 42);
    const before = gpu.dispatchCount;
    const b5 = ds.batch(5);
    expect(gpu.dispatchCount - before).toBe(1);
    const [x1, x2] = [await b5.view1.read(), await b5.view2.read()];
    // Reference with the same draws.
    const packed = sampleBatchParams(ds.cfg, 28, 28, 42, 5, 4);
    const unpack = (v: number): ViewParams[] =>
      Array.from({ length: 4 }, (_, s) => {
        const q = packed.subarray((v * 4 + s) * 12);
        return { x0: q[0]!, y0: q[1]!, w: q[2]!, h: q[3]!, flip: q[4] === 1, brightness: q[5]!, contrast: q[6]!, contrastFirst: q[7] === 1, sigma: q[8]!, solarize: q[9] === 1 };
      });
    expect(compareViews(x1, img, 28, 28, b5.indices, unpack(0), 28)).toBeLessThan(1e-5);
    expect(compareViews(x2, img, 28, 28, b5.indices, unpack(1), 28)).toBeLessThan(1e-5);

    // Same step again, and a fresh dataset with the same seed (a resumed run): bit-identical.
    const again = ds.batch(5);
    const { ds: resumed } = dataset(gpu, 10, 28, 28, 28, 42);
    const r5 = resumed.batch(5);
    expect(r5.indices).toEqual(b5.indices);
    expect(await again.view1.read()).toEqual(x1);
    expect(await r5.view2.read()).toEqual(x2);
    // Another step, or another seed: different batches.
    const b6 = ds.batch(6);
    expect(await b6.view1.read()).not.toEqual(x1);
    const { ds: other } = dataset(gpu, 10, 28, 28, 28, 43);
    const o5 = other.batch(5);
    expect(await o5.view1.read()).not.toEqual(x1);
    // The two views differ.
    expect(x1).not.toEqual(x2);
    for (const t of [b5, again, r5, b6, o5]) {
      t.view1.release();
      t.view2.release();
    }
    for (const d of [ds, resumed, other]) d.release();
  });

  it('walks a per-epoch permutation, dropping the last partial batch', async () => {
    const gpu = await testGpu();
    const { ds } = dataset(gpu, 10, 28, 28, 28, 9);
    expect(ds.stepsPerEpoch).toBe(2);
    const e0 = [...ds.batchIndices(0), ...ds.batchIndices(1)];
    expect(new Set(e0).size).toBe(8);
    const e1 = [...ds.batchIndices(2), ...ds.batchIndices(3)];
    expect(e1).not.toEqual(e0);
    expect(ds.epochOf(3)).toBe(1);
    ds.release();
  });
});

describe('eval path', () => {
  for (const S of [28, 20]) {
    it(`normalises (and resizes to ${S}) without augmentation`, async () => {
      const gpu = await testGpu();
      const { img, ds } = dataset(gpu, 6, 28, 28, 28);
      const out = ds.evalBatch(1, 5, S);
      expect(out.shape).toEqual([5, 1, S, S]);
      const got = await out.read();
      let err = 0;
      for (let b = 0; b < 5; b++) {
        const ref = normalizeRef(img, b + 1, 28, 28, S, 0.286, 0.353);
        for (let i = 0; i < S * S; i++) err = Math.max(err, Math.abs(got[b * S * S + i]! - ref[i]!));
      }
      expect(err).toBeLessThan(1e-5);
      out.release();
      ds.release();
    });
  }

  it('rejects an output size beyond the workgroup memory limit', async () => {
    const gpu = await testGpu();
    const { ds } = dataset(gpu, 4, 28, 28, 200);
    const id = identityParams(28, 28);
    let err: unknown;
    try {
      ds.augmentWith(new Uint32Array([0]), packParams([[id], [id]]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('too-large');
    ds.release();
  });

  const real = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
  it.skipIf(!real)('serves the real training set (60000 images on the GPU)', async () => {
    const gpu = await testGpu();
    const fm = loadFashionMnist();
    const ds = new GpuDataset(gpu, fm.train, 28, 28, { seed: 0, batchSize: 256 });
    expect(ds.stepsPerEpoch).toBe(234);
    const idx = new Uint32Array([0, 31337, 59999]);
    const got = await ds.evalIndices(idx).read();
    let err = 0;
    idx.forEach((n, b) => {
      for (let i = 0; i < 784; i++) err = Math.max(err, Math.abs(got[b * 784 + i]! - (fm.train.images[n * 784 + i]! / 255 - 0.286) / 0.353));
    });
    expect(err).toBeLessThan(1e-5);
    ds.release();
  });

  it('rejects out-of-range indices', async () => {
    const gpu = await testGpu();
    const { ds } = dataset(gpu, 6, 28, 28, 28);
    expect(() => ds.evalBatch(4, 3)).toThrow(/index 6 out of range/);
    ds.release();
  });
});
