// y[i] += alpha * x[i]: gradient accumulation and simple updates.
struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // 2-D grid so that large tensors fit under 65535 workgroups per dimension.
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) {
    y[i] = y[i] + p.alpha * x[i];
  }
}
