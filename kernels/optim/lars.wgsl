// LARS update as facebookresearch/vicreg's main_vicreg.py (momentum buffer mu, lr
// read from hyp[0] on the GPU so a schedule never needs a read-back):
//   update_adapted (weights, ndim != 1): dp = g + wd p; every workgroup first
//     sums the np norm partials from lars_norms.wgsl (cheap, avoids a dispatch),
//     q = eta |p| / |dp| when both norms > 0, else 1; dp = q dp.
//   update_plain (biases, BN parameters): dp = g (no decay, no adaptation).
//   then mu = momentum mu + dp; p = p - lr mu.
struct Params { n: u32, np: u32, wd: f32, momentum: f32, eta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> mu: array<f32>;
@group(0) @binding(4) var<storage, read> part: array<f32>;
@group(0) @binding(5) var<storage, read> hyp: array<f32>;

const WG: u32 = 256;

// wg_sum2: kernels/common/wg_sum2.wgsl (included after this part).

@compute @workgroup_size(WG)
fn update_adapted(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let l = lid.x;
  var a = 0.0;
  var b = 0.0;
  for (var k = l; k < p.np; k = k + WG) {
    a = a + part[2u * k];
    b = b + part[2u * k + 1u];
  }
  let t = wg_sum2(l, a, b);
  let pn = sqrt(t.x);
  let dn = sqrt(t.y);
  var q = 1.0;
  if (pn > 0.0 && dn > 0.0) {
    q = p.eta * pn / dn;
  }
  let lr = hyp[0];
  for (var i = wid.x * WG + l; i < p.n; i = i + nwg.x * WG) {
    let v = w[i];
    let m = p.momentum * mu[i] + q * (g[i] + p.wd * v);
    mu[i] = m;
    w[i] = v - lr * m;
  }
}

@compute @workgroup_size(WG)
fn update_plain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) {
    let m = p.momentum * mu[i] + g[i];
    mu[i] = m;
    w[i] = w[i] - hyp[0] * m;
  }
}
