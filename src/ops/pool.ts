/**
 * Pooling on [N, C, H, W]: max pool and average pool (window k, stride s, no
 * padding, floor output size, as PyTorch's defaults) and global average pooling
 * to [N, C]. Forward and backward are one dispatch each.
 */
import poolSrc from '../../kernels/nn/pool.wgsl';
import gapSrc from '../../kernels/nn/global_avg_pool.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { ELEMENTWISE, grid1d } from './grid.js';

/** One kernel family for max and average pooling; the geometry is compiled in (pool.wgsl). */
const poolSpec = (pass: 'forward' | 'backward', max: boolean, g: PoolGeom, rows: boolean): KernelSpec => ({
  name: `nn/pool_${max ? 'max' : 'avg'}`,
  parts: [{ file: 'kernels/nn/pool.wgsl', code: poolSrc }, ELEMENTWISE],
  consts: { BACKWARD: pass === 'backward', MAX: max, ROWS: rows, K: g.k, S: g.s, H: g.h, W: g.w, OH: g.oh, OW: g.ow },
});
/**
 * One pass: src = x, dst = y forward (one invocation per output); src = dy, dst = dx backward
 * (per input, or on CPU adapters per input row: pool.wgsl's ROWS).
 */
function pool(gpu: Gpu, pass: 'forward' | 'backward', max: boolean, g: PoolGeom, src: Tensor, dst: Tensor, arg?: Tensor): void {
  const rows = pass === 'backward' && gpu.tuning === 'cpu';
  const total = pass === 'forward' ? g.n * g.c * g.oh * g.ow : rows ? g.n * g.c * g.h : g.n * g.c * g.h * g.w;
  const bindings = { p: { total }, src: src.buffer, dst: dst.buffer, arg: arg?.buffer ?? gpu.dummyWritable };
  gpu.dispatchOver(gpu.kernel(poolSpec(pass, max, g, rows)), bindings, total);
}
const gapSpec = (pass: 'forward' | 'backward', tpr = 1): KernelSpec => ({
  name: 'nn/global_avg_pool',
  parts: [{ file: 'kernels/nn/global_avg_pool.wgsl', code: gapSrc }, ELEMENTWISE],
  entryPoint: pass === 'forward' ? 'forward' : 'main',
  consts: { TPR: tpr },
});

interface PoolGeom {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  k: number;
  s: number;
}

function geom(x: Tensor, k: number, s: number): PoolGeom {
  if (x.shape.length !== 4) throw new RangeError(`pool: input must be [N, C, H, W], got [${x.shape}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (!(k >= 1 && s >= 1 && k <= h && k <= w)) throw new RangeError(`pool: window ${k} stride ${s} on ${h}x${w}`);
  return { n, c, h, w, oh: Math.floor((h - k) / s) + 1, ow: Math.floor((w - k) / s) + 1, k, s };
}


/** Max pool (default 2x2, stride 2); saves the argmax indices for backward. */
export function maxPool2d(tape: Tape | null, x: Tensor, k = 2, s = k): Tensor {
  const gpu = x.gpu;
  const g = geom(x, k, s);
  const y = Tensor.empty(gpu, [g.n, g.c, g.oh, g.ow]);
  const arg = Tensor.empty(gpu, y.shape, 'u32');
  pool(gpu, 'forward', true, g, x, y, arg);
  if (!tape) {
    arg.release();
    return y;
  }
  tape.record({
    op: 'maxpool2d',
    inputs: [x],
    outputs: [y],
    saved: [arg],
    backward: ([gy]) => {
      const dx = Tensor.empty(gpu, x.shape);
      pool(gpu, 'backward', true, g, gy!, dx, arg);
      return [dx];
    },
  });
  return y;
}

/** Average pool, window k, stride s (default k). */
export function avgPool2d(tape: Tape | null, x: Tensor, k: number, s = k): Tensor {
  const gpu = x.gpu;
  const g = geom(x, k, s);
  const y = Tensor.empty(gpu, [g.n, g.c, g.oh, g.ow]);
  pool(gpu, 'forward', false, g, x, y);
  tape?.record({
    op: 'avgpool2d',
    inputs: [x],
    outputs: [y],
    backward: ([gy]) => {
      const dx = Tensor.empty(gpu, x.shape);
      pool(gpu, 'backward', false, g, gy!, dx);
      return [dx];
    },
  });
  return y;
}

/** Threads per row for the global pool: one per row for small planes, a tree for big ones. */
function threadsPerRow(s: number): number {
  if (s < 16) return 1;
  if (s < 64) return 4;
  if (s < 256) return 16;
  return 64;
}

/** Global average pooling [N, C, H, W] -> [N, C]. */
export function globalAvgPool(tape: Tape | null, x: Tensor): Tensor {
  const gpu = x.gpu;
  if (x.shape.length !== 4) throw new RangeError(`globalAvgPool: input must be [N, C, H, W], got [${x.shape}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const rows = n * c;
  const s = h * w;
  const tpr = threadsPerRow(s);
  const y = Tensor.empty(gpu, [n, c]);
  gpu.dispatch(
    gpu.kernel(gapSpec('forward', tpr)),
    { p: { rows, s }, x: x.buffer, y: y.buffer },
    grid1d(Math.ceil(rows / (256 / tpr))),
  );
  tape?.record({
    op: 'global_avg_pool',
    inputs: [x],
    outputs: [y],
    backward: ([gy]) => {
      const dx = Tensor.empty(gpu, x.shape);
      gpu.dispatchOver(
        gpu.kernel(gapSpec('backward')),
        { p: { rows, s }, dy: gy!.buffer, dx: dx.buffer },
        x.size,
      );
      return [dx];
    },
  });
  return y;
}
