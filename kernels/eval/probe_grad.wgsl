// Gradient of the probe's loss for one parameter per invocation: w[j, c] with j = R the bias.
// g = sum_i xb[i, j] * gz[i, c] (+ wd * w: L2 on the weights, not the bias); lanes run over j
// (contiguous xb loads), c is uniform per workgroup row. The step is the optimizer's (src/optim).
struct Params { bsz: u32, r: u32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xb: array<f32>;
@group(0) @binding(2) var<storage, read> gz: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> g: array<f32>;

const C: u32 = 10;
const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let c = wid.y;
  if (j > p.r) { return; }
  let o = j * C + c;
  var s = 0.0;
  if (j < p.r) {
    for (var i = 0u; i < p.bsz; i++) { s = fma(xb[i * p.r + j], gz[i * C + c], s); }
    s += p.wd * w[o];
  } else {
    for (var i = 0u; i < p.bsz; i++) { s += gz[i * C + c]; }
  }
  g[o] = s;
}
