// Shared VICReg bindings and the centred read: Zc[b][i][j] = Z_b[i][j] - mean_b[j],
// computed on the fly so that Zc is never materialised.
@group(0) @binding(1) var<storage, read> z1: array<f32>;
@group(0) @binding(2) var<storage, read> z2: array<f32>;
@group(0) @binding(3) var<storage, read> colstats: array<f32>;

fn zval(b: u32, i: u32, j: u32) -> f32 {
  if (b == 0u) { return z1[i * p.d + j]; }
  return z2[i * p.d + j];
}
fn zc(b: u32, i: u32, j: u32) -> f32 { return zval(b, i, j) - colstats[b * p.d + j]; }
fn col_var(b: u32, j: u32) -> f32 { return colstats[(2u + b) * p.d + j]; }
