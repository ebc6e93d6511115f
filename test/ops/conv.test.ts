import { describe, expect, it } from 'vitest';
import { randn, testGpu } from '../helpers/gpu.js';
import { expectClose, fdGrad, pick } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { conv2d, conv2dForward, conv2dInputGrad, conv2dWeightGrad } from '../../src/ops/conv.js';
import { convBackwardRef, convForwardRef, outSize, type ConvShape } from '../ref/conv.js';
import { cpuSubgroups } from '../../src/ops/matmul-core.js';

const TOL = 1e-4;

describe('conv reference (finite differences)', () => {
  it('gradients of sum(gy * conv) match central differences', () => {
    const s: ConvShape = { nb: 2, cin: 2, h: 5, w: 4, cout: 3, k: 3, stride: 2, pad: 1 };
    const x = Array.from(randn(s.nb * s.cin * s.h * s.w, 1));
    const w = Array.from(randn(s.cout * s.cin * s.k * s.k, 2));
    const b = Array.from(randn(s.cout, 3));
    const [oh, ow] = outSize(s);
    const gy = Array.from(randn(s.nb * s.cout * oh * ow, 4));
    const f = (xx: number[], ww: number[], bb: number[]) => convForwardRef(s, xx, ww, bb).reduce((a, v, i) => a + v * gy[i]!, 0);
    const { dx, dw, db } = convBackwardRef(s, x, w, gy);
    const L = () => f(x, w, b);
    // abs 5e-7: what toBeCloseTo(v, 6) allowed per element
    for (const [arr, grad, idx, what] of [[x, dx, [0, 7, 19, x.length - 1], 'dx'], [w, dw, [0, 5, w.length - 1], 'dw'], [b, db, [0, 2], 'db']] as const)
      expectClose(fdGrad(arr as number[], L, 1e-6, idx), pick(grad, idx), { abs: 5e-7 }, `${what} vs central differences`);
  });
});

