// Tiled matmul core: for each batch b, C = A (M x K) * B (K x N), with pluggable
// read/write hooks so that matmul, conv (implicit GEMM) and the VICReg products
// share one tuned loop. The including kernel defines, before this part:
//   fn mm_dims(b: u32) -> vec3<u32>                       (M, N, K)
//   fn mm_readA(b: u32, row: u32, k: u32) -> f32           A[row, k]
//   fn mm_readB(b: u32, k: u32, col: u32) -> f32           B[k, col]
//   fn mm_write(b: u32, row: u32, col: u32, v: f32)        epilogue, called once per output
//   fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool   (uniform per workgroup)
//   fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32         per-output contribution,
//   fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32)  summed per workgroup
//   fn mm_stat_col(b: u32, col: u32) -> bool               MM_ROW_STATS (CPU loop): whether
//   fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>)  column col counts in the row
//        statistics, and their sink: s = (count, mean, sum of squared deviations from that mean)
//        of row `row` over one subgroup's columns (every lane's own, without subgroups), partial
//        `part` of the row's mm_stat_parts() partials.
//   fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32>    4 A values along VEC_A's direction:
//        VEC_A = 1: A[row, k..k+3]; VEC_A = 2: A[row..row+3, k]
//   fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32>    VEC_B = 1: B[k, col..col+3]; VEC_B = 2: B[k..k+3, col]
//        The CPU loop calls the vector hooks on full tiles (and on edge tiles too with
//        VEC_EDGES, where row / col may lie past M / N: the read is out of the operand, kept
//        inside the buffer by WebGPU's robust access, and its products are never written; only
//        for hooks that are plain loads), for whole groups of 4 k,
//        with row (VEC_A = 2) / col (VEC_B = 1) a multiple of 4 and k a multiple of 4, and only
//        when the op set VEC_A / VEC_B (it does so when the operand's leading dimension and
//        batch stride are multiples of 4, so one vec4 load from a vec4 view of the same
//        buffer serves 4 floats). A prelude without vector access includes
//        kernels/common/matmul_scalar4.wgsl (MATMUL_SCALAR_HOOKS) and leaves VEC_* = 0.
// Dispatch: (ceil(N / TILE_N), ceil(M / TILE_M), batches) = matmulGrid(); consts = tileConsts().
//
// Two loops, chosen by MM_CPU (see src/ops/matmul-core.ts, matmulTiles()):
// - GPU: workgroup tiles staged in shared memory, 4 x REG_M register block per thread.
// - CPU (software adapters such as lavapipe): no shared memory and no barriers in the
//   loop. On llvmpipe a workgroup runs on one CPU thread in 8-wide SIMD, barriers are
//   coroutine switches, and every storage/shared load inside a loop is a scalar loop
//   over the 8 lanes, so the cost is the number of load instructions: each invocation
//   keeps a TILE_M x RN register block (columns strided by THREADS_X), loads its RN
//   B values per k, and (with MM_SUBGROUPS) the subgroup loads 8 A rows with one load
//   and broadcasts them, instead of every lane loading every row. The CPU caches
//   play the role of shared memory. The block's accumulators exceed the vector registers,
//   so each group of 4 k runs accumulator-major (a spilled accumulator moves once per
//   group), and llvmpipe has no FMA instruction: each fma() is a multiply and an add.

