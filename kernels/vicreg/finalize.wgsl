// VICReg pass 3: one workgroup reduces the column statistics and the product's
// per-tile partial sums into terms = [loss, invariance, variance, covariance, bad_input].
struct Params {
  n: u32, d: u32, tiles_per_view: u32, gram: u32,
  inv_scale: f32, var_scale: f32, lambda: f32, mu: f32, nu: f32, gamma: f32, eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> colstats: array<f32>;
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> terms: array<f32>;

const WG: u32 = 256;
var<workgroup> red: array<array<f32, 8>, 256>;

// Bit test, because WGSL lets compilers assume floats are finite (x != x may fold away).
fn non_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let d = p.d;
  var s: array<f32, 8>; // diffsq, hinge1, hinge2, var1², var2², part1, part2, bad
  for (var k = 0u; k < 8u; k++) { s[k] = 0.0; }
  for (var j = li; j < d; j += WG) {
    let v1 = colstats[2u * d + j];
    let v2 = colstats[3u * d + j];
    let dq = colstats[4u * d + j];
    s[0] += dq;
    s[1] += max(0.0, p.gamma - sqrt(v1 + p.eps));
    s[2] += max(0.0, p.gamma - sqrt(v2 + p.eps));
    s[3] += v1 * v1;
    s[4] += v2 * v2;
    if (non_finite(colstats[j]) || non_finite(colstats[d + j]) || non_finite(v1) || non_finite(v2) || non_finite(dq)) { s[7] = 1.0; }
  }
  for (var t = li; t < p.tiles_per_view; t += WG) {
    s[5] += partials[t];
    s[6] += partials[p.tiles_per_view + t];
  }
  red[li] = s;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (li < stride) {
      for (var k = 0u; k < 8u; k++) { red[li][k] += red[li + stride][k]; }
    }
  }
  workgroupBarrier();
  if (li == 0u) {
    let r = red[0];
    let df = f32(d);
    let inv = r[0] * p.inv_scale;
    let variance = p.var_scale * (r[1] + r[2]) / df;
    var c1 = r[5];
    var c2 = r[6];
    // Gram form: ||K||² - Σ Var² cancels in float32, so clamp at the true minimum (0);
    // with d = 1 there is no off-diagonal entry at all.
    if (p.gram == 1u) { c1 = max(c1 - r[3], 0.0); c2 = max(c2 - r[4], 0.0); }
    if (d == 1u) { c1 = 0.0; c2 = 0.0; }
    let covariance = (c1 + c2) / df;
    let loss = p.lambda * inv + p.mu * variance + p.nu * covariance;
    var bad = r[7];
    if (non_finite(loss)) { bad = 1.0; }
    terms[0] = loss;
    terms[1] = inv;
    terms[2] = variance;
    terms[3] = covariance;
    terms[4] = bad;
  }
}
