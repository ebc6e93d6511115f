import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { dot, expectClose, fdGrad } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { relu } from '../../src/ops/activation.js';
import { reluBackwardRef, reluRef } from '../ref/pool.js';

describe('relu', () => {
  it('reference backward matches finite differences', () => {
    const x = Array.from(randn(50, 3));
    const dy = randn(50, 4);
    const an = reluBackwardRef(x, dy);
    const fd = fdGrad(x, () => dot(reluRef(x), dy), 1e-7);
    expectClose(fd, an, 1e-6, 'relu backward vs central differences');
  });

  it('forward and backward match the reference', async () => {
    const gpu = await testGpu();
    const shape = [5, 7, 9, 9];
    const n = 5 * 7 * 9 * 9;
    const x = randn(n, 1);
    x[0] = 0; // at 0 the gradient is 0 (PyTorch)
    const dy = randn(n, 2);
    const tx = Tensor.from(gpu, x, shape);
    const tape = new Tape(gpu);
    tape.watch(tx);
    const y = relu(tape, tx);
    const seed = Tensor.from(gpu, dy, shape);
    tape.backward(y, seed);
    expectClose(await y.read(), reluRef(x), 0, 'y');
    expectClose(await tx.grad!.read(), reluBackwardRef(x, dy), 0, 'tx.grad');
    tape.dispose();
    for (const t of [tx, seed, tx.grad!]) t.release();
    await gpu.checkErrors();
  });
});