const TILE_M: u32 = 64;
const TILE_N: u32 = 64; // GPU: = 4 * THREADS_X (one vec4 per thread); CPU: = THREADS_X * RN
const TILE_K: u32 = 16;
const THREADS_X: u32 = 16;
const THREADS_Y: u32 = 16; // CPU: 1
const REG_M: u32 = 4; // GPU: = TILE_M / THREADS_Y rows per thread
const RN: u32 = 4; // CPU: columns per invocation
const MM_CPU: bool = false;
// The grid's x walks row blocks and y column tiles (matmulGrid): llvmpipe hands each thread a
// consecutive range of a dispatch's workgroups, which then share no column tiles of B.
const ROWS_FAST: bool = false;
// Load-order hints: whether consecutive invocations should walk A's rows (A stored
// K-major, e.g. a transposed operand) and B's columns (B stored row-major).
const A_ROW_FAST: bool = false;
const MM_REDUCE: bool = false;
// CPU loop: per-row statistics of the outputs (mm_row_stats), e.g. the batch-norm statistics
// of a conv's channels, so that no pass re-reads the output for them.
const MM_ROW_STATS: bool = false;
// CPU loop, vector loads (see the hook contract above): 0 = scalar hooks only.
// VEC_B = 1 gives each invocation RN adjacent columns (RN a multiple of 4) instead of
// columns strided by THREADS_X. VEC_A is used only with MM_SUBGROUPS.
const VEC_A: u32 = 0;
const VEC_B: u32 = 0;
// CPU loop: vector hooks on edge tiles too (see the hook contract above).
const VEC_EDGES: bool = false;

const THREADS: u32 = THREADS_X * THREADS_Y;

var<workgroup> tileA: array<f32, TILE_K * TILE_M>;        // [k][m]
var<workgroup> tileB: array<vec4<f32>, TILE_K * THREADS_X>; // [k][n/4]
var<workgroup> partial: array<f32, THREADS>;

fn mm_load_tiles(b: u32, row0: u32, col0: u32, k0: u32, dims: vec3<u32>, li: u32, full: bool) {
  for (var e = 0u; e < (TILE_K * TILE_M) / THREADS; e++) {
    let idx = li + e * THREADS;
    var m: u32;
    var kk: u32;
    if (A_ROW_FAST) { m = idx % TILE_M; kk = idx / TILE_M; } else { kk = idx % TILE_K; m = idx / TILE_K; }
    var v = 0.0;
    if (full || (row0 + m < dims.x && k0 + kk < dims.z)) { v = mm_readA(b, row0 + m, k0 + kk); }
    tileA[kk * TILE_M + m] = v;
  }
  for (var e = 0u; e < (TILE_K * THREADS_X) / THREADS; e++) {
    let idx = li + e * THREADS;
    let c4 = idx % THREADS_X;
    let kk = idx / THREADS_X;
    let col = col0 + c4 * 4u;
    let k = k0 + kk;
    var v = vec4<f32>(0.0);
    if (full) {
      v = vec4<f32>(mm_readB(b, k, col), mm_readB(b, k, col + 1u), mm_readB(b, k, col + 2u), mm_readB(b, k, col + 3u));
    } else if (k < dims.z) {
      if (col < dims.y) { v.x = mm_readB(b, k, col); }
      if (col + 1u < dims.y) { v.y = mm_readB(b, k, col + 1u); }
      if (col + 2u < dims.y) { v.z = mm_readB(b, k, col + 2u); }
      if (col + 3u < dims.y) { v.w = mm_readB(b, k, col + 3u); }
    }
    tileB[kk * THREADS_X + c4] = v;
  }
}

// GPU loop: returns this thread's mm_reduce sum (0 unless MM_REDUCE).
fn mm_gpu(b: u32, wg: vec3<u32>, lid: vec3<u32>, li: u32) -> f32 {
  let dims = mm_dims(b);
  let row0 = wg.y * TILE_M;
  let col0 = wg.x * TILE_N;
  let fullMN = row0 + TILE_M <= dims.x && col0 + TILE_N <= dims.y;

  var acc: array<vec4<f32>, REG_M>;
  for (var i = 0u; i < REG_M; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < dims.z; k0 += TILE_K) {
    // Full tiles skip every bounds check; only edge tiles pay for them.
    mm_load_tiles(b, row0, col0, k0, dims, li, fullMN && k0 + TILE_K <= dims.z);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let bv = tileB[kk * THREADS_X + lid.x];
      let abase = kk * TILE_M + lid.y * REG_M;
      for (var i = 0u; i < REG_M; i++) {
        acc[i] = fma(vec4<f32>(tileA[abase + i]), bv, acc[i]);
      }
    }
    workgroupBarrier();
  }

  var s = 0.0;
  for (var i = 0u; i < REG_M; i++) {
    let row = row0 + lid.y * REG_M + i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x * 4u + j;
      if (fullMN || (row < dims.x && col < dims.y)) {
        mm_write(b, row, col, acc[i][j]);
        if (MM_REDUCE) { s += mm_reduce(b, row, col, acc[i][j]); }
      }
    }
  }
  return s;
}

