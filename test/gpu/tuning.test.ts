/**
 * The kernel-family switch: VICREG_TUNING and createGpu({ tuning }) resolve as documented
 * (an explicit option wins, 'auto' follows the adapter, bad values are one-line InputErrors),
 * and the CPU family still works on a device without subgroups (plain CPU matmul loop).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Gpu, createGpu, requestedTuning } from '../../src/gpu/device.js';
import { InputError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor.js';
import { matmul } from '../../src/ops/matmul.js';
import { MATMUL_CORE, cpuSubgroups, matmulCore, matmulTiles } from '../../src/ops/matmul-core.js';
import { convAlgo, convGeometry } from '../../src/ops/conv.js';
import { vicregLossHost } from '../../src/vicreg/loss.js';
import { matmulRef } from '../ref/linear.js';
import { vicregRef } from '../ref/vicreg.js';
import { expectClose, expectRel } from '../helpers/check.js';
import { randn, testGpu } from '../helpers/gpu.js';

const saved = process.env.VICREG_TUNING;
afterEach(() => {
  if (saved === undefined) delete process.env.VICREG_TUNING;
  else process.env.VICREG_TUNING = saved;
});

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('no error thrown');
}

describe('tuning resolution', () => {
  it('option beats VICREG_TUNING, which beats auto; empty means unset', () => {
    // (the second argument stands for VICREG_TUNING; '' = unset)
    expect(requestedTuning(undefined, '')).toBe('auto');
    expect(requestedTuning('auto', '')).toBe('auto');
    expect(requestedTuning(undefined, 'gpu')).toBe('gpu');
    expect(requestedTuning('auto', 'cpu')).toBe('cpu');
    expect(requestedTuning('cpu', 'gpu')).toBe('cpu');
    expect(requestedTuning('gpu', '')).toBe('gpu');
    process.env.VICREG_TUNING = 'gpu';
    expect(requestedTuning()).toBe('gpu'); // read from the environment by default
  });

  it('a bad value is a one-line bad-option InputError, even when an option is given', async () => {
    const e1 = inputError(() => requestedTuning(undefined, 'fast'));
    expect(e1.code).toBe('bad-option');
    expect(e1.message).toBe("VICREG_TUNING must be auto, gpu or cpu, got 'fast'");
    expect(inputError(() => requestedTuning('cpu', 'GPU')).message).toContain('VICREG_TUNING');
    expect(inputError(() => requestedTuning('software', '')).message).toContain("'software'");
    process.env.VICREG_TUNING = 'fastest';
    await expect(createGpu()).rejects.toThrow(/^VICREG_TUNING must be auto, gpu or cpu, got 'fastest'$/);
  });

  it("auto follows the adapter ('cpu' on a software adapter); a caller's device takes the option", async () => {
    const base = await testGpu();
    const auto = new Gpu(base.device, base.adapterName, 'auto');
    expect(auto.tuning).toBe(base.isSoftware ? 'cpu' : 'gpu');
    if (/llvmpipe|lavapipe/.test(base.adapterName)) expect(auto.tuning).toBe('cpu');
    for (const tuning of ['cpu', 'gpu'] as const) {
      const g = await createGpu({ device: base.device, tuning });
      expect(g.tuning).toBe(tuning);
      // Every choice follows gpu.tuning: tiles and loop, subgroup broadcast, conv algorithm.
      expect(!!matmulTiles(g).MM_CPU).toBe(tuning === 'cpu');
      expect(convAlgo(g, convGeometry([2, 3, 9, 9], [4, 3, 3, 3], 1, 1))).toBe(tuning === 'cpu' ? 'im2col' : 'implicit');
      if (tuning === 'gpu') expect(cpuSubgroups(g)).toBe(false);
    }
  });
});

// Dawn instances must stay reachable for the life of the process (docs/gpu-notes.md).
const keep: unknown[] = [];

describe('CPU family on a device without subgroups', () => {
  it('takes the plain CPU loop and matches the references (matmul with vec4 hooks, VICReg loss)', async () => {
    await testGpu(); // installs Dawn's globals
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
    const inst = dawn.create([]);
    keep.push(inst);
    const adapter = (await inst.requestAdapter())!;
    const device = await adapter.requestDevice({ label: 'no-subgroups' }); // no features requested
    keep.push(device);
    const gpu = await createGpu({ device, adapterName: 'no-subgroups', tuning: 'cpu' });
    expect(gpu.hasFeature('subgroups' as GPUFeatureName)).toBe(false);
    expect(cpuSubgroups(gpu)).toBe(false);
    expect(matmulCore(gpu)).toBe(MATMUL_CORE);

    // Full and edge tiles, vec4 A and B views, a K remainder after the groups of 4.
    const [M, N, K] = [40, 260, 47];
    const a = randn(M * K, 1);
    const b = randn(K * N, 2);
    const C = matmul(gpu, Tensor.from(gpu, a, [M, K]), Tensor.from(gpu, b, [K, N]));
    expectClose(await C.read(), matmulRef(a, b, M, N, K), 1e-5, 'C');

    const [n, d] = [17, 33];
    const z1 = randn(n * d, 3);
    const z2 = randn(n * d, 4);
    const r = vicregRef(z1, z2, n, d);
    const got = await vicregLossHost(gpu, z1, z2, n, d, { form: 'cov' });
    expectRel(got.loss, r.loss, 1e-4, 'loss');
    expectClose(got.gradZ1, r.g1, 1e-3, 'gradZ1');
    await gpu.checkErrors();
  });
});
