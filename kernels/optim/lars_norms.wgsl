// LARS norms, stage 1: workgroup k writes partial sums of p^2 and of
// (g + wd p)^2 over its grid-stride share to part[2k], part[2k + 1]
// (workgroup tree, wg_sum2). lars.wgsl's update_adapted finishes the sum.
struct Params { n: u32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

const WG: u32 = 256;

// wg_sum2: kernels/common/wg_sum2.wgsl (included after this part).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let l = lid.x;
  var a = 0.0;
  var b = 0.0;
  for (var i = wid.x * WG + l; i < p.n; i = i + nwg.x * WG) {
    let v = w[i];
    let d = g[i] + p.wd * v;
    a = a + v * v;
    b = b + d * d;
  }
  let t = wg_sum2(l, a, b);
  if (l == 0u) {
    part[2u * wid.x] = t.x;
    part[2u * wid.x + 1u] = t.y;
  }
}
