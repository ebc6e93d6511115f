import { describe, expect, it } from 'vitest';
import { randn, testGpu } from '../helpers/gpu.js';
import { expectClose, fdGrad, pick } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { linear, linearForward, linearInputGrad, linearWeightGrad } from '../../src/ops/linear.js';
import { linearBackwardRef, linearForwardRef } from '../ref/linear.js';

const TOL = 1e-4;

describe('linear reference (finite differences)', () => {
  it('gradients of sum(gy * relu(x W^T + b)) match central differences', () => {
    const [batch, nin, nout] = [3, 4, 5];
    const x = Array.from(randn(batch * nin, 1));
    const w = Array.from(randn(nout * nin, 2));
    const b = Array.from(randn(nout, 3));
    const gy = Array.from(randn(batch * nout, 4));
    const f = () => linearForwardRef(x, w, b, batch, nin, nout, true).reduce((a, v, i) => a + v * gy[i]!, 0);
    const y = linearForwardRef(x, w, b, batch, nin, nout, true);
    const { dx, dw, db } = linearBackwardRef(x, w, gy, y, batch, nin, nout);
    const every = (n: number, step: number) => Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
    // abs 5e-7: what toBeCloseTo(v, 6) allowed per element
    for (const [arr, grad, idx, what] of [[x, dx, every(x.length, 3), 'dx'], [w, dw, every(w.length, 4), 'dw'], [b, db, every(b.length, 1), 'db']] as const)
      expectClose(fdGrad(arr, f, 1e-6, idx), pick(grad, idx), { abs: 5e-7 }, `${what} vs central differences`);
  });
});

describe('linear on the GPU vs float64 reference', () => {
  // [40, 260, 132] and [36, 256, 130] have full CPU tiles whose leading dimensions are (or,
  // for nout = 130, are not) multiples of 4: the CPU loop's vec4 hooks and the scalar path.
  for (const [batch, nin, nout] of [[37, 29, 13], [5, 130, 67], [40, 260, 132], [36, 256, 130]] as const)
    for (const relu of [false, true])
      for (const bias of [true, false])
        it(`batch=${batch} in=${nin} out=${nout} relu=${relu} bias=${bias}`, async () => {
          const gpu = await testGpu();
          const x = randn(batch * nin, 1);
          const w = randn(nout * nin, 2);
          const b = bias ? randn(nout, 3) : null;
          const gy = randn(batch * nout, 4);
          const X = Tensor.from(gpu, x, [batch, nin]);
          const W = Tensor.from(gpu, w, [nout, nin]);
          const B = b ? Tensor.from(gpu, b, [nout]) : undefined;
          const GY = Tensor.from(gpu, gy, [batch, nout]);
          const Y = linearForward(gpu, X, W, B, { relu });
          const yRef = linearForwardRef(x, w, b, batch, nin, nout, relu);
          expectClose(await Y.read(), yRef, TOL, 'Y');
          const mask = relu ? Y : undefined;
          const DX = linearInputGrad(gpu, GY, W, mask);
          const { dW, db } = linearWeightGrad(gpu, GY, X, nout, bias, mask);
          // The mask is where the GPU's y > 0; use the same y for the reference.
          const ref = linearBackwardRef(x, w, gy, relu ? await Y.read() : null, batch, nin, nout);
          expectClose(await DX.read(), ref.dx, TOL, 'DX');
          expectClose(await dW.read(), ref.dw, TOL, 'dW');
          if (bias) expectClose(await db!.read(), ref.db, TOL, 'db');
          else expect(db).toBeNull();
          [X, W, GY, Y, DX, dW].forEach((t) => t.release());
          B?.release();
          db?.release();
        });

  it('records on the tape (two layers, ReLU between): gradients for every leaf', async () => {
    const gpu = await testGpu();
    const [batch, nin, nh, nout] = [9, 11, 17, 6];
    const x = randn(batch * nin, 5);
    const w1 = randn(nh * nin, 6);
    const b1 = randn(nh, 7);
    const w2 = randn(nout * nh, 8);
    const gy = randn(batch * nout, 9);
    const X = Tensor.from(gpu, x, [batch, nin]);
    const W1 = Tensor.from(gpu, w1, [nh, nin]);
    const B1 = Tensor.from(gpu, b1, [nh]);
    const W2 = Tensor.from(gpu, w2, [nout, nh]);
    const tape = new Tape(gpu);
    tape.watch(W1, B1, W2);
    const H = linear(tape, X, W1, B1, { relu: true, inputGrad: false });
    const Y = linear(tape, H, W2, null);
    tape.backward(Y, Tensor.from(gpu, gy, Y.shape));
    const h = await H.read();
    const r2 = linearBackwardRef(h, w2, gy, null, batch, nh, nout);
    const r1 = linearBackwardRef(x, w1, r2.dx, h, batch, nin, nh);
    expectClose(await W2.grad!.read(), r2.dw, TOL, 'W2.grad');
    expectClose(await W1.grad!.read(), r1.dw, TOL, 'W1.grad');
    expectClose(await B1.grad!.read(), r1.db, TOL, 'B1.grad');
    expect(X.grad).toBeNull();
  });
});