// Defaults for preludes without vector access: 4 scalar reads along VEC_A / VEC_B's direction.
fn mm_scalarA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (VEC_A == 2u) { return vec4<f32>(mm_readA(b, row, k), mm_readA(b, row + 1u, k), mm_readA(b, row + 2u, k), mm_readA(b, row + 3u, k)); }
  return vec4<f32>(mm_readA(b, row, k), mm_readA(b, row, k + 1u), mm_readA(b, row, k + 2u), mm_readA(b, row, k + 3u));
}
fn mm_scalarB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (VEC_B == 2u) { return vec4<f32>(mm_readB(b, k, col), mm_readB(b, k + 1u, col), mm_readB(b, k + 2u, col), mm_readB(b, k + 3u, col)); }
  return vec4<f32>(mm_readB(b, k, col), mm_readB(b, k, col + 1u), mm_readB(b, k, col + 2u), mm_readB(b, k, col + 3u));
}

// CPU loop: column j of invocation li (RN adjacent columns with VEC_B = 1, else strided).
fn mm_cpu_col(wgx: u32, li: u32, j: u32) -> u32 {
  if (VEC_B == 1u) { return wgx * TILE_N + li * RN + j; }
  return wgx * TILE_N + li + j * THREADS_X;
}

// CPU loop, one group of 4 k for rows q*8 .. q*8+7 (accumulator-major; see mm_cpu).
fn mm_cpu_rows8(acc: ptr<function, array<array<f32, RN>, TILE_M> >, q: u32, b: u32, k: u32, row0: u32, lane: u32,
                av: array<vec4<f32>, TILE_M / 8u>, bk: array<array<f32, RN>, 4>) {
  var own = vec4<f32>(0.0); // VEC_A = 0 with subgroups: this lane's row q*8+lane, k..k+3
  if (MM_SUBGROUPS && VEC_A == 0u) {
    let row = row0 + q * 8u + lane;
    own = vec4<f32>(mm_readA(b, row, k), mm_readA(b, row, k + 1u), mm_readA(b, row, k + 2u), mm_readA(b, row, k + 3u));
  }
  for (var i = 0u; i < 8u; i++) {
    var a4: vec4<f32>; // A[row q*8+i, k..k+3]
    if (MM_SUBGROUPS && VEC_A == 1u) {
      a4 = mm_bcast_lane4(av[q], i);
    } else if (MM_SUBGROUPS) {
      a4 = mm_bcast_lane4(own, i);
    } else {
      let row = row0 + q * 8u + i;
      a4 = vec4<f32>(mm_readA(b, row, k), mm_readA(b, row, k + 1u), mm_readA(b, row, k + 2u), mm_readA(b, row, k + 3u));
    }
    for (var j = 0u; j < RN; j++) {
      (*acc)[q * 8u + i][j] = fma(a4.w, bk[3][j], fma(a4.z, bk[2][j], fma(a4.y, bk[1][j], fma(a4.x, bk[0][j], (*acc)[q * 8u + i][j]))));
    }
  }
}

