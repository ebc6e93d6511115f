// Vector hooks for kernels/vicreg/grad.wgsl (with common_vec4.wgsl).
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
