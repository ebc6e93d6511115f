import { describe, expect, it } from 'vitest';
import { randn, testGpu } from '../helpers/gpu.js';
import { expectClose, fdGrad, pick } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { Tape } from '../../src/tape.js';
import { conv2d, conv2dForward, conv2dInputGrad, conv2dWeightGrad } from '../../src/ops/conv.js';
import { convBackwardRef, convForwardRef, outSize, type ConvShape } from '../ref/conv.js';
import { cpuSubgroups } from '../../src/ops/matmul-core.js';
import { batchNorm } from '../../src/ops/batchnorm.js';
import { relu } from '../../src/ops/activation.js';
import { initBatchNorm } from '../../src/nn/init.js';
import { linear } from '../../src/ops/linear.js';

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
      // Added into held gradients (the tape's accumulate): the same gradient again doubles them.
      const again = conv2dWeightGrad(gpu, GY, X, [s.cout, s.cin, 3, 3], bias, { padding: 1, splits, algo, into: { dW, db } });
      expect(again.dW).toBe(dW);
      expectClose(await dW.read(), ref.dw.map((v) => 2 * v), TOL, 'dW accumulated');
      if (bias) expectClose(await db!.read(), ref.db.map((v) => 2 * v), TOL, 'db accumulated');
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

describe('conv2d then batch norm: dY handed over channel-major (src/ops/channel-major.ts)', () => {
  // 14 x 14 output maps (S % 4 == 0: vec4 planes) and 7 x 7 (scalar planes); 5 images, so the
  // channel rows are padded past n * q and the padding columns must not reach the gradients.
  const shapes: ConvShape[] = [
    { nb: 5, cin: 2, h: 28, w: 28, cout: 6, k: 5, stride: 2, pad: 2 },
    { nb: 5, cin: 3, h: 7, w: 7, cout: 4, k: 3, stride: 1, pad: 1 },
  ];
  for (const s of shapes) {
    it(`conv ${s.h}x${s.w} k${s.k} s${s.stride} -> BN+ReLU: gradients equal the two ops' separate backward passes`, async () => {
      const gpu = await testGpu();
      const [oh, ow] = outSize(s);
      const X = Tensor.from(gpu, randn(s.nb * s.cin * s.h * s.w, 61), [s.nb, s.cin, s.h, s.w]);
      const W = Tensor.from(gpu, randn(s.cout * s.cin * s.k * s.k, 62), [s.cout, s.cin, s.k, s.k]);
      const GY = Tensor.from(gpu, randn(s.nb * s.cout * oh * ow, 63), [s.nb, s.cout, oh, ow]);
      const bn = initBatchNorm(gpu, s.cout);
      gpu.upload(bn.weight.buffer, randn(s.cout, 64, 0.5).map((v) => v + 1));
      const o = { stride: s.stride, padding: s.pad };
      // Chained on one tape; then the batch norm alone on a copy of the conv output, and the
      // conv alone given that NCHW gradient (no handoff possible).
      const tape = new Tape(gpu);
      tape.watch(X, W);
      const C = conv2d(tape, X, W, null, o);
      const Y = batchNorm(tape, C, bn, { relu: true });
      const before = gpu.dispatchCount;
      tape.backward(Y, GY);
      const chained = gpu.dispatchCount - before;
      const C2 = Tensor.from(gpu, await C.read(), C.shape);
      const t2 = new Tape(gpu);
      t2.watch(C2);
      const Y2 = batchNorm(t2, C2, bn, { relu: true });
      const bnStart = gpu.dispatchCount;
      t2.backward(Y2, GY);
      const bnBackward = gpu.dispatchCount - bnStart;
      const t3 = new Tape(gpu);
      const X3 = Tensor.from(gpu, await X.read(), X.shape);
      const W3 = Tensor.from(gpu, await W.read(), W.shape);
      t3.watch(X3, W3);
      const C3 = conv2d(t3, X3, W3, null, o);
      const convStart = gpu.dispatchCount;
      t3.backward(C3, C2.grad!);
      const separate = bnBackward + gpu.dispatchCount - convStart;
      expectClose(await W.grad!.read(), await W3.grad!.read(), 1e-5, 'W.grad');
      expectClose(await X.grad!.read(), await X3.grad!.read(), 1e-5, 'X.grad');
      // The handoff saves the conv's dY transpose on CPU adapters (im2col, plane-walking BN).
      expect(chained).toBe(separate - (gpu.tuning === 'cpu' ? 1 : 0));
      for (const t of [tape, t2, t3]) t.dispose();
    });
  }

  it('a conv output read twice (BN and ReLU) gets the sum of both gradients, NCHW', async () => {
    const gpu = await testGpu();
    const s = shapes[0]!;
    const [oh, ow] = outSize(s);
    const X = Tensor.from(gpu, randn(s.nb * s.cin * s.h * s.w, 71), [s.nb, s.cin, s.h, s.w]);
    const W = Tensor.from(gpu, randn(s.cout * s.cin * s.k * s.k, 72), [s.cout, s.cin, s.k, s.k]);
    const G1 = Tensor.from(gpu, randn(s.nb * s.cout * oh * ow, 73), [s.nb, s.cout, oh, ow]);
    const G2 = Tensor.from(gpu, randn(s.nb * s.cout * oh * ow, 74), [s.nb, s.cout, oh, ow]);
    const bn = initBatchNorm(gpu, s.cout);
    const o = { stride: s.stride, padding: s.pad };
    const both = new Tape(gpu);
    both.watch(W);
    const C = conv2d(both, X, W, null, o);
    const y1 = batchNorm(both, C, bn, { relu: true });
    const y2 = relu(both, C);
    // One root: sum(G1 * y1) + sum(G2 * y2), through a join record (the tape owns what it returns).
    const [g1, g2] = [await G1.read(), await G2.read()];
    const root = Tensor.zeros(gpu, [1]);
    both.record({ op: 'join', inputs: [y1, y2], outputs: [root], backward: () => [Tensor.from(gpu, g1, y1.shape), Tensor.from(gpu, g2, y2.shape)] });
    both.backward(root, Tensor.zeros(gpu, [1]));
    const grads: Float32Array[] = [];
    for (const [use, g] of [[(t: Tape, c: Tensor) => batchNorm(t, c, bn, { relu: true }), G1], [(t: Tape, c: Tensor) => relu(t, c), G2]] as const) {
      const t = new Tape(gpu);
      const Wc = Tensor.from(gpu, await W.read(), W.shape);
      t.watch(Wc);
      t.backward(use(t, conv2d(t, X, Wc, null, o)), g);
      grads.push(await Wc.grad!.read());
      t.dispose();
    }
    expectClose(await W.grad!.read(), grads[0]!.map((v, i) => v + grads[1]![i]!), 1e-5, 'W.grad');
    both.dispose();
  });
});

