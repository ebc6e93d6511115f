// Plain batched matmul prelude for matmul_core.wgsl: C = op(A) * op(B) (+ bias, ReLU) on
// strided row-major views: element offsets, leading dimensions and batch strides are
// parameters, so one prelude serves whole tensors and sub-blocks of scratch buffers
// (the im2col conv path). TRANS_A / TRANS_B read A as (K x M) / B as (N x K) storage.
// OUT_NCHW scatters column col = (n, q) of row r to C[off_c + (n * M + r) * out_q + q]
// (a conv's [cout, positions] GEMM written as NCHW); only columns < n_valid are written
// there, and the bias is then per row (channel) instead of per column.
struct Params {
  M: u32, N: u32, K: u32, n_valid: u32,
  lda: u32, ldb: u32, ldc: u32, out_q: u32,
  off_a: u32, off_b: u32, off_c: u32, inv_q: f32,
  batch_stride_a: u32, batch_stride_b: u32, batch_stride_c: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// The same A and B buffers viewed as vec4s (the core's vector hooks, VEC_A / VEC_B).
@group(0) @binding(5) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> B4: array<vec4<f32>>;
// MM_ROW_STATS: per row (an OUT_NCHW conv's channel), mm_stat_parts(N) partials of
// (count, mean, squared deviations) over the valid columns: the batch-norm statistics.
@group(0) @binding(7) var<storage, read_write> stat_part: array<f32>;

const TRANS_A: bool = false;
const TRANS_B: bool = false;
const HAS_BIAS: bool = false;
const RELU: bool = false;
const OUT_NCHW: bool = false;

fn mm_dims(b: u32) -> vec3<u32> { return vec3<u32>(p.M, p.N, p.K); }
fn mm_indexA(b: u32, row: u32, k: u32) -> u32 {
  if (TRANS_A) { return p.off_a + b * p.batch_stride_a + k * p.lda + row; }
  return p.off_a + b * p.batch_stride_a + row * p.lda + k;
}
fn mm_indexB(b: u32, k: u32, col: u32) -> u32 {
  if (TRANS_B) { return p.off_b + b * p.batch_stride_b + col * p.ldb + k; }
  return p.off_b + b * p.batch_stride_b + k * p.ldb + col;
}
fn mm_readA(b: u32, row: u32, k: u32) -> f32 { return A[mm_indexA(b, row, k)]; }
fn mm_readB(b: u32, k: u32, col: u32) -> f32 { return B[mm_indexB(b, k, col)]; }
// VEC_A = 1 (row-major A) / 2 (TRANS_A); VEC_B = 1 (row-major B) / 2 (TRANS_B): the op sets
// them only when offsets, leading dimensions and batch strides are multiples of 4.
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> { return A4[mm_indexA(b, row, k) / 4u]; }
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> { return B4[mm_indexB(b, k, col) / 4u]; }
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  var r = v;
  if (OUT_NCHW) {
    if (col >= p.n_valid) { return; }
    var n = u32(f32(col) * p.inv_q); // float-reciprocal division, corrected (exact below 2^24)
    if (n * p.out_q > col) { n -= 1u; } else if ((n + 1u) * p.out_q <= col) { n += 1u; }
    if (HAS_BIAS) { r += bias[row]; }
    if (RELU) { r = max(r, 0.0); }
    C[p.off_c + (n * p.M + row) * p.out_q + (col - n * p.out_q)] = r;
    return;
  }
  if (HAS_BIAS) { r += bias[col]; }
  if (RELU) { r = max(r, 0.0); }
  C[p.off_c + b * p.batch_stride_c + row * p.ldc + col] = r;
}
fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
fn mm_stat_col(b: u32, col: u32) -> bool { return col < p.n_valid; }
fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>) {
  let o = (row * mm_stat_parts(p.N) + part) * 3u;
  stat_part[o] = s.x;
  stat_part[o + 1u] = s.y;
  stat_part[o + 2u] = s.z;
}
