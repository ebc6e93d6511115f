import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { expectClose, fdGrad } from '../helpers/check.js';
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
  expectClose(await y.read(), ref.y, TOL, 'y');
  expectClose(await tx.grad!.read(), bref.dx, TOL, 'tx.grad');
  expectClose(await bn.weight.grad!.read(), bref.dgamma, TOL, 'bn.weight.grad');
  expectClose(await bn.bias.grad!.read(), bref.dbeta, TOL, 'bn.bias.grad');
  expectClose(await bn.runningMean.read(), ref.runningMean, TOL, 'bn.runningMean');
  expectClose(await bn.runningVar.read(), ref.runningVar, TOL, 'bn.runningVar');
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
        const L = () => loss(x, gamma, beta);
        expectClose(fdGrad(x, L), an.dx, 1e-5, 'dx vs central differences');
        expectClose(fdGrad(gamma, L), an.dgamma, 1e-5, 'dgamma vs central differences');
        expectClose(fdGrad(beta, L), an.dbeta, 1e-5, 'dbeta vs central differences');
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
    expectClose(await bn.runningMean.read(), rm, TOL, 'bn.runningMean');
    expectClose(await bn.runningVar.read(), rv, TOL, 'bn.runningVar');
    for (const t of Object.values(bn)) t.release();
  });
});
