// Shared by the conv implicit-GEMM preludes (conv_fwd, conv_dgrad, conv_wgrad):
// NCHW activations, weight [cout, cin, kh, kw].
struct ConvParams {
  nb: u32, cin: u32, h: u32, w: u32,
  cout: u32, oh: u32, ow: u32, kh: u32,
  kw: u32, stride: u32, pad: u32, kchunk: u32,
  inv_ohw: f32, inv_ow: f32, inv_khw: f32, inv_kw: f32,
  inv_hw: f32, inv_w: f32, inv_stride: f32, ktotal: u32,
  // Columns (positions) per batch slice b of the GEMM: a position count over 65535 workgroups
  // of columns is dispatched as several slices along z (fwd, dgrad).
  chunk_cols: u32,
}
@group(0) @binding(0) var<uniform> p: ConvParams;

// udiv / split3: kernels/common/index.wgsl (included before this part).

fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
fn mm_stat_col(b: u32, col: u32) -> bool { return false; }
fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>) {}
// mm_readA4 / mm_readB4: MATMUL_SCALAR_HOOKS (no vector access: VEC_A = VEC_B = 0).