for (const algo of ['implicit', 'im2col'] as const)
describe(`conv2d (${algo}) on the GPU vs float64 reference`, () => {
  const cases: ConvShape[] = [];
  for (const stride of [1, 2]) for (const pad of [0, 1]) cases.push({ nb: 3, cin: 5, h: 11, w: 11, cout: 7, k: 3, stride, pad });
  cases.push({ nb: 2, cin: 1, h: 9, w: 6, cout: 4, k: 5, stride: 3, pad: 2 });
  for (const s of cases)
    it(`nb=${s.nb} cin=${s.cin} ${s.h}x${s.w} cout=${s.cout} k=${s.k} stride=${s.stride} pad=${s.pad}: forward, dx, dW, db`, async () => {
      const gpu = await testGpu();
      const [oh, ow] = outSize(s);
      const x = randn(s.nb * s.cin * s.h * s.w, 11);
      const w = randn(s.cout * s.cin * s.k * s.k, 12);
      const b = randn(s.cout, 13);
      const gy = randn(s.nb * s.cout * oh * ow, 14);
      const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
      const W = Tensor.from(gpu, w, [s.cout, s.cin, s.k, s.k]);
      const B = Tensor.from(gpu, b, [s.cout]);
      const GY = Tensor.from(gpu, gy, [s.nb, s.cout, oh, ow]);
      const o = { stride: s.stride, padding: s.pad, algo };
      const Y = conv2dForward(gpu, X, W, B, o);
      const DX = conv2dInputGrad(gpu, GY, W, X.shape, o);
      const { dW, db } = conv2dWeightGrad(gpu, GY, X, W.shape, true, o);
      const ref = convBackwardRef(s, x, w, gy);
      expect(Y.shape).toEqual([s.nb, s.cout, oh, ow]);
      expectClose(await Y.read(), convForwardRef(s, x, w, b), TOL, 'Y');
      expectClose(await DX.read(), ref.dx, TOL, 'DX');
      expectClose(await dW.read(), ref.dw, TOL, 'dW');
      expectClose(await db!.read(), ref.db, TOL, 'db');
      [X, W, B, GY, Y, DX, dW, db!].forEach((t) => t.release());
    });

  if (algo === 'implicit')
    it('positions past the per-dimension workgroup limit go to slices along z (forward and dx)', async () => {
      const gpu = await testGpu();
      const s: ConvShape = { nb: 3, cin: 2, h: 9, w: 10, cout: 3, k: 3, stride: 1, pad: 1 };
      const x = randn(s.nb * s.cin * s.h * s.w, 51);
      const w = randn(s.cout * s.cin * 9, 52);
      const b = randn(s.cout, 53);
      const gy = randn(s.nb * s.cout * s.h * s.w, 54);
      const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
      const W = Tensor.from(gpu, w, [s.cout, s.cin, 3, 3]);
      const B = Tensor.from(gpu, b, [s.cout]);
      const GY = Tensor.from(gpu, gy, [s.nb, s.cout, s.h, s.w]);
      const ref = convBackwardRef(s, x, w, gy);
      // 270 positions: with at most 1 or 2 column tiles per dispatch row, several uneven slices.
      for (const maxGridX of [1, 2]) {
        const o = { stride: 1, padding: 1, algo, maxGridX };
        const Y = conv2dForward(gpu, X, W, B, o);
        const DX = conv2dInputGrad(gpu, GY, W, X.shape, o);
        expectClose(await Y.read(), convForwardRef(s, x, w, b), TOL, `Y, maxGridX ${maxGridX}`);
        expectClose(await DX.read(), ref.dx, TOL, `DX, maxGridX ${maxGridX}`);
        [Y, DX].forEach((t) => t.release());
      }
      [X, W, B, GY].forEach((t) => t.release());
    });

  it('weight gradient: split-K (with and without bias) equals the reference', async () => {
    const gpu = await testGpu();
    const s: ConvShape = { nb: 4, cin: 3, h: 13, w: 12, cout: 5, k: 3, stride: 1, pad: 1 };
    const [oh, ow] = outSize(s);
    const x = randn(s.nb * s.cin * s.h * s.w, 21);
    const gy = randn(s.nb * s.cout * oh * ow, 22);
    const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
    const GY = Tensor.from(gpu, gy, [s.nb, s.cout, oh, ow]);
    const ref = convBackwardRef(s, x, new Float32Array(s.cout * s.cin * 9), gy);
    for (const [bias, splits] of [[true, 3], [false, 2], [false, 1]] as const) {
      const { dW, db } = conv2dWeightGrad(gpu, GY, X, [s.cout, s.cin, 3, 3], bias, { padding: 1, splits, algo });
      expectClose(await dW.read(), ref.dw, TOL, 'dW');
      if (bias) expectClose(await db!.read(), ref.db, TOL, 'db');
      else expect(db).toBeNull();
    }
  });

  it('records on the tape: leaf gradients for w and b, input gradient for x', async () => {
    const gpu = await testGpu();
    const s: ConvShape = { nb: 2, cin: 3, h: 7, w: 7, cout: 4, k: 3, stride: 2, pad: 1 };
    const [oh, ow] = outSize(s);
    const x = randn(s.nb * s.cin * s.h * s.w, 31);
    const w = randn(s.cout * s.cin * 9, 32);
    const gy = randn(s.nb * s.cout * oh * ow, 33);
    const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
    const W = Tensor.from(gpu, w, [s.cout, s.cin, 3, 3]);
    const B = Tensor.zeros(gpu, [s.cout]);
    const tape = new Tape(gpu);
    tape.watch(X, W, B);
    const Y = conv2d(tape, X, W, B, { stride: 2, padding: 1, algo });
    tape.backward(Y, Tensor.from(gpu, gy, Y.shape));
    const ref = convBackwardRef(s, x, w, gy);
    expectClose(await W.grad!.read(), ref.dw, TOL, 'W.grad');
    expectClose(await B.grad!.read(), ref.db, TOL, 'B.grad');
    expectClose(await X.grad!.read(), ref.dx, TOL, 'X.grad');
  });
});

