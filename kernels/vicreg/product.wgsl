// VICReg pass 2 (prelude for matmul_core.wgsl), both views in one dispatch (batch = view):
//   cov form:  C = Zcᵀ Zc / (n-1)   (d x d)
//   gram form: K = Zc Zcᵀ / (n-1)   (n x n)
// Only tiles touching the upper triangle run; each writes its entries and their mirror
// images (the gradient pass reads the full matrix) and, in the epilogue, sums the squares
// of the strict upper triangle twice (+ the diagonal for the Gram form) per workgroup.
struct Params { n: u32, d: u32, inv_nm1: f32, tiles_x: u32, tiles_per_view: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> mat: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

const GRAM: bool = false;

fn mm_dims(b: u32) -> vec3<u32> {
  if (GRAM) { return vec3<u32>(p.n, p.n, p.d); }
  return vec3<u32>(p.d, p.d, p.n);
}
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  if (GRAM) { return zct(b, k, row); } // A = Zc, read from Zcᵀ
  return zc(b, k, row); // A = Zcᵀ, read from Zc
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  if (GRAM) { return zct(b, k, col); } // B = Zcᵀ
  return zc(b, k, col); // B = Zc
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  let dim = mm_dims(b).x;
  let s = v * p.inv_nm1;
  mat[b * dim * dim + row * dim + col] = s;
  mat[b * dim * dim + col * dim + row] = s;
}
fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool {
  // Strictly below the diagonal: its mirror tile computes the same entries.
  let skip = tile_row * TILE_M >= (tile_col + 1u) * TILE_N;
  if (skip) { partials[b * p.tiles_per_view + tile_row * p.tiles_x + tile_col] = 0.0; }
  return skip;
}
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 {
  let s = v * p.inv_nm1;
  if (row < col) { return 2.0 * s * s; }
  if (GRAM && row == col) { return s * s; }
  return 0.0;
}
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {
  partials[b * p.tiles_per_view + tile_row * p.tiles_x + tile_col] = sum;
}
fn mm_stat_col(b: u32, col: u32) -> bool { return false; }
fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>) {}

// @section vec4: mm_readA4 / mm_readB4 for the CPU loop, after common.wgsl's vec4 section (the op's
// useVec4(); otherwise MATMUL_SCALAR_HOOKS stands here).
// A along K (VEC_A = 1, as a row-major matmul reads it; measured faster than along M on
// lavapipe): Zc (gram) from Zc rows, Zcᵀ (cov) from Zcᵀ rows; B along N: Zcᵀ (gram) / Zc (cov).
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (GRAM) { return zcb4[(b * p.n * p.d + row * p.d + k) / 4u]; }
  return zcbt4[(b * p.n * p.d + row * p.n + k) / 4u];
}
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (GRAM) { return zcbt4[(b * p.n * p.d + k * p.n + col) / 4u]; }
  return zcb4[(b * p.n * p.d + k * p.d + col) / 4u];
}
