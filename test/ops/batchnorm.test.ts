import { describe, expect, it } from 'vitest';
import { testGpu, randn, relMaxErr } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { batchNorm } from '../../src/ops/batchnorm.js';
import { bnBackwardRef, bnForwardRef } from '../ref/batchnorm.js';

const TOL = 1e-4;


async function check(shape: number[], o: { training: boolean; relu: boolean }, seed = 1) {
  const gpu = await testGpu();
  const [n, c] = [shape[0]!, shape[1]!];
  const s = shape.slice(2).reduce((a, b) => a * b, 1);
  const total = n * c * s;
  // Offset inputs: a non-zero mean exercises the shifted variance.
  const x = randn(total, seed, 2).map((v) => v + 3);
  const dy = randn(total, seed + 1);
  const gamma = randn(c, seed + 2).map((v) => 1 + 0.5 * v);
  const beta = randn(c, seed + 3, 0.5);
  const rm = randn(c, seed + 4);
  const rv = randn(c, seed + 5).map((v) => 1 + 0.5 * v);
  const tx = Tensor.from(gpu, x, shape);
  const bn = {
    weight: Tensor.from(gpu, gamma, [c]),
    bias: Tensor.from(gpu, beta, [c]),
    runningMean: Tensor.from(gpu, rm, [c]),
    runningVar: Tensor.from(gpu, rv, [c]),
  };
  const tape = new Tape(gpu);
  tape.watch(tx, bn.weight, bn.bias);
  const y = batchNorm(tape, tx, bn, o);
  const seedT = Tensor.from(gpu, dy, shape);
  tape.backward(y, seedT);
  const ref = bnForwardRef(x, n, c, s, gamma, beta, rm, rv, o);
  const bref = bnBackwardRef(x, dy, n, c, s, gamma, beta, rm, rv, o);
  expect(relMaxErr(await y.read(), ref.y)).toBeLessThan(TOL);
  expect(relMaxErr(await tx.grad!.read(), bref.dx)).toBeLessThan(TOL);
  expect(relMaxErr(await bn.weight.grad!.read(), bref.dgamma)).toBeLessThan(TOL);
  expect(relMaxErr(await bn.bias.grad!.read(), bref.dbeta)).toBeLessThan(TOL);
  expect(relMaxErr(await bn.runningMean.read(), ref.runningMean)).toBeLessThan(TOL);
  expect(relMaxErr(await bn.runningVar.read(), ref.runningVar)).toBeLessThan(TOL);
  tape.dispose();
  for (const t of [tx, seedT, bn.weight, bn.bias, bn.runningMean, bn.runningVar, tx.grad!, bn.weight.grad!, bn.bias.grad!]) t.release();
  await gpu.checkErrors();
}

describe('batch norm reference', () => {
  it('matches finite differences', () => {
    const [n, c, s] = [3, 2, 4];
    const x = Array.from(randn(n * c * s, 11, 2));
    const dy = Array.from(randn(n * c * s, 12));
    const gamma = [1.3, -0.7];
    const beta = [0.2, 0.4];
    const rm = [0.1, -0.3];
    const rv = [0.8, 1.6];
    for (const training of [true, false]) {
      for (const relu of [false, true]) {
        const o = { training, relu };
        const loss = (xx: number[], g: number[], b: number[]) =>
          bnForwardRef(xx, n, c, s, g, b, rm, rv, o).y.reduce((a, v, i) => a + v * dy[i]!, 0);
        const an = bnBackwardRef(x, dy, n, c, s, gamma, beta, rm, rv, o);
        const h = 1e-6;
        const fd = (arr: number[], i: number, f: () => number) => {
          const v = arr[i]!;
          arr[i] = v + h;
          const up = f();
          arr[i] = v - h;
          const dn = f();
          arr[i] = v;
          return (up - dn) / (2 * h);
        };
        const L = () => loss(x, gamma, beta);
        expect(relMaxErr(x.map((_, i) => fd(x, i, L)), an.dx)).toBeLessThan(1e-5);
        expect(relMaxErr(gamma.map((_, i) => fd(gamma, i, L)), an.dgamma)).toBeLessThan(1e-5);
        expect(relMaxErr(beta.map((_, i) => fd(beta, i, L)), an.dbeta)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('batch norm on the GPU', () => {
  it('2-D training, forward/backward/running stats', () => check([5, 7, 9, 9], { training: true, relu: false }));
  it('2-D training with fused ReLU', () => check([5, 7, 9, 9], { training: true, relu: true }, 2));
  it('2-D several chunks per channel', () => check([9, 3, 31, 31], { training: true, relu: true }, 3));
  it('2-D eval mode uses running stats', () => check([5, 7, 9, 9], { training: false, relu: true }, 4));
  it('1-D training', () => check([5, 7], { training: true, relu: false }, 5));
  it('1-D several chunks, fused ReLU', () => check([300, 37], { training: true, relu: true }, 6));
  it('1-D eval', () => check([13, 70], { training: false, relu: false }, 7));
  // vec4 element-wise paths: S % 4 == 0 (lanes share a channel), S == 1 with C % 4 == 0 (lanes are channels)
  it('2-D vec4 path (H*W % 4 == 0), several chunks, fused ReLU', () => check([11, 5, 20, 20], { training: true, relu: true }, 8));
  it('2-D vec4 path, plain and eval', async () => {
    await check([5, 7, 4, 8], { training: true, relu: false }, 9);
    await check([3, 5, 6, 6], { training: false, relu: true }, 10);
  });
  it('1-D vec4 path (C % 4 == 0)', async () => {
    await check([29, 36], { training: true, relu: true }, 11);
    await check([7, 12], { training: false, relu: false }, 12);
    await check([130, 8], { training: true, relu: false }, 13);
  });

  it('running stats follow PyTorch over steps', async () => {
    const gpu = await testGpu();
    const [n, c] = [6, 5];
    const bn = {
      weight: Tensor.from(gpu, new Float32Array(c).fill(1), [c]),
      bias: Tensor.zeros(gpu, [c]),
      runningMean: Tensor.zeros(gpu, [c]),
      runningVar: Tensor.from(gpu, new Float32Array(c).fill(1), [c]),
    };
    let rm: Float64Array = new Float64Array(c);
    let rv: Float64Array = new Float64Array(c).fill(1);
    for (let step = 0; step < 3; step++) {
      const x = randn(n * c, 20 + step, 3);
      const tx = Tensor.from(gpu, x, [n, c]);
      batchNorm(null, tx, bn).release();
      const ref = bnForwardRef(x, n, c, 1, new Float64Array(c).fill(1), new Float64Array(c), rm, rv, { training: true, relu: false });
      rm = ref.runningMean;
      rv = ref.runningVar;
      tx.release();
    }
    expect(relMaxErr(await bn.runningMean.read(), rm)).toBeLessThan(TOL);
    expect(relMaxErr(await bn.runningVar.read(), rv)).toBeLessThan(TOL);
    for (const t of Object.values(bn)) t.release();
  });
});
