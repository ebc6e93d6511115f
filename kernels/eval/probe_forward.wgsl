// Linear model on a standardised batch, one row per invocation: z = xb W + b (w is [(R + 1), C],
// the last row the bias), softmax cross-entropy. Writes dL/dz = (softmax(z) - onehot(y)) / bsz and
// the row's loss.
struct Params { bsz: u32, r: u32, off: u32, loss_off: u32, inv_b: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xb: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;
@group(0) @binding(4) var<storage, read> labels: array<u32>;
@group(0) @binding(5) var<storage, read_write> gz: array<f32>;
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;

const C: u32 = 10;
const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.bsz) { return; }
  var z: array<f32, C>;
  for (var c = 0u; c < C; c++) { z[c] = w[p.r * C + c]; }
  for (var k = 0u; k < p.r; k++) {
    let v = xb[i * p.r + k];
    for (var c = 0u; c < C; c++) { z[c] = fma(v, w[k * C + c], z[c]); }
  }
  var zmax = z[0];
  for (var c = 1u; c < C; c++) { zmax = max(zmax, z[c]); }
  let y = labels[idx[p.off + i]];
  // -log softmax_y from the logit itself: exp(z_y - zmax) may underflow.
  let zy = z[min(y, C - 1u)] - zmax;
  var den = 0.0;
  for (var c = 0u; c < C; c++) { z[c] = exp(z[c] - zmax); den += z[c]; }
  for (var c = 0u; c < C; c++) {
    let onehot = select(0.0, 1.0, c == y);
    gz[i * C + c] = (z[c] / den - onehot) * p.inv_b;
  }
  loss[p.loss_off + i] = log(den) - zy;
}
