/**
 * Linear layer (PyTorch layout: weight [out, in], bias [out]) on the shared matmul
 * core: y = x W^T + b (optional fused ReLU); backward dX = dY W, dW = dY^T X, and db (column
 * sums of dY) in a small pass of its own. The ReLU mask is applied while reading dY, so no
 * masked copy of dY is materialised.
 */
import linearSrc from '../../kernels/nn/linear.wgsl';
import biasGradSrc from '../../kernels/nn/linear_bias_grad.wgsl';
import type { Gpu } from '../gpu/device.js';
import { wgslSections, type KernelSpec } from '../gpu/kernel.js';
import type { Tape } from '../tape.js';
import { Tensor } from '../tensor.js';
import { ELEMENTWISE } from './grid.js';
import { transpose } from './matmul.js';
import { MATMUL_CORE, MATMUL_SCALAR_HOOKS, cpuTileRows, matmulCore, matmulGrid, matmulTiles, matmulVec, tileConsts, pickVec4, type RowHints } from './matmul-core.js';

export interface LinearOptions {
  relu?: boolean;
  /** Compute dX in backward (default true); false for a network's first layer. */
  inputGrad?: boolean;
}

type Mode = 0 | 1 | 2;

const LINEAR = wgslSections('kernels/nn/linear.wgsl', linearSrc, ['vec4']);


function dispatch(
  gpu: Gpu,
  mode: Mode,
  dims: { batch: number; nin: number; nout: number },
  b: { X?: Tensor; W?: Tensor; G?: Tensor; Y?: Tensor; bias?: Tensor; C: Tensor },
  flags: { bias: boolean; relu: boolean; mask: boolean; accum?: boolean },
): void {
  const { nin, nout } = dims;
  const base = matmulTiles(gpu);
  const [M, N] = mode === 0 ? [dims.batch, dims.nout] : mode === 1 ? [dims.batch, dims.nin] : [dims.nout, dims.nin];
  // CPU loop, dW: A = dY'ᵀ from a masked transposed copy (transpose() in matmul.ts) where the
  // vec4 views apply; read K-major from dY it ran ~2x slower than dX, the same FLOPs (2026-12-08).
  const gT = mode === 2 && !!base.MM_CPU && dims.batch % 4 === 0 && dims.nout % 4 === 0;
  // CPU loop: register-block rows by shape (cpuTileRows); a K-major A takes 16.
  const rows: RowHints = mode === 2 && !gT ? { aDir: 2 } : {};
  const tiles = base.MM_CPU ? { ...base, TILE_M: cpuTileRows(M, rows) } : base;
  const spec = (vec: boolean): KernelSpec => ({
    name: vec ? 'nn/linear+vec4' : 'nn/linear',
    parts: [
      LINEAR.main,
      vec ? LINEAR.vec4 : MATMUL_SCALAR_HOOKS,
      ...(tiles.MM_CPU ? matmulCore(gpu) : MATMUL_CORE),
    ],
    consts: {
      ...tileConsts(tiles),
      ...(!vec ? { VEC_A: 0, VEC_B: 0 } : mode === 0 ? matmulVec(nin, 1, nin, 2, tiles) : mode === 1 ? matmulVec(nout, 1, nin, 1, tiles)
        : gT ? matmulVec(dims.batch, 1, nin, 1, tiles) : matmulVec(nout, 2, nin, 1, tiles)),
      MODE: mode,
      HAS_BIAS: flags.bias,
      RELU: flags.relu,
      MASK: flags.mask && !(gT && vec),
      G_T: gT && vec,
      ACCUM: !!flags.accum,
      A_ROW_FAST: mode === 2, // A = dY^T: consecutive rows are adjacent in memory
    },
  });
  // CPU loop: vec4 views of X, W, dY, Y where leading dimensions and the adapter's storage-buffer limit allow.
  const { spec: chosen, vec } = pickVec4(gpu, tiles, spec);
  const kernel = gpu.kernel(chosen);
  const d = gpu.dummy;
  const gt = gT && vec ? transpose(gpu, b.G!.buffer, dims.batch, dims.nout, b.Y?.buffer) : null;
  gpu.dispatch(
    kernel,
    {
      p: { batch: dims.batch, nin: dims.nin, nout: dims.nout },
      X: b.X?.buffer ?? d,
      Wt: b.W?.buffer ?? d,
      G: gt?.buffer ?? b.G?.buffer ?? d,
      Yf: b.Y?.buffer ?? d, // unread with G_T (the copy is masked)
      bias: b.bias?.buffer ?? d,
      C: b.C.buffer,
      ...(vec ? { X4: b.X?.buffer ?? d, Wt4: b.W?.buffer ?? d, G4: gt?.buffer ?? b.G?.buffer ?? d, Yf4: b.Y?.buffer ?? d } : {}),
    },
    matmulGrid(M, N, 1, tiles),
    { flops: 2 * M * N * (mode === 0 ? dims.nin : mode === 1 ? dims.nout : dims.batch) },
  );
  gt?.release();
}