// CPU loop (TILE_M a multiple of 8): no K tiles, so only M and N edges need checks.
fn mm_cpu(b: u32, wg: vec3<u32>, li: u32) -> f32 {
  let dims = mm_dims(b);
  let row0 = wg.y * TILE_M;
  let full = row0 + TILE_M <= dims.x && wg.x * TILE_N + TILE_N <= dims.y;
  let lane = li % 8u;

  var acc: array<array<f32, RN>, TILE_M>;
  for (var i = 0u; i < TILE_M; i++) { for (var j = 0u; j < RN; j++) { acc[i][j] = 0.0; } }

  var kv = 0u; // first k left to the scalar loop
  // With VEC_EDGES, edge tiles too: rows / columns past the edge read garbage that is never
  // written (a scalar edge tile costs ~2x, e.g. conv dW's N = cin*k*k + 1 columns).
  if ((VEC_B != 0u || (VEC_A != 0u && MM_SUBGROUPS)) && (full || VEC_EDGES)) {
    kv = dims.z & ~3u;
    // Groups of 4 k: each invocation loads TILE_M / 8 vec4s of A (shared by the subgroup
    // through broadcasts) and RN / 4 vec4s of B per k (VEC_B = 1) or RN per group (VEC_B = 2).
    for (var k = 0u; k < kv; k += 4u) {
      var av: array<vec4<f32>, TILE_M / 8u>;
      if (MM_SUBGROUPS && VEC_A != 0u) {
        for (var t = 0u; t < TILE_M / 8u; t++) {
          if (VEC_A == 1u) {
            av[t] = mm_readA4(b, row0 + t * 8u + lane, k); // lane holds row t*8+lane, k..k+3
          } else {
            let v = t * 8u + lane; // vec4 v holds rows (v % (TILE_M/4))*4.., at k + v / (TILE_M/4)
            av[t] = mm_readA4(b, row0 + (v % (TILE_M / 4u)) * 4u, k + v / (TILE_M / 4u));
          }
        }
      }
      var bk: array<array<f32, RN>, 4>; // B[k + kk, this invocation's column j]
      if (VEC_B == 2u) {
        for (var j = 0u; j < RN; j++) {
          let v = mm_readB4(b, k, mm_cpu_col(wg.x, li, j));
          bk[0][j] = v.x; bk[1][j] = v.y; bk[2][j] = v.z; bk[3][j] = v.w;
        }
      } else {
        for (var kk = 0u; kk < 4u; kk++) {
          if (VEC_B == 1u) {
            for (var u = 0u; u < RN / 4u; u++) {
              let v = mm_readB4(b, k + kk, mm_cpu_col(wg.x, li, u * 4u));
              bk[kk][u * 4u] = v.x; bk[kk][u * 4u + 1u] = v.y; bk[kk][u * 4u + 2u] = v.z; bk[kk][u * 4u + 3u] = v.w;
            }
          } else {
            for (var j = 0u; j < RN; j++) { bk[kk][j] = mm_readB(b, k + kk, mm_cpu_col(wg.x, li, j)); }
          }
        }
      }
      if (MM_SUBGROUPS && VEC_A == 2u) {
        // K-major A: k outermost. In the accumulator-major order below this operand's lane
        // arithmetic no longer folds (measured ~3x slower).
        for (var kk = 0u; kk < 4u; kk++) {
          for (var q = 0u; q < TILE_M / 8u; q++) {
            for (var i = 0u; i < 8u; i++) {
              let v = kk * (TILE_M / 4u) + q * 2u + i / 4u;
              let a = mm_bcast_lane(av[v / 8u][i % 4u], v % 8u);
              for (var j = 0u; j < RN; j++) { acc[q * 8u + i][j] = fma(a, bk[kk][j], acc[q * 8u + i][j]); }
            }
          }
        }
        continue;
      }
      // Accumulator-major: each accumulator takes the group's 4 FMAs in a row, so that a
      // spilled one is reloaded and stored once per 4 k, not once per k (1.1-1.5x on the
      // step's GEMMs, docs/kernels.md). Row groups in loops of at most 3: NIR leaves a longer
      // loop rolled (its size limit), the accumulator index dynamic, and the block 2x slower
      // (blocks up to 48 rows unroll; taller ones still compute right, slowly).
      for (var q = 0u; q < min(TILE_M / 8u, 3u); q++) { mm_cpu_rows8(&acc, q, b, k, row0, lane, av, bk); }
      for (var q = 3u; q < TILE_M / 8u; q++) { mm_cpu_rows8(&acc, q, b, k, row0, lane, av, bk); }
    }
  }

  for (var k = kv; k < dims.z; k++) {
    var bv: array<f32, RN>;
    for (var j = 0u; j < RN; j++) {
      let col = mm_cpu_col(wg.x, li, j);
      bv[j] = 0.0;
      if (full || col < dims.y) { bv[j] = mm_readB(b, k, col); }
    }
    for (var q = 0u; q < TILE_M / 8u; q++) {
      var a8: array<f32, 8>;
      if (MM_SUBGROUPS) {
        let row = row0 + q * 8u + lane;
        var av = 0.0;
        if (full || row < dims.x) { av = mm_readA(b, row, k); }
        a8 = mm_bcast8(av);
      } else {
        for (var i = 0u; i < 8u; i++) {
          a8[i] = 0.0;
          if (full || row0 + q * 8u + i < dims.x) { a8[i] = mm_readA(b, row0 + q * 8u + i, k); }
        }
      }
      for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < RN; j++) { acc[q * 8u + i][j] = fma(a8[i], bv[j], acc[q * 8u + i][j]); }
      }
    }
  }

  var s = 0.0;
  for (var i = 0u; i < TILE_M; i++) {
    let row = row0 + i;
    for (var j = 0u; j < RN; j++) {
      let col = mm_cpu_col(wg.x, li, j);
      if (full || (row < dims.x && col < dims.y)) {
        mm_write(b, row, col, acc[i][j]);
        if (MM_REDUCE) { s += mm_reduce(b, row, col, acc[i][j]); }
      }
    }
  }
  if (MM_ROW_STATS) {
    // Two passes over the registers (mean, then squared deviations): no cancellation. The
    // partials merge by Chan's formula (batchnorm_finalize.wgsl, stats_merge).
    let part = select(wg.x * THREADS_X + li, wg.x * (THREADS_X / 8u) + li / 8u, MM_SUBGROUPS);
    for (var i = 0u; i < TILE_M; i++) {
      var sum = 0.0;
      var cnt = 0.0;
      for (var j = 0u; j < RN; j++) {
        if (mm_stat_col(b, mm_cpu_col(wg.x, li, j))) { sum += acc[i][j]; cnt += 1.0; }
      }
      let n = mm_lanes_sum(cnt);
      let mean = mm_lanes_sum(sum) / max(n, 1.0);
      var m2 = 0.0;
      for (var j = 0u; j < RN; j++) {
        let d = acc[i][j] - mean;
        if (mm_stat_col(b, mm_cpu_col(wg.x, li, j))) { m2 += d * d; }
      }
      let dev = mm_lanes_sum(m2);
      if (row0 + i < dims.x && (!MM_SUBGROUPS || lane == 0u)) { mm_row_stats(b, row0 + i, part, vec3<f32>(n, mean, dev)); }
    }
  }
  return s;
}

