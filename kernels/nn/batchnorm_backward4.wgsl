// batchnorm_backward.wgsl on vec4s; lanes as in batchnorm_apply4.wgsl (SAME: one
// channel per vec4; otherwise S == 1 and the lanes are channels c..c+3).
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<vec4<f32>>;

const WG: u32 = 256;
const RELU: bool = false;
const SAME: bool = true;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) {
    return;
  }
  var mean: vec4<f32>;
  var a: vec4<f32>;
  var b: vec4<f32>;
  var d: vec4<f32>;
  if (SAME) {
    let c = (i * 4u / p.s) % p.c;
    mean = vec4<f32>(stats[c]);
    a = vec4<f32>(coef[c]);
    b = vec4<f32>(coef[p.c + c]);
    d = vec4<f32>(coef[2u * p.c + c]);
  } else {
    let c = (i * 4u) % p.c;
    let c2 = p.c + c;
    let c3 = 2u * p.c + c;
    mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
    a = vec4<f32>(coef[c], coef[c + 1u], coef[c + 2u], coef[c + 3u]);
    b = vec4<f32>(coef[c2], coef[c2 + 1u], coef[c2 + 2u], coef[c2 + 3u]);
    d = vec4<f32>(coef[c3], coef[c3 + 1u], coef[c3 + 2u], coef[c3 + 3u]);
  }
  var g = dy[i];
  if (RELU) {
    g = select(vec4<f32>(0.0), g, y[i] > vec4<f32>(0.0));
  }
  dx[i] = a * g + b * (x[i] - mean) + d;
}