describe('conv2d then batch norm: statistics from the conv GEMM epilogue (src/ops/batch-stats.ts)', () => {
  // Outputs with a mean ~1000x their spread: sums of squares would cancel; the epilogue's
  // (count, mean, deviations) partials must not.
  for (const [s, offset] of [[{ nb: 5, cin: 2, h: 28, w: 28, cout: 6, k: 5, stride: 2, pad: 2 }, 0], [{ nb: 3, cin: 3, h: 9, w: 9, cout: 4, k: 3, stride: 1, pad: 0 }, 40]] as [ConvShape, number][]) {
    it(`conv ${s.h}x${s.w} k${s.k}, input offset ${offset}: mean, variance, running statistics and y vs float64`, async () => {
      const gpu = await testGpu();
      const x = randn(s.nb * s.cin * s.h * s.w, 81, 0.05).map((v) => v + offset);
      const X = Tensor.from(gpu, x, [s.nb, s.cin, s.h, s.w]);
      const W = Tensor.from(gpu, randn(s.cout * s.cin * s.k * s.k, 82, 0.3).map((v) => v + (offset ? 1 : 0)), [s.cout, s.cin, s.k, s.k]);
      const bn = initBatchNorm(gpu, s.cout);
      const tape = new Tape(gpu);
      tape.watch(W);
      const C = conv2d(tape, X, W, null, { stride: s.stride, padding: s.pad, batchStats: true });
      const before = gpu.dispatchCount;
      const Y = batchNorm(tape, C, bn, { relu: false });
      const bnDispatches = gpu.dispatchCount - before;
      const c = await C.read();
      const [, , oh, ow] = C.shape as number[];
      const q = oh! * ow!;
      const m = s.nb * q;
      const mean = new Float64Array(s.cout);
      const vr = new Float64Array(s.cout);
      for (let ch = 0; ch < s.cout; ch++) {
        let a = 0;
        for (let n = 0; n < s.nb; n++) for (let i = 0; i < q; i++) a += c[(n * s.cout + ch) * q + i]!;
        mean[ch] = a / m;
        let d = 0;
        for (let n = 0; n < s.nb; n++) for (let i = 0; i < q; i++) d += (c[(n * s.cout + ch) * q + i]! - mean[ch]!) ** 2;
        vr[ch] = d / m;
      }
      if (offset) expect(Math.min(...mean.map(Math.abs)) / Math.sqrt(Math.max(...vr))).toBeGreaterThan(300);
      const yRef = Array.from(c, (v, i) => {
        const ch = Math.floor(i / q) % s.cout;
        return (v - mean[ch]!) / Math.sqrt(vr[ch]! + 1e-5);
      });
      expectClose(await Y.read(), yRef, 2e-3, 'y');
      expectClose(await bn.runningMean.read(), Array.from(mean, (v) => 0.1 * v), 1e-5, 'running mean');
      expectClose(await bn.runningVar.read(), Array.from(vr, (v) => 0.9 + 0.1 * v * m / (m - 1)), 1e-4, 'running var');
      // CPU adapters: one merge dispatch instead of the reduction and its finish, then the apply.
      expect(bnDispatches).toBe(gpu.tuning === 'cpu' ? 2 : 3);
      tape.dispose();
    });
  }
});

