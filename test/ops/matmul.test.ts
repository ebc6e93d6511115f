import { describe, expect, it } from 'vitest';
import { randn, testGpu, tunedGpu } from '../helpers/gpu.js';
import { expectClose } from '../helpers/check.js';
import { Tensor } from '../../src/tensor.js';
import { matmul, transpose } from '../../src/ops/matmul.js';
import { CPU_TILES, DEFAULT_TILES, cpuTileRows, cpuTilesFor, matmulTiles } from '../../src/ops/matmul-core.js';
import { matmulRef } from '../ref/linear.js';

// Both core loops run on any adapter: the CPU loop (matmulTiles on lavapipe) and the
// shared-memory GPU loop, on shapes that are multiples of no tile. The tests that name their
// tiles run on a CPU-tuned device in both families (same kernels, so the VICREG_TUNING=gpu run
// hits the shader cache; the CPU loop without subgroups is test/gpu/tuning.test.ts's); only
// the adapter-tiles test follows VICREG_TUNING.
describe('matmul: both core loops vs float64 reference', () => {
  const variants = [
    ['cpu', CPU_TILES],
    ['gpu', DEFAULT_TILES],
  ] as const;
  for (const [label, tiles] of variants)
    for (const [M, N, K] of [[3, 5, 7], [17, 129, 33], [70, 131, 300]] as const)
      for (const [tA, tB] of [[false, false], [true, true]] as const)
        it(`${label} tiles ${M}x${N}x${K} transA=${tA} transB=${tB}`, async () => {
          const gpu = await tunedGpu('cpu');
          const a = randn(M * K, M + K);
          const b = randn(K * N, N + 7);
          const A = Tensor.from(gpu, a, tA ? [K, M] : [M, K]);
          const B = Tensor.from(gpu, b, tB ? [N, K] : [K, N]);
          const C = matmul(gpu, A, B, { transA: tA, transB: tB, tiles });
          expectClose(await C.read(), matmulRef(a, b, M, N, K, tA, tB), 1e-5, 'C');
          [A, B, C].forEach((t) => t.release());
        });

  it('batched with a shared B, bias and ReLU (adapter tiles)', async () => {
    const gpu = await testGpu();
    const [batch, M, N, K] = [3, 19, 23, 45];
    const a = randn(batch * M * K, 1);
    const b = randn(K * N, 2);
    const bias = randn(N, 3);
    const C = matmul(gpu, Tensor.from(gpu, a, [batch, M, K]), Tensor.from(gpu, b, [K, N]), { bias: Tensor.from(gpu, bias, [N]), relu: true, tiles: matmulTiles(gpu) });
    const got = await C.read();
    for (let i = 0; i < batch; i++) {
      const ref = matmulRef(a.subarray(i * M * K, (i + 1) * M * K), b, M, N, K).map((v, j) => Math.max(0, v + bias[j % N]!));
      expectClose(got.subarray(i * M * N, (i + 1) * M * N), ref, 1e-5);
    }
  });

  // Register-block rows: 16, 24, 32 or 40 by padded rows x per-row cost; full tiles (M = 24, 72,
  // 64), edge tiles (M = 20, 100), scalar and vec4 A (K = 25 / 28), the default tiles, and 48- and
  // 56-row blocks asked for explicitly (no shape picks them; past 48 rows the row groups' second
  // loop stays rolled, which must still be exact).
  it('16- to 56-row CPU blocks: chosen by shape, and exact against float64', async () => {
    expect([7, 16, 20, 24, 40, 64, 72, 96, 216, 1024].map((m) => cpuTileRows(m))).toEqual([16, 16, 24, 24, 40, 32, 40, 32, 32, 40]);
    expect(cpuTileRows(24, { aDir: 2 })).toBe(16);
    const gpu = await tunedGpu('cpu');
    for (const [M, N, K, rows] of [[24, 260, 25, 24], [72, 128, 28, 40], [20, 131, 28, 24], [64, 130, 44, 32], [100, 128, 45, 40], [64, 130, 44, 48], [64, 130, 44, 56]] as const) {
      const tiles = rows >= 48 ? { ...cpuTilesFor(N), TILE_M: rows } : cpuTilesFor(N, M);
      expect(tiles.TILE_M).toBe(rows);
      const a = randn(M * K, M);
      const b = randn(K * N, N);
      const C = matmul(gpu, Tensor.from(gpu, a, [M, K]), Tensor.from(gpu, b, [K, N]), { tiles });
      expectClose(await C.read(), matmulRef(a, b, M, N, K), 1e-5, `C ${M}x${N}x${K} (${rows} rows)`);
    }
  });

  it('full CPU tiles take the unchecked path (exact multiples)', async () => {
    const gpu = await tunedGpu('cpu');
    const [M, N, K] = [CPU_TILES.TILE_M * 2, CPU_TILES.TILE_N, 40];
    const a = randn(M * K, 5);
    const b = randn(K * N, 6);
    const C = matmul(gpu, Tensor.from(gpu, a, [M, K]), Tensor.from(gpu, b, [K, N]), { tiles: CPU_TILES });
    expectClose(await C.read(), matmulRef(a, b, M, N, K), 1e-5, 'C');
  });

  // The CPU loop's vec4 hooks (VEC_A / VEC_B) run on full tiles when an operand's leading
  // dimension is a multiple of 4; these shapes mix full and edge tiles, leading dimensions
  // that are and are not multiples of 4, and a K remainder after the groups of 4.
  for (const [M, N, K] of [[40, 260, 44], [40, 260, 47], [36, 258, 45], [48, 256, 4], [16, 128, 9]] as const)
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const)
      it(`CPU tiles, vector hooks ${M}x${N}x${K} transA=${tA} transB=${tB}`, async () => {
        const gpu = await tunedGpu('cpu');
        const a = randn(M * K, M + 3 * K);
        const b = randn(K * N, N + 11);
        const A = Tensor.from(gpu, a, tA ? [K, M] : [M, K]);
        const B = Tensor.from(gpu, b, tB ? [N, K] : [K, N]);
        const C = matmul(gpu, A, B, { transA: tA, transB: tB, tiles: CPU_TILES });
        expectClose(await C.read(), matmulRef(a, b, M, N, K, tA, tB), 1e-5, 'C');
        [A, B, C].forEach((t) => t.release());
      });

  // Narrower CPU tiles (THREADS_X 24 / 16 / 8) picked for N; the last shape is a conv dW.
  it('cpuTilesFor picks the width that pads N least', () => {
    expect([9, 45, 96, 200, 288, 300].map((n) => cpuTilesFor(n).TILE_N)).toEqual([32, 64, 96, 32, 96, 64]);
  });
  // (one transpose mix per width: each specialisation costs a cold compile)
  for (const [M, N, K, tA, tB] of [[24, 25, 52, false, false], [20, 45, 12, true, true], [64, 288, 36, false, true]] as const)
    it(`CPU tiles ${cpuTilesFor(N).TILE_N} wide, ${M}x${N}x${K} transA=${tA} transB=${tB}`, async () => {
      const gpu = await tunedGpu('cpu');
      const a = randn(M * K, 5 * M + K);
      const b = randn(K * N, N + 7);
      const A = Tensor.from(gpu, a, tA ? [K, M] : [M, K]);
      const B = Tensor.from(gpu, b, tB ? [N, K] : [K, N]);
      const C = matmul(gpu, A, B, { transA: tA, transB: tB, tiles: cpuTilesFor(N) });
      expectClose(await C.read(), matmulRef(a, b, M, N, K, tA, tB), 1e-5, 'C');
      [A, B, C].forEach((t) => t.release());
    });

  it('CPU tiles, vector hooks, batched A with batched and shared B', async () => {
    const gpu = await tunedGpu('cpu');
    const [batch, M, N, K] = [3, 32, 256, 20];
    const a = randn(batch * M * K, 8);
    const b = randn(batch * K * N, 9);
    for (const shared of [false, true]) {
      const bb = shared ? b.subarray(0, K * N) : b;
      const C = matmul(gpu, Tensor.from(gpu, a, [batch, M, K]), Tensor.from(gpu, bb, shared ? [K, N] : [batch, K, N]), { tiles: CPU_TILES });
      const got = await C.read();
      for (let i = 0; i < batch; i++) {
        const bi = shared ? bb : b.subarray(i * K * N, (i + 1) * K * N);
        expectClose(got.subarray(i * M * N, (i + 1) * M * N), matmulRef(a.subarray(i * M * K, (i + 1) * M * K), bi, M, N, K), 1e-5);
      }
    }
  });
});

