// Batch-norm normalisation, one thread per element of [N, C, S]:
// y = (x - mean) * invstd * gamma + beta, then max(y, 0) when the ReLU is fused.
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const WG: u32 = 256;
const RELU: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) {
    return;
  }
  let c = (i / p.s) % p.c;
  var v = (x[i] - stats[c]) * stats[p.c + c] * gamma[c] + beta[c];
  if (RELU) {
    v = max(v, 0.0);
  }
  y[i] = v;
}
