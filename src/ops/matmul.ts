/** Batched matmul C = op(A) op(B) (+bias, ReLU) on the shared core. */
import matmulSrc from '../../kernels/common/matmul.wgsl';
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { MATMUL_CORE, matmulCore, matmulGrid, matmulTiles, matmulVec, tileConsts, type MatmulTiles } from './matmul-core.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor;
  relu?: boolean;
  /** Defaults to matmulTiles(gpu) (CPU-shaped tiles on software adapters). */
  tiles?: MatmulTiles;
  out?: Tensor;
  /** CPU loop: vec4 loads where the layouts allow (default true; false = scalar hooks only). */
  vec?: boolean;
}

/**
 * A: [batch?, M, K] (or [K, M] with transA), B: [batch?, K, N] (or [N, K] with transB).
 * B may be unbatched (shared across batches) when A is batched.
 */
export function matmul(gpu: Gpu, A: Tensor, B: Tensor, o: MatmulOptions = {}): Tensor {
  const a = A.shape.length === 3 ? A.shape : [1, ...A.shape];
  const b = B.shape.length === 3 ? B.shape : [1, ...B.shape];
  const batch = a[0]!;
  const [M, K] = o.transA ? [a[2]!, a[1]!] : [a[1]!, a[2]!];
  const [Kb, N] = o.transB ? [b[2]!, b[1]!] : [b[1]!, b[2]!];
  if (K !== Kb) throw new RangeError(`matmul: inner dimensions ${K} and ${Kb} differ`);
  if (b[0] !== 1 && b[0] !== batch) throw new RangeError(`matmul: batch ${batch} vs ${b[0]}`);
  const tiles = o.tiles ?? matmulTiles(gpu);
  const outShape = A.shape.length === 3 ? [batch, M, N] : [M, N];
  const C = o.out ?? Tensor.empty(gpu, outShape);
  const kernel = gpu.kernel({
    name: 'common/matmul',
    parts: [{ file: 'kernels/common/matmul.wgsl', code: matmulSrc }, tiles.MM_CPU ? matmulCore(gpu) : MATMUL_CORE],
    consts: {
      ...tileConsts(tiles),
      TRANS_A: !!o.transA,
      TRANS_B: !!o.transB,
      HAS_BIAS: !!o.bias,
      RELU: !!o.relu,
      A_ROW_FAST: !!o.transA,
      ...(tiles.MM_CPU && o.vec !== false ? matmulVec(o.transA ? M : K, o.transA ? 2 : 1, o.transB ? K : N, o.transB ? 2 : 1, tiles) : {}),
    },
  });
  const params = gpu.params('uuuuuu', M, N, K, M * K, b[0] === 1 ? 0 : K * N, M * N);
  gpu.dispatch(kernel, { p: params, A: A.buffer, B: B.buffer, A4: A.buffer, B4: B.buffer, C: C.buffer, bias: o.bias?.buffer ?? gpu.dummy }, matmulGrid(M, N, batch, tiles));
  return C;
}
