// Test predictions of the linear model, one row per invocation, standardising on the fly:
// pred[row0 + i] = argmax_c (b_c + sum_k (x[i, k] - mean_k) * inv_std_k * w[k, c]).
struct Params { rows: u32, r: u32, row0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> ms: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> pred: array<u32>;

const C: u32 = 10;
const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.rows) { return; }
  var z: array<f32, C>;
  for (var c = 0u; c < C; c++) { z[c] = w[p.r * C + c]; }
  for (var k = 0u; k < p.r; k++) {
    let v = (x[i * p.r + k] - ms[k]) * ms[p.r + k];
    for (var c = 0u; c < C; c++) { z[c] = fma(v, w[k * C + c], z[c]); }
  }
  var arg = 0u;
  for (var c = 1u; c < C; c++) { if (z[c] > z[arg]) { arg = c; } }
  pred[p.row0 + i] = arg;
}
