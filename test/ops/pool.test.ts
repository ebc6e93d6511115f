import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { dot, expectClose, fdGrad } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/ops/pool.js';
import * as ref from '../ref/pool.js';

const TOL = 1e-4;


describe('pool references', () => {
  const [nc, h, w] = [2, 5, 6];
  const x = Array.from(randn(nc * h * w, 5));
  it('max pool backward matches finite differences (overlapping windows too)', () => {
    for (const [k, s] of [[2, 2], [3, 2], [3, 1], [2, 3]] as const) {
      const { oh, ow } = ref.maxPoolRef(x, nc, h, w, k, s);
      const dy = randn(nc * oh * ow, 6);
      const fd = fdGrad(x, () => dot(ref.maxPoolRef(x, nc, h, w, k, s).y, dy));
      expectClose(ref.maxPoolBackwardRef(x, dy, nc, h, w, k, s), fd, 1e-6);
    }
  });
  it('avg pool backward matches finite differences', () => {
    for (const [k, s] of [[2, 2], [3, 2], [3, 1]] as const) {
      const dy = randn(nc * ref.poolOut(h, k, s) * ref.poolOut(w, k, s), 7);
      const fd = fdGrad(x, () => dot(ref.avgPoolRef(x, nc, h, w, k, s), dy));
      expectClose(ref.avgPoolBackwardRef(dy, nc, h, w, k, s), fd, 1e-6);
    }
  });
  it('global avg pool backward matches finite differences', () => {
    const dy = randn(nc, 8);
    const fd = fdGrad(x, () => dot(ref.globalAvgPoolRef(x, nc, h * w), dy));
    expectClose(ref.globalAvgPoolBackwardRef(dy, nc, h * w), fd, 1e-6);
  });
});

async function run(
  shape: [number, number, number, number],
  op: (tape: Tape, x: Tensor) => Tensor,
  expected: (x: Float32Array, dy: Float32Array) => { y: ArrayLike<number>; dx: ArrayLike<number> },
  seed: number,
) {
  const gpu = await testGpu();
  const x = randn(shape.reduce((a, b) => a * b, 1), seed);
  const tx = Tensor.from(gpu, x, shape);
  const tape = new Tape(gpu);
  tape.watch(tx);
  const y = op(tape, tx);
  const dy = randn(y.size, seed + 1);
  const seedT = Tensor.from(gpu, dy, y.shape);
  tape.backward(y, seedT);
  const e = expected(x, dy);
  expect(y.size).toBe(e.y.length);
  expectClose(await y.read(), e.y, TOL, 'y');
  expectClose(await tx.grad!.read(), e.dx, TOL, 'tx.grad');
  tape.dispose();
  for (const t of [tx, seedT, tx.grad!]) t.release();
  await gpu.checkErrors();
}

describe('pooling on the GPU', () => {
  for (const [k, s] of [[2, 2], [3, 2], [3, 1], [2, 3]] as const) {
    it(`max pool k=${k} s=${s} on [5,7,9,9]`, () =>
      run([5, 7, 9, 9], (t, x) => maxPool2d(t, x, k, s), (x, dy) => ({
        y: ref.maxPoolRef(x, 35, 9, 9, k, s).y,
        dx: ref.maxPoolBackwardRef(x, dy, 35, 9, 9, k, s),
      }), 10 + k * s));
    it(`avg pool k=${k} s=${s} on [5,7,9,9]`, () =>
      run([5, 7, 9, 9], (t, x) => avgPool2d(t, x, k, s), (x, dy) => ({
        y: ref.avgPoolRef(x, 35, 9, 9, k, s),
        dx: ref.avgPoolBackwardRef(dy, 35, 9, 9, k, s),
      }), 20 + k * s));
  }
  for (const [h, w] of [[1, 1], [3, 3], [9, 9], [17, 19]] as const) {
    it(`global avg pool on [5,7,${h},${w}]`, () =>
      run([5, 7, h, w], (t, x) => globalAvgPool(t, x), (x, dy) => ({
        y: ref.globalAvgPoolRef(x, 35, h * w),
        dx: ref.globalAvgPoolBackwardRef(dy, 35, h * w),
      }), 30 + h));
  }
});
