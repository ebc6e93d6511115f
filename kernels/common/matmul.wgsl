// Plain batched matmul prelude for matmul_core.wgsl: C = op(A) * op(B) (+ bias, ReLU),
// row-major operands; TRANS_A / TRANS_B read A as (K x M) / B as (N x K) storage.
struct Params { M: u32, N: u32, K: u32, batch_stride_a: u32, batch_stride_b: u32, batch_stride_c: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// The same A and B buffers viewed as vec4s (the core's vector hooks, VEC_A / VEC_B).
@group(0) @binding(5) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> B4: array<vec4<f32>>;

const TRANS_A: bool = false;
const TRANS_B: bool = false;
const HAS_BIAS: bool = false;
const RELU: bool = false;

fn mm_dims(b: u32) -> vec3<u32> { return vec3<u32>(p.M, p.N, p.K); }
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[b * p.batch_stride_a + k * p.M + row]; }
  return A[b * p.batch_stride_a + row * p.K + k];
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  if (TRANS_B) { return B[b * p.batch_stride_b + col * p.K + k]; }
  return B[b * p.batch_stride_b + k * p.N + col];
}
// VEC_A = 1 (row-major A, K % 4 == 0) / 2 (TRANS_A, M % 4 == 0); VEC_B = 1 (row-major B,
// N % 4 == 0) / 2 (TRANS_B, K % 4 == 0): the index is then a multiple of 4.
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (TRANS_A) { return A4[(b * p.batch_stride_a + k * p.M + row) / 4u]; }
  return A4[(b * p.batch_stride_a + row * p.K + k) / 4u];
}
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (TRANS_B) { return B4[(b * p.batch_stride_b + col * p.K + k) / 4u]; }
  return B4[(b * p.batch_stride_b + k * p.N + col) / 4u];
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  var r = v;
  if (HAS_BIAS) { r += bias[col]; }
  if (RELU) { r = max(r, 0.0); }
  C[b * p.batch_stride_c + row * p.N + col] = r;
}
fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
