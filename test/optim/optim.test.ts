import { describe, expect, it } from 'vitest';
import { testGpu, randn, relMaxErr } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import type { Gpu } from '../../src/gpu/device.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { Lars } from '../../src/optim/lars.js';
import { Sgd } from '../../src/optim/sgd.js';
import { AdamW } from '../../src/optim/adamw.js';
import { adamwStepRef, larsStepRef, sgdStepRef, type RefParam } from '../ref/optim.js';

const TOL = 1e-4;

interface Case {
  shapes: number[][];
  /** parameter indices initialised to zero (LARS: |p| = 0) */
  zeroParams?: number[];
  /** parameter indices whose step-0 gradient is zero (|dp| = 0 without decay) */
  zeroGradAtStart?: number[];
  /** parameter indices that get no gradient at all (skipped, as PyTorch) */
  noGrad?: number[];
  lrs: number[];
  lrOnGpu?: boolean;
}

async function run(
  c: Case,
  make: (gpu: Gpu, params: Tensor[]) => Optimizer,
  refStep: (x: RefParam, g: Float32Array, lr: number, t: number) => void,
) {
  const gpu = await testGpu();
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const init = c.shapes.map((s, i) => (c.zeroParams?.includes(i) ? new Float32Array(size(s)) : randn(size(s), 100 + i)));
  const params = c.shapes.map((s, i) => Tensor.from(gpu, init[i]!, s));
  const refs: RefParam[] = c.shapes.map((s, i) => ({ p: Float64Array.from(init[i]!), ndim: s.length }));
  const opt = make(gpu, params);
  c.lrs.forEach((lr, t) => {
    params.forEach((p, i) => {
      if (c.noGrad?.includes(i)) return;
      const g = t === 0 && c.zeroGradAtStart?.includes(i) ? new Float32Array(p.size) : randn(p.size, 1000 * t + i + 1);
      p.grad = Tensor.from(gpu, g, p.shape);
      refStep(refs[i]!, g, lr, t + 1);
    });
    const lrT = c.lrOnGpu ? Tensor.from(gpu, new Float32Array([lr]), [1]) : null;
    opt.step(lrT ?? lr);
    lrT?.release();
    opt.zeroGrad();
  });
  for (let i = 0; i < params.length; i++) {
    const got = await params[i]!.read();
    // Compare the change, not the value: a LARS step is small next to |p|.
    const dGot = got.map((v, j) => v - init[i]![j]!);
    const dRef = refs[i]!.p.map((v, j) => v - init[i]![j]!);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(relMaxErr(dGot, dRef), `param ${i} [${c.shapes[i]}]`).toBeLessThan(TOL);
    const st = opt.stateFor(params[i]!);
    if (c.noGrad?.includes(i)) {
      expect(st).toBeUndefined();
      expect(refs[i]!.s).toBeUndefined();
      continue;
    }
    for (let k = 0; k < (refs[i]!.s?.length ?? 0); k++) {
      expect(relMaxErr(await st![k]!.read(), refs[i]!.s![k]!), `state ${k} of param ${i}`).toBeLessThan(TOL);
    }
  }
  opt.dispose();
  for (const p of params) p.release();
  await gpu.checkErrors();
}

const SHAPES = [[7, 5, 3, 3], [7], [13], [300, 40], [4, 6], [5, 3]];

describe('LARS (main_vicreg.py)', () => {
  it('3 steps: weights adapted with decay, 1-D params plain, |p| = 0 gives trust 1', () =>
    run({ shapes: SHAPES, zeroParams: [4], noGrad: [5], lrs: [0.5, 5, 2] }, (g, p) => new Lars(g, p), (x, g, lr) => larsStepRef(x, g, lr)));

  it('3 steps without decay, |dp| = 0 at the start, lr from a GPU tensor, other eta/momentum', () => {
    const o = { weightDecay: 0, eta: 0.02, momentum: 0.8 };
    return run(
      { shapes: SHAPES, zeroGradAtStart: [0, 1, 5], lrs: [0.3, 1, 0.7], lrOnGpu: true },
      (g, p) => new Lars(g, p, o),
      (x, g, lr) => larsStepRef(x, g, lr, o),
    );
  });
});

describe('SGD (torch.optim.SGD)', () => {
  it('momentum, dampening, weight decay over 3 steps', () => {
    const o = { momentum: 0.9, dampening: 0.1, weightDecay: 1e-2 };
    return run({ shapes: SHAPES, noGrad: [2], lrs: [0.1, 0.05, 0.2] }, (g, p) => new Sgd(g, p, o), (x, g, lr) => sgdStepRef(x, g, lr, o));
  });
  it('nesterov, lr on the GPU', () => {
    const o = { momentum: 0.9, nesterov: true };
    return run({ shapes: SHAPES, lrs: [0.1, 0.05, 0.2], lrOnGpu: true }, (g, p) => new Sgd(g, p, o), (x, g, lr) => sgdStepRef(x, g, lr, o));
  });
  it('plain SGD without momentum', () =>
    run({ shapes: SHAPES, lrs: [0.1, 0.3, 0.2] }, (g, p) => new Sgd(g, p), (x, g, lr) => sgdStepRef(x, g, lr)));
});

describe('AdamW (torch.optim.AdamW)', () => {
  it('defaults over 3 steps with bias correction', () =>
    run({ shapes: SHAPES, lrs: [1e-2, 3e-2, 2e-2] }, (g, p) => new AdamW(g, p), (x, g, lr, t) => adamwStepRef(x, g, lr, t)));
  it('custom betas, decay, lr on the GPU', () => {
    const o = { betas: [0.8, 0.99] as [number, number], eps: 1e-6, weightDecay: 0.1 };
    return run(
      { shapes: SHAPES, lrs: [1e-2, 3e-2, 2e-2], lrOnGpu: true },
      (g, p) => new AdamW(g, p, o),
      (x, g, lr, t) => adamwStepRef(x, g, lr, t, o),
    );
  });
});
