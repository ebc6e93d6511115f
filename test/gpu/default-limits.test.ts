/**
 * A device with WebGPU's default limits (requested from Dawn's adapter with no requiredLimits,
 * as a web page gets one) wrapped with createGpu({ device }): the loss in both forms, matmul
 * and conv against the float64 references, and training steps of the smoke net and a
 * grid-pooled net (conv, BN, ReLU, max/avg pools, linear, the loss, LARS) against the same
 * steps on the engine's own device. Also: createGpu asks only for the limits the engine reads,
 * and refuses a caller's device below them with a GpuLimitError naming the limit.
 * (`VICREG_LIMITS=default` runs any test file on such a device.)
 */
import { describe, expect, it } from 'vitest';
import { createGpu, type Gpu } from '../../src/gpu/device.js';
import { dawnAdapter } from '../../src/gpu/dawn.js';
import { GpuLimitError } from '../../src/gpu/errors.js';
import { ADAPTIVE_LIMITS, REQUIRED_LIMITS } from '../../src/gpu/limits.js';
import * as engine from '../../src/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { testGpu } from '../helpers/gpu.js';
import { expectClose, relErr } from '../helpers/check.js';
import { vicregRef, fixedVector } from '../ref/vicreg.js';
import { matmulRef } from '../ref/linear.js';
import { convBackwardRef, convForwardRef } from '../ref/conv.js';
import { CONV, MATMUL, convCase, lossCases, matmulCase, rand, smokeSteps, views, type SmokeConfig } from '../browser/cases.js';

let dflt: Promise<{ gpu: Gpu; device: GPUDevice }> | null = null;
function defaultGpu(): Promise<{ gpu: Gpu; device: GPUDevice }> {
  return (dflt ??= (async () => {
    const { adapter, name } = await dawnAdapter();
    const device = await adapter.requestDevice(); // no requiredLimits: WebGPU's defaults
    const base = await testGpu();
    return { gpu: await createGpu({ device, adapterName: name, tuning: base.tuning }), device };
  })());
}

const cfg = resolveConfig('smoke');
const SMOKE: SmokeConfig = {
  model: cfg.model,
  batchSize: cfg.batchSize,
  seed: cfg.seed,
  baseLr: cfg.baseLr,
  weightDecay: cfg.weightDecay,
  larsEta: cfg.larsEta,
  lambda: cfg.lambda,
  mu: cfg.mu,
  nu: cfg.nu,
  size: 16,
};

// A hang guard, not a time target: a default-limits device has no subgroups, so CPU tuning compiles
// the matmul loop without broadcasts, which LLVM takes tens of seconds per kernel for when the Mesa
// shader cache is cold (docs/gpu-notes.md).
describe('a device with WebGPU default limits', { timeout: 600_000 }, () => {
  it('has the defaults (256 invocations, 16 KiB workgroup memory, 8 storage buffers, 128 MiB bindings)', async () => {
    const { device } = await defaultGpu();
    for (const [k, v] of Object.entries(REQUIRED_LIMITS)) expect((device.limits as unknown as Record<string, number>)[k], k).toBe(v);
  });

  it('computes the fixed vector, and the loss and both gradients in both forms', async () => {
    const { gpu } = await defaultGpu();
    // Two shapes (lavapipe compiles each new specialisation for seconds); the browser test has more.
    const r = await lossCases(engine, gpu, [[17, 33], [40, 300]]);
    const FIXED = [9.231594724112, 0.046767574516, 0.266035889544, 1.411508122613];
    for (const t of r.fixed) [t.loss, t.invariance, t.variance, t.covariance].forEach((v, i) => expect(relErr(v, FIXED[i]!), `${t.form} term ${i}`).toBeLessThan(1e-5));
    expect(vicregRef(fixedVector().a, fixedVector().b, 8, 4).loss).toBeCloseTo(FIXED[0]!, 5);
    for (const s of r.shapes) {
      const { z1, z2 } = views(s.n, s.d, s.n * 31 + s.d);
      const ref = vicregRef(z1, z2, s.n, s.d);
      expect(relErr(s.loss, ref.loss), `${s.n}x${s.d} ${s.form} loss`).toBeLessThan(1e-4);
      expectClose(s.g1, ref.g1, 1e-3, `${s.n}x${s.d} ${s.form} gradZ1`);
      expectClose(s.g2, ref.g2, 1e-3, `${s.n}x${s.d} ${s.form} gradZ2`);
    }
  });

  it('runs a matmul and a conv forward/backward', async () => {
    const { gpu } = await defaultGpu();
    const { M, N, K } = MATMUL;
    expectClose(await matmulCase(engine, gpu), matmulRef(rand(M * K, 11), rand(K * N, 12), M, N, K), 1e-5, 'matmul');
    const c = await convCase(engine, gpu);
    const s = CONV;
    const x = rand(s.nb * s.cin * s.h * s.w, 21);
    const w = rand(s.cout * s.cin * s.k * s.k, 22);
    const y = convForwardRef(s, x, w, rand(s.cout, 23));
    const back = convBackwardRef(s, x, w, rand(y.length, 24));
    expectClose(c.y, y, 1e-4, 'conv y');
    expectClose(c.dx, back.dx, 1e-4, 'conv dx');
    expectClose(c.dw, back.dw, 1e-4, 'conv dw');
    expectClose(c.db, back.db, 1e-4, 'conv db');
  });

  it.each([
    ['smoke net', SMOKE],
    ['2x2 grid-pooled net', { ...SMOKE, model: { ...SMOKE.model, conv: [[8, 3, 1, true], [16, 3, 1, false]], reprGrid: 2 } } as SmokeConfig],
  ])('trains the %s as the engine’s own device does', async (_name, c) => {
    const { gpu } = await defaultGpu();
    const own = await smokeSteps(engine, await testGpu(), c, 3);
    const got = await smokeSteps(engine, gpu, c, 3);
    for (let i = 0; i < own.length; i++) expectClose(got[i]!, own[i]!, 1e-5, `step ${i + 1} terms`);
    expect(new Set(got.map((t) => t[0])).size).toBe(3);
  });
});

describe('the limits createGpu asks for', () => {
  it('asks for the adapter’s value of the limits the engine reads and leaves the rest at the default', async () => {
    const gpu = await testGpu();
    const { adapter } = await dawnAdapter();
    const have = adapter.limits as unknown as Record<string, number>;
    const got = gpu.limits as unknown as Record<string, number>;
    for (const k of ADAPTIVE_LIMITS) expect(got[k], k).toBe(have[k]);
    // Not read by the engine, so not asked for: the default (lavapipe offers more).
    expect(got.maxDynamicStorageBuffersPerPipelineLayout).toBe(4);
    expect(got.maxBindGroups).toBe(4);
  });

  it('refuses a caller’s device below the engine’s needs with a GpuLimitError naming the limit', async () => {
    const { device } = await defaultGpu();
    const limits = { ...REQUIRED_LIMITS, maxComputeInvocationsPerWorkgroup: 128 };
    const small = { limits, features: device.features } as unknown as GPUDevice;
    const err = await createGpu({ device: small }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuLimitError);
    expect(err).toMatchObject({ limit: 'maxComputeInvocationsPerWorkgroup', needed: 256, actual: 128 });
    expect((err as Error).message).toMatch(/maxComputeInvocationsPerWorkgroup = 128.*at least 256/);
  });
});