function shapeOf(x: Tensor, W: Tensor, bias?: Tensor): { batch: number; nin: number; nout: number } {
  if (x.shape.length !== 2 || W.shape.length !== 2) throw new RangeError(`linear: x [${x.shape}] and W [${W.shape}] must be 2-D`);
  const [batch, nin] = x.shape as [number, number];
  const [nout, win] = W.shape as [number, number];
  if (win !== nin) throw new RangeError(`linear: x has ${nin} features, W expects ${win}`);
  if (bias && bias.size !== nout) throw new RangeError(`linear: bias has ${bias.size} entries, expected ${nout}`);
  return { batch, nin, nout };
}

/** y = x W^T + b (ReLU if asked): x [batch, in], W [out, in], bias [out] -> y [batch, out]. */
export function linearForward(gpu: Gpu, x: Tensor, W: Tensor, bias?: Tensor, o: LinearOptions = {}): Tensor {
  const dims = shapeOf(x, W, bias);
  const y = Tensor.empty(gpu, [dims.batch, dims.nout]);
  dispatch(gpu, 0, dims, { X: x, W, bias, C: y }, { bias: !!bias, relu: !!o.relu, mask: false });
  return y;
}

/** dX = dY' W, where dY' is dY masked by y > 0 when `y` (the ReLU output) is given. */
export function linearInputGrad(gpu: Gpu, gy: Tensor, W: Tensor, y?: Tensor): Tensor {
  const [nout, nin] = W.shape as [number, number];
  const batch = gy.shape[0]!;
  const dx = Tensor.empty(gpu, [batch, nin]);
  dispatch(gpu, 1, { batch, nin, nout }, { G: gy, W, Y: y, C: dx }, { bias: false, relu: false, mask: !!y });
  return dx;
}

/**
 * dW = dY'^T X and (when withBias) db = column sums of dY'; added into `into.dW` / `into.db`
 * (gradients the tape holds) when given.
 */
export function linearWeightGrad(
  gpu: Gpu, gy: Tensor, x: Tensor, nout: number, withBias: boolean, y?: Tensor, into: { dW?: Tensor | null; db?: Tensor | null } = {},
): { dW: Tensor; db: Tensor | null } {
  const [batch, nin] = x.shape as [number, number];
  const dW = into.dW ?? Tensor.empty(gpu, [nout, nin]);
  const db = withBias ? (into.db ?? Tensor.empty(gpu, [nout])) : null;
  dispatch(gpu, 2, { batch, nin, nout }, { G: gy, X: x, Y: y, C: dW }, { bias: false, relu: false, mask: !!y, accum: !!into.dW });
  if (db) {
    const k = gpu.kernel({ name: 'nn/linear_bias_grad', parts: [{ file: 'kernels/nn/linear_bias_grad.wgsl', code: biasGradSrc }, ELEMENTWISE], consts: { MASK: !!y, ACCUM: !!into.db } });
    gpu.dispatchOver(k, { p: { batch, nout }, G: gy.buffer, Yf: y?.buffer ?? gpu.dummy, db: db.buffer }, nout);
  }
  return { dW, db };
}

/** Linear layer recorded on `tape`: gradients for x (unless inputGrad is false), W and bias. */
export function linear(tape: Tape | null, x: Tensor, W: Tensor, bias?: Tensor | null, o: LinearOptions = {}): Tensor {
  const gpu = x.gpu;
  const y = linearForward(gpu, x, W, bias ?? undefined, o);
  const inputs = bias ? [x, W, bias] : [x, W];
  tape?.record({
    op: 'linear',
    inputs,
    outputs: [y],
    backward: ([gy], into) => {
      const mask = o.relu ? y : undefined;
      const dx = o.inputGrad === false ? null : linearInputGrad(gpu, gy!, W, mask);
      const { dW, db } = linearWeightGrad(gpu, gy!, x, W.shape[0]!, !!bias, mask, { dW: into[1], db: into[2] });
      return bias ? [dx, dW, db] : [dx, dW];
    },
  });
  return y;
}