describe('two views through conv -> BN -> linear on one tape: parameter gradients summed in place', () => {
  it('equal the sums of the two views run on separate tapes, with the tape doing no separate sums', async () => {
    const gpu = await testGpu();
    const s: ConvShape = { nb: 4, cin: 1, h: 12, w: 12, cout: 8, k: 3, stride: 2, pad: 1 };
    const W = Tensor.from(gpu, randn(s.cout * s.cin * 9, 91, 0.5), [s.cout, s.cin, 3, 3]);
    const bn = initBatchNorm(gpu, s.cout);
    gpu.upload(bn.weight.buffer, randn(s.cout, 92, 0.3).map((v) => v + 1));
    const L = Tensor.from(gpu, randn(5 * s.cout * 36, 93, 0.1), [5, s.cout * 36]);
    const Lb = Tensor.from(gpu, randn(5, 94), [5]);
    const views = [0, 1].map((v) => Tensor.from(gpu, randn(s.nb * s.h * s.w, 95 + v), [s.nb, 1, s.h, s.w]));
    const seeds = [0, 1].map((v) => Tensor.from(gpu, randn(s.nb * 5, 97 + v), [s.nb, 5]));
    const params = [W, bn.weight, bn.bias, L, Lb];
    // A flatten recorded on the tape (copies both ways).
    const flat = (tape: Tape, x: Tensor) => {
      const y = Tensor.empty(gpu, [s.nb, s.cout * 36]);
      gpu.copy(x.buffer, 0, y.buffer, 0, x.bytes);
      tape.record({ op: 'flatten', inputs: [x], outputs: [y], backward: ([g]) => {
        const d = Tensor.empty(gpu, x.shape);
        gpu.copy(g!.buffer, 0, d.buffer, 0, x.bytes);
        return [d];
      } });
      return y;
    };
    const forward = (tape: Tape, x: Tensor) => {
      const h = batchNorm(tape, conv2d(tape, x, W, null, { stride: 2, padding: 1, inputGrad: false }), bn, { relu: true });
      return linear(tape, flat(tape, h), L, Lb);
    };
    // Separately: one view per tape.
    const want: Float32Array[][] = [];
    for (const v of [0, 1]) {
      const t = new Tape(gpu);
      t.watch(...params);
      t.backward(forward(t, views[v]!), seeds[v]!);
      want.push(await Promise.all(params.map((p) => p.grad!.read())));
      for (const p of params) { p.grad!.release(); p.grad = null; }
      t.dispose();
    }
    // Together: both views on one tape, one root joining them.
    const t = new Tape(gpu);
    t.watch(...params);
    const z = [0, 1].map((v) => forward(t, views[v]!));
    const root = Tensor.zeros(gpu, [1]);
    const [s0, s1] = [await seeds[0]!.read(), await seeds[1]!.read()];
    t.record({ op: 'join', inputs: z, outputs: [root], backward: () => [Tensor.from(gpu, s0, z[0]!.shape), Tensor.from(gpu, s1, z[1]!.shape)] });
    const before = gpu.dispatchCount;
    t.backward(root, Tensor.zeros(gpu, [1]));
    const together = gpu.dispatchCount - before;
    for (const [i, p] of params.entries()) {
      expectClose(await p.grad!.read(), want[0]![i]!.map((v, j) => v + want[1]![i]![j]!), 1e-5, `grad ${i}`);
    }
    t.dispose();
    // One view's backward, parameters watched: the joined backward is exactly two of these
    // (every second-view gradient summed in place, no axpy), in both kernel families.
    for (const p of params) { p.grad!.release(); p.grad = null; }
    const sep = new Tape(gpu);
    sep.watch(...params);
    const y = forward(sep, views[0]!);
    const b0 = gpu.dispatchCount;
    sep.backward(y, seeds[0]!);
    expect(together).toBe(2 * (gpu.dispatchCount - b0));
    sep.dispose();
  });
});
