// Gradient of the probe's loss for one parameter per invocation: w[j, c] with j = R the bias.
// g = sum_i xb[i, j] * gz[i, c] (+ wd * w: L2 on the weights, not the bias); lanes run over j
// (contiguous xb loads), c is uniform per workgroup row. The step is the optimizer's (src/optim).
// main4 (R % 4 == 0, CPU adapters): one invocation per 4 consecutive j and all C classes, one vec4
// xb load and C gz loads per row for 4 C outputs: on llvmpipe, where each load is a per-lane loop,
// the per-(j, c) form spent ~12 ms a step of 512 rows at R = 576 (two loads per FMA).
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

@group(0) @binding(5) var<storage, read> xb4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let r4 = p.r / 4u;
  if (t > r4) { return; }
  var acc: array<vec4<f32>, C>;
  if (t < r4) {
    for (var i = 0u; i < p.bsz; i++) {
      let x = xb4[i * r4 + t];
      for (var c = 0u; c < C; c++) { acc[c] = fma(x, vec4<f32>(gz[i * C + c]), acc[c]); }
    }
    for (var c = 0u; c < C; c++) {
      for (var k = 0u; k < 4u; k++) {
        let o = (4u * t + k) * C + c;
        g[o] = acc[c][k] + p.wd * w[o];
      }
    }
  } else {
    for (var i = 0u; i < p.bsz; i++) {
      for (var c = 0u; c < C; c++) { acc[c].x += gz[i * C + c]; }
    }
    for (var c = 0u; c < C; c++) { g[p.r * C + c] = acc[c].x; }
  }
}