describe('conv2d im2col path: the forward columns kept for the weight gradient', () => {
  // One chunk: the backward reuses the forward's im2col columns (one im2col dispatch fewer);
  // several chunks: it rebuilds them. Both must give the reference gradients.
  for (const chunkFloats of [undefined, 1200]) {
    it(`tape backward, ${chunkFloats ? 'several chunks (columns rebuilt)' : 'one chunk (columns reused)'}`, async () => {
      const gpu = await testGpu();
      const s: ConvShape = { nb: 5, cin: 3, h: 9, w: 7, cout: 6, k: 3, stride: 2, pad: 1 };
      const [oh, ow] = outSize(s);
      const x = randn(s.nb * s.cin * s.h * s.w, 51);
      const w = randn(s.cout * s.cin * 9, 52);
      const gy = randn(s.nb * s.cout * oh * ow, 53);
      const o = { stride: 2, padding: 1, algo: 'im2col' as const, chunkFloats };
      const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
      const W = Tensor.from(gpu, w, [s.cout, s.cin, 3, 3]);
      const B = Tensor.zeros(gpu, [s.cout]);
      const GY = Tensor.from(gpu, gy, [s.nb, s.cout, oh, ow]);
      const tape = new Tape(gpu);
      tape.watch(X, W, B);
      const Y = conv2d(tape, X, W, B, o);
      const before = gpu.dispatchCount;
      tape.backward(Y, GY);
      const taped = gpu.dispatchCount - before;
      const ref = convBackwardRef(s, x, w, gy);
      expectClose(await W.grad!.read(), ref.dw, TOL, 'W.grad');
      expectClose(await B.grad!.read(), ref.db, TOL, 'B.grad');
      expectClose(await X.grad!.read(), ref.dx, TOL, 'X.grad');
      // The same gradients recorded without the tape rebuild the columns in every chunk.
      const direct0 = gpu.dispatchCount;
      conv2dWeightGrad(gpu, GY, X, W.shape, true, o);
      conv2dInputGrad(gpu, GY, W, X.shape, o);
      const chunks = chunkFloats ? 3 : 1;
      // direct, per chunk: dyt + im2col + GEMM + bias sums (weight grad), GEMM on dY + col2im
      // (input grad, 27 GEMM rows: no transpose), then 1 reduce
      expect(gpu.dispatchCount - direct0).toBe(6 * chunks + 1);
      // taped, per chunk: dyt, im2col only where the columns were not kept, 2 GEMMs, bias sums, col2im;
      // once: the reduce and, with CPU tiles and subgroups, W transposed for the input-gradient GEMM
      expect(taped).toBe((chunkFloats ? 6 : 5) * chunks + 1 + (cpuSubgroups(gpu) ? 1 : 0));
      tape.dispose();
    });
  }
});

describe('conv2d im2col path: image chunks and K-splits', () => {
  it('small scratch cap (several chunks, uneven last chunk) gives the reference results', async () => {
    const gpu = await testGpu();
    const s: ConvShape = { nb: 5, cin: 3, h: 9, w: 7, cout: 6, k: 3, stride: 2, pad: 1 };
    const [oh, ow] = outSize(s);
    const x = randn(s.nb * s.cin * s.h * s.w, 41);
    const w = randn(s.cout * s.cin * 9, 42);
    const b = randn(s.cout, 43);
    const gy = randn(s.nb * s.cout * oh * ow, 44);
    const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
    const W = Tensor.from(gpu, w, [s.cout, s.cin, 3, 3]);
    const B = Tensor.from(gpu, b, [s.cout]);
    const GY = Tensor.from(gpu, gy, [s.nb, s.cout, oh, ow]);
    const ref = convBackwardRef(s, x, w, gy);
    // 28 rows x 20 positions per image: a 1200-float cap holds 2 images per chunk (3 chunks).
    for (const splits of [1, 2, 4]) {
      const o = { stride: 2, padding: 1, algo: 'im2col' as const, chunkFloats: 1200, splits };
      const before = gpu.dispatchCount;
      const Y = conv2dForward(gpu, X, W, B, o);
      expect(gpu.dispatchCount - before).toBe(6); // 3 chunks x (im2col + GEMM)
      const DX = conv2dInputGrad(gpu, GY, W, X.shape, o);
      const { dW, db } = conv2dWeightGrad(gpu, GY, X, W.shape, true, o);
      expectClose(await Y.read(), convForwardRef(s, x, w, b), TOL, 'Y');
      expectClose(await DX.read(), ref.dx, TOL, 'DX');
      expectClose(await dW.read(), ref.dw, TOL, 'dW');
      expectClose(await db!.read(), ref.db, TOL, 'db');
      [Y, DX, dW, db!].forEach((t) => t.release());
    }
  });
});
