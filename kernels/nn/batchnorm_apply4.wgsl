// batchnorm_apply.wgsl on vec4s (fewer index divisions, 16-byte accesses):
// one thread per 4 consecutive elements. SAME: S % 4 == 0, so the 4 lanes share
// a channel; otherwise S == 1 and C % 4 == 0, so the lanes are channels c..c+3.
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

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
  var scale: vec4<f32>;
  var shift: vec4<f32>;
  if (SAME) {
    let c = (i * 4u / p.s) % p.c;
    mean = vec4<f32>(stats[c]);
    scale = vec4<f32>(stats[p.c + c] * gamma[c]);
    shift = vec4<f32>(beta[c]);
  } else {
    let c = (i * 4u) % p.c;
    mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
    scale = vec4<f32>(stats[p.c + c], stats[p.c + c + 1u], stats[p.c + c + 2u], stats[p.c + c + 3u]) *
      vec4<f32>(gamma[c], gamma[c + 1u], gamma[c + 2u], gamma[c + 3u]);
    shift = vec4<f32>(beta[c], beta[c + 1u], beta[c + 2u], beta[c + 3u]);
  }
  var v = (x[i] - mean) * scale + shift;
  if (RELU) {
    v = max(v, vec4<f32>(0.0));
  }
  y[i] = v;
}
