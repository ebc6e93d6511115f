import { describe, expect, it } from 'vitest';
import { testGpu } from '../helpers/gpu.js';
import { Rng, defaultInitBound, initBatchNorm, initConv2d, initLinear } from '../../src/nn/init.js';

describe('parameter init (PyTorch defaults)', () => {
  it('the PRNG is deterministic per seed and uniform', () => {
    const a = new Rng(42).uniformArray(20000, 1);
    const b = new Rng(42).uniformArray(20000, 1);
    const c = new Rng(43).uniformArray(20000, 1);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const var_ = a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(var_).toBeCloseTo(1 / 3, 1.5); // U(-1, 1)
  });

  it('kaiming_uniform(a=sqrt(5)) bound is 1/sqrt(fan_in)', () => {
    const a = Math.sqrt(5);
    const gain = Math.sqrt(2 / (1 + a * a));
    expect(defaultInitBound(27)).toBeCloseTo((Math.sqrt(3) * gain) / Math.sqrt(27), 12);
  });

  it('conv, linear and batch-norm tensors have PyTorch layouts and ranges', async () => {
    const gpu = await testGpu();
    const rng = new Rng(7);
    const conv = initConv2d(gpu, rng, 16, 3, 3);
    expect(conv.weight.shape).toEqual([16, 3, 3, 3]);
    expect(conv.bias!.shape).toEqual([16]);
    const w = await conv.weight.read();
    const bound = 1 / Math.sqrt(27);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...(await conv.bias!.read()).map(Math.abs))).toBeLessThanOrEqual(bound);

    const lin = initLinear(gpu, rng, 10, 50, false);
    expect(lin.weight.shape).toEqual([10, 50]);
    expect(lin.bias).toBeNull();
    expect(Math.max(...(await lin.weight.read()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(50));

    const again = initConv2d(gpu, new Rng(7), 16, 3, 3);
    expect(await again.weight.read()).toEqual(w);

    const bn = initBatchNorm(gpu, 5);
    expect([...(await bn.weight.read())]).toEqual([1, 1, 1, 1, 1]);
    expect([...(await bn.bias.read())]).toEqual([0, 0, 0, 0, 0]);
    expect([...(await bn.runningMean.read())]).toEqual([0, 0, 0, 0, 0]);
    expect([...(await bn.runningVar.read())]).toEqual([1, 1, 1, 1, 1]);
    for (const t of [conv.weight, conv.bias!, lin.weight, again.weight, again.bias!, ...Object.values(bn)]) t.release();
  });
});
