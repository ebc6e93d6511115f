/**
 * End to end on a small net: VicregModel's output and every parameter's gradient after one
 * backward pass, against the float64 reference (test/ref/net.ts), then one LARS step against
 * the reference update.
 */
import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { expectClose } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { VicregModel, gridWindow, type ModelConfig } from '../../src/nn/model.js';
import { Lars } from '../../src/optim/lars.js';
import { netBackwardRef, netForwardRef, type RefConv, type RefLinear } from '../ref/net.js';
import { larsStepRef } from '../ref/optim.js';

// Two conv+BN+ReLU blocks (the first strided, the second pooled), global pool, a two-layer MLP head with BN.
const CFG: ModelConfig = { inChannels: 1, conv: [[4, 3, 2, false], [6, 3, 1, true]], expander: [10, 7] };
const NB = 5;
const S = 9;

describe('VicregModel vs float64 reference', () => {
  it.each([
    ['global average pool', CFG, undefined],
    ['2x2 grid pool', { ...CFG, conv: [[4, 3, 1, true], [6, 3, 1, false]], reprGrid: 2 } as ModelConfig, { g: 2, ...gridWindow(4, 2) }],
  ])('forward, every gradient, and one LARS step (%s)', async (_name, cfg, grid) => {
    const gpu = await testGpu();
    const model = new VicregModel(gpu, cfg, 7);
    const host = new Map<string, Float32Array>();
    for (const n of model.named()) host.set(n.name, await n.t.read());
    const convs: RefConv[] = model.convs.map((c, i) => ({
      w: host.get(`encoder.${i}.conv.weight`)!,
      gamma: randn(c.bn.weight.size, 20 + i, 0.5).map((v) => v + 1),
      beta: randn(c.bn.bias.size, 30 + i, 0.3),
      cout: c.weight.shape[0]!,
      k: c.k,
      stride: c.stride,
      pad: c.pad,
      pool: c.pool,
    }));
    // Non-trivial BN affine parameters, so their gradients are exercised.
    model.convs.forEach((c, i) => {
      gpu.upload(c.bn.weight.buffer, new Float32Array(convs[i]!.gamma));
      gpu.upload(c.bn.bias.buffer, new Float32Array(convs[i]!.beta));
    });
    const lins: RefLinear[] = model.lins.map((l, i) => ({
      w: host.get(`expander.${i}.weight`)!,
      b: host.get(`expander.${i}.bias`)!,
      gamma: l.bn ? host.get(`expander.${i}.bn.weight`)! : undefined,
      beta: l.bn ? host.get(`expander.${i}.bn.bias`)! : undefined,
      nout: l.weight.shape[0]!,
    }));

    const x = randn(NB * S * S, 3);
    const dz = randn(NB * model.embDim, 9);
    const X = Tensor.from(gpu, x, [NB, 1, S, S]);
    const DZ = Tensor.from(gpu, dz, [NB, model.embDim]);
    const params = model.parameters();
    const tape = new Tape(gpu);
    tape.watch(...params);
    const repr = model.encode(tape, X, true);
    const z = model.expand(tape, repr, true);
    tape.backward(z, DZ);

    const ref = netForwardRef(x, NB, 1, S, S, convs, lins, grid);
    expect(model.reprDim).toBe(grid ? 24 : 6);
    expectClose(await repr.read(), ref.repr, 1e-4, 'repr');
    expectClose(await z.read(), ref.z, 1e-4, 'z');
    const grads = netBackwardRef(ref, dz, convs, lins);
    const names = model.named().filter((n) => !/running/.test(n.name));
    expect(names.map((n) => n.t)).toEqual(params);
    expect(grads.size).toBe(params.length);
    const gpuGrads = new Map<string, Float32Array>();
    for (const n of names) {
      const g = await n.t.grad!.read();
      gpuGrads.set(n.name, g);
      // A bias followed by BN has an exact zero gradient: compare it on an absolute scale.
      expectClose(g, grads.get(n.name)!, { rel: 2e-3, floor: 1e-2 }, n.name);
    }
    tape.dispose();

    // One LARS step (weight decay large enough to matter) against the reference update.
    const before = new Map<string, Float32Array>();
    for (const n of names) before.set(n.name, await n.t.read());
    const lr = 0.4;
    const opts = { weightDecay: 1e-2, momentum: 0.9, eta: 0.02 };
    const lars = new Lars(gpu, params, opts);
    lars.step(lr);
    for (const n of names) {
      const p0 = before.get(n.name)!;
      const r = { p: Float64Array.from(p0), ndim: n.t.shape.length };
      larsStepRef(r, gpuGrads.get(n.name)!, lr, opts);
      const after = await n.t.read();
      const dGpu = after.map((v, i) => v - p0[i]!);
      const dRef = r.p.map((v, i) => v - p0[i]!);
      // Floor: float32 rounding of p + delta when the delta is tiny (a bias before BN).
      expectClose(dGpu, dRef, { rel: 5e-3, floor: 1e-4 }, `${n.name} update`);
    }
    lars.dispose();
    for (const t of [X, DZ]) t.release();
    model.dispose();
  });
});
