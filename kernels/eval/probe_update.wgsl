// Gradient and optimiser step for one parameter per invocation: w[j, c] with j = R the bias.
// grad = sum_i xb[i, j] * gz[i, c] (+ wd * w for weights); lanes run over j (contiguous xb
// loads), c is uniform per workgroup row. Adam (lr_t and eps_t carry the bias corrections)
// or SGD with momentum (m = mu m + g; w -= lr m).
struct Params { bsz: u32, r: u32, lr: f32, eps: f32, wd: f32, b1: f32, b2: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xb: array<f32>;
@group(0) @binding(2) var<storage, read> gz: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> m1: array<f32>;
@group(0) @binding(5) var<storage, read_write> m2: array<f32>;

const C: u32 = 10;
const WG: u32 = 64;
const ADAM: bool = true;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let c = wid.y;
  if (j > p.r) { return; }
  let o = j * C + c;
  var g = 0.0;
  if (j < p.r) {
    for (var i = 0u; i < p.bsz; i++) { g = fma(xb[i * p.r + j], gz[i * C + c], g); }
    g += p.wd * w[o];
  } else {
    for (var i = 0u; i < p.bsz; i++) { g += gz[i * C + c]; }
  }
  if (ADAM) {
    let m = p.b1 * m1[o] + (1.0 - p.b1) * g;
    let v = p.b2 * m2[o] + (1.0 - p.b2) * g * g;
    m1[o] = m;
    m2[o] = v;
    w[o] -= p.lr * m / (sqrt(v) + p.eps);
  } else {
    let m = p.b1 * m1[o] + g;
    m1[o] = m;
    w[o] -= p.lr * m;
  }
}