// MM_ROW_STATS partials per row for an N-column output (src/ops/matmul.ts, rowStatParts).
fn mm_stat_parts(n: u32) -> u32 {
  let tiles = (n + TILE_N - 1u) / TILE_N;
  return select(tiles * THREADS_X, tiles * (THREADS_X / 8u), MM_SUBGROUPS);
}

@compute @workgroup_size(THREADS_X, THREADS_Y, 1)
fn main(@builtin(workgroup_id) grid_id: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = select(grid_id, vec3<u32>(grid_id.y, grid_id.x, grid_id.z), ROWS_FAST);
  let b = wg.z;
  if (mm_skip_tile(b, wg.y, wg.x)) { return; }
  var s: f32;
  if (MM_CPU) { s = mm_cpu(b, wg, li); } else { s = mm_gpu(b, wg, lid, li); }
  if (MM_REDUCE) {
    partial[li] = s;
    workgroupBarrier();
    for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
      if (li < stride) { partial[li] += partial[li + stride]; }
      workgroupBarrier();
    }
    if (li == 0u) { mm_reduce_out(b, wg.y, wg.x, partial[0]); }
  }
}

// mm_bcast8 / mm_bcast_lane / MM_SUBGROUPS: kernels/common/matmul_bcast.wgsl (portable) or
// matmul_bcast_subgroups.wgsl (subgroupBroadcast), the part that follows this one.
