// VICReg pass 4 (prelude for matmul_core.wgsl): each view's whole gradient in one
// tiled product (batch = view) whose epilogue adds the invariance and variance terms:
//   cov form:  G = seed * (a_cov * Zc Coff + a_inv (Z - Z') + var term)   (Coff: C, diagonal read as 0)
//   gram form: G = seed * (a_cov * (K Zc - Zc diag(Var)) + a_inv (Z - Z') + var term)
// with K and C already divided by (n-1) in the product pass.
struct Params { n: u32, d: u32, a_inv: f32, a_var: f32, a_cov: f32, gamma: f32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> mat: array<f32>;
@group(0) @binding(5) var<storage, read> seed: array<f32>;
@group(0) @binding(6) var<storage, read_write> g1: array<f32>;
@group(0) @binding(7) var<storage, read_write> g2: array<f32>;

const GRAM: bool = false;

fn mm_dims(b: u32) -> vec3<u32> {
  if (GRAM) { return vec3<u32>(p.n, p.d, p.n); }
  return vec3<u32>(p.n, p.d, p.d);
}
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  if (GRAM) { return mat[b * p.n * p.n + k * p.n + row]; } // K is symmetric: K[row][k] = K[k][row]
  return zct(b, k, row); // A = Zc, read from Zcᵀ
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  if (GRAM) { return zc(b, k, col); }
  if (k == col) { return 0.0; }
  return mat[b * p.d * p.d + k * p.d + col];
}
fn mm_write(b: u32, i: u32, j: u32, acc: f32) {
  let zcij = zc(b, i, j);
  let v = col_var(b, j);
  var cov = acc;
  if (GRAM) { cov = acc - v * zcij; }
  let sd = sqrt(v + p.eps);
  var hinge = 0.0;
  if (sd < p.gamma) { hinge = -p.a_var * zcij / sd; }
  // Z - Z' from the centred views: (Zc_b + mean_b) - (Zc_o + mean_o).
  let o = 1u - b;
  let diff = (zcij - zc(o, i, j)) + (col_mean(b, j) - col_mean(o, j));
  let g = seed[0] * (p.a_cov * cov + p.a_inv * diff + hinge);
  if (b == 0u) { g1[i * p.d + j] = g; } else { g2[i * p.d + j] = g; }
}
fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
fn mm_stat_col(b: u32, col: u32) -> bool { return false; }
fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>) {}

// @section vec4: mm_readA4 / mm_readB4 for the CPU loop, after common.wgsl's vec4 section (the op's
// useVec4(); otherwise MATMUL_SCALAR_HOOKS stands here: the views would be 10 storage buffers).
// A along K (VEC_A = 1): K (gram) or Zc (cov), both row-major;
// B along N (VEC_B = 1, d % 4 == 0): Zc (gram) or C with its diagonal read as 0 (cov).
@group(0) @binding(12) var<storage, read> mat4: array<vec4<f32>>;

fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (GRAM) { return mat4[(b * p.n * p.n + row * p.n + k) / 4u]; }
  return zcb4[(b * p.n * p.d + row * p.d + k) / 4u];
}
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (GRAM) { return zcb4[(b * p.n * p.d + k * p.d + col) / 4u]; }
  let v = mat4[(b * p.d * p.d + k * p.d + col) / 4u];
  return select(v, vec4<f32>(0.0), vec4<u32>(col, col + 1u, col + 2u, col + 3u) == vec4<u32>(k));
}
