import { describe, expect, it } from 'vitest';
import { testGpu, randn, relMaxErr } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { relu } from '../../src/ops/activation.js';
import { reluBackwardRef, reluRef } from '../ref/pool.js';

describe('relu', () => {
  it('reference backward matches finite differences', () => {
    const x = Array.from(randn(50, 3));
    const dy = randn(50, 4);
    const an = reluBackwardRef(x, dy);
    const h = 1e-7;
    const fd = x.map((v, i) => ((Math.max(v + h, 0) - Math.max(v - h, 0)) / (2 * h)) * dy[i]!);
    expect(relMaxErr(fd, an)).toBeLessThan(1e-6);
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
    expect(relMaxErr(await y.read(), reluRef(x))).toBe(0);
    expect(relMaxErr(await tx.grad!.read(), reluBackwardRef(x, dy))).toBe(0);
    tape.dispose();
    for (const t of [tx, seed, tx.grad!]) t.release();
    await gpu.checkErrors();
  });
});
