// The fused GPU loss against the float64 reference, for both forms and both conventions.
import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { expectClose, expectRel } from '../helpers/check.js';
import { vicregRef, fixedVector, type RefResult } from '../ref/vicreg.js';
import { Tensor } from '../../src/tensor.js';
import { vicregLoss, vicregLossHost, chooseForm } from '../../src/vicreg/loss.js';

/** Views whose columns have different spreads, so some hinge terms are active and some not. */
function views(n: number, d: number, seed: number): { z1: Float32Array; z2: Float32Array } {
  const z1 = randn(n * d, seed);
  const noise = randn(n * d, seed + 1000);
  const z2 = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const s = [0.6, 1.9, 3.1][j % 3]!;
      z1[i * d + j]! *= s;
      z2[i * d + j] = 0.8 * z1[i * d + j]! + 0.5 * noise[i * d + j]!;
    }
  return { z1, z2 };
}

const SHAPES: Array<[number, number]> = [[2, 1], [2, 2], [3, 5], [8, 4], [17, 33], [64, 512], [1024, 256], [1000, 300], [130, 260], [256, 2048]];

describe('fused VICReg loss on the GPU', () => {
  for (const [n, d] of SHAPES) {
    const { z1, z2 } = views(n, d, n * 31 + d);
    const refs = new Map<string, RefResult>();
    const ref = (convention: 'official' | 'paper') => {
      if (!refs.has(convention)) refs.set(convention, vicregRef(z1, z2, n, d, { convention }));
      return refs.get(convention)!;
    };
    for (const convention of ['official', 'paper'] as const)
      for (const form of ['cov', 'gram'] as const)
        it(`(${n}, ${d}) ${form} ${convention}`, async (ctx) => {
          const gpu = await testGpu();
          // The shared-memory loop on a CPU adapter (barriers are coroutine switches) takes
          // ~100 s for the 2048 x 2048 products; the other shapes cover the same kernels.
          if (gpu.tuning === 'gpu' && gpu.isSoftware && form === 'cov' && d >= 2048) ctx.skip();
          const r = ref(convention);
          const got = await vicregLossHost(gpu, z1, z2, n, d, { convention, form });
          expect(got.form).toBe(form);
          expectRel(got.loss, r.loss, 1e-4, 'loss');
          expectRel(got.invariance, r.invariance, 1e-4, 'invariance');
          // The variance term can be exactly 0 when every column's std is above γ.
          if (r.variance > 1e-6) expectRel(got.variance, r.variance, 1e-4, 'variance');
          else expect(Math.abs(got.variance)).toBeLessThan(1e-6);
          expectRel(got.covariance, r.covariance, 1e-4, 'covariance');
          expectClose(got.gradZ1, r.g1, 1e-3, 'gradZ1');
          expectClose(got.gradZ2, r.g2, 1e-3, 'gradZ2');
        });
  }

  it('reproduces the fixed vector from the issue (official convention)', async () => {
    const gpu = await testGpu();
    const { a, b } = fixedVector();
    for (const form of ['cov', 'gram'] as const) {
      const got = await vicregLossHost(gpu, a, b, 8, 4, { form });
      expectRel(got.loss, 9.231594724112, 1e-5, 'loss');
      expectRel(got.invariance, 0.046767574516, 1e-5, 'invariance');
      expectRel(got.variance, 0.266035889544, 1e-5, 'variance');
      expectRel(got.covariance, 1.411508122613, 1e-5, 'covariance');
    }
  });

  it('auto picks the Gram form when n < d and the covariance form otherwise', () => {
    expect(chooseForm(256, 2048)).toBe('gram');
    expect(chooseForm(1024, 256)).toBe('cov');
    expect(chooseForm(512, 512)).toBe('cov');
  });

  it('records loss and gradients in one submit, without reading back', async () => {
    const gpu = await testGpu();
    const { z1, z2 } = views(17, 33, 5);
    const t1 = Tensor.from(gpu, z1, [17, 33]);
    const t2 = Tensor.from(gpu, z2, [17, 33]);
    gpu.flush();
    const before = { submits: gpu.submitCount, dispatches: gpu.dispatchCount };
    const res = vicregLoss(gpu, t1, t2);
    expect(gpu.submitCount).toBe(before.submits);
    expect(gpu.dispatchCount - before.dispatches).toBe(4);
    const terms = await res.read();
    expect(gpu.submitCount).toBe(before.submits + 1);
    expectRel(terms.loss, vicregRef(z1, z2, 17, 33).loss, 1e-4, 'loss');
    res.release();
  });
});
