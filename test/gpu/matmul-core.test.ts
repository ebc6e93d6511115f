import { describe, expect, it } from 'vitest';
import { testGpu, randn } from '../helpers/gpu.js';
import { expectClose } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { matmul } from '../../src/ops/matmul.js';
import { matmulRef as refMatmul } from '../ref/linear.js';

describe('matmul core', () => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [64, 64, 16], [65, 67, 33], [130, 17, 200]];
  for (const [M, N, K] of shapes)
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const)
      it(`${M}x${N}x${K} transA=${tA} transB=${tB}`, async () => {
        const gpu = await testGpu();
        const a = randn(M * K, M + K);
        const b = randn(K * N, N + 7);
        const A = Tensor.from(gpu, a, tA ? [K, M] : [M, K]);
        const B = Tensor.from(gpu, b, tB ? [N, K] : [K, N]);
        const C = matmul(gpu, A, B, { transA: tA, transB: tB });
        expectClose(await C.read(), refMatmul(a, b, M, N, K, tA, tB), 1e-5, 'C');
        [A, B, C].forEach((t) => t.release());
      });

  it('fuses bias and ReLU in the epilogue', async () => {
    const gpu = await testGpu();
    const [M, N, K] = [37, 29, 41];
    const a = randn(M * K, 1);
    const b = randn(K * N, 2);
    const bias = randn(N, 3);
    const C = matmul(gpu, Tensor.from(gpu, a, [M, K]), Tensor.from(gpu, b, [K, N]), { bias: Tensor.from(gpu, bias, [N]), relu: true });
    const ref = refMatmul(a, b, M, N, K, false, false).map((v, i) => Math.max(0, v + bias[i % N]!));
    expectClose(await C.read(), ref, 1e-5, 'C');
  });
});