describe('transpose (row-major copies of K-major operands), optionally masked by a ReLU output', () => {
  // 4 x 4 blocks of vec4s when both sizes are multiples of 4, else one element per invocation.
  for (const [rows, cols] of [[96, 256], [8, 12], [7, 10], [216, 64], [4, 5]] as const) {
    for (const masked of [false, true]) {
      it(`${rows} x ${cols}${masked ? ', masked' : ''}`, async () => {
        const gpu = await testGpu();
        const x = randn(rows * cols, rows + cols);
        const keep = randn(rows * cols, rows * cols); // about half not positive; some exact zeros below
        for (let i = 0; i < keep.length; i += 7) keep[i] = 0;
        const tx = Tensor.from(gpu, x, [rows, cols]);
        const tk = Tensor.from(gpu, keep, [rows, cols]);
        const out = transpose(gpu, tx.buffer, rows, cols, masked ? tk.buffer : undefined);
        expect(out.shape).toEqual([cols, rows]);
        const got = await out.read();
        for (let c = 0; c < cols; c++) {
          for (let r = 0; r < rows; r++) {
            const want = masked && !(keep[r * cols + c]! > 0) ? 0 : x[r * cols + c]!;
            expect(got[c * rows + r]).toBe(Math.fround(want));
          }
        }
        [tx, tk, out].forEach((t) => t.release());
      });
    }
  }
});

describe('CPU loop: grid order (ROWS_FAST: row blocks along x, so llvmpipe threads split B by columns)', () => {
  it('row blocks along x or y give the same bits, and match float64', async () => {
    const gpu = await tunedGpu('cpu');
    const [M, N, K] = [72, 300, 52]; // 3 x 3 tiles of 24 x 128, edges in both directions
    const a = randn(M * K, 11);
    const b = randn(K * N, 12);
    const A = Tensor.from(gpu, a, [M, K]);
    const B = Tensor.from(gpu, b, [K, N]);
    const base = cpuTilesFor(N, M);
    expect(base.ROWS_FAST).toBe(true);
    const fast = await matmul(gpu, A, B, { tiles: base }).read();
    const slow = await matmul(gpu, A, B, { tiles: { ...base, ROWS_FAST: false } }).read();
    expect(Array.from(fast)).toEqual(Array.from(slow));
    expectClose(fast, matmulRef(a, b, M, N, K), { rel: 1e-4, abs: 1e-4 }, 'ROWS_FAST');
  });
});
