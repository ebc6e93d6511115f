// Vector hooks for kernels/vicreg/product.wgsl (with common_vec4.wgsl).
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
