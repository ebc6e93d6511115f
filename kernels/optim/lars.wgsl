// LARS update as facebookresearch/vicreg's main_vicreg.py (momentum buffer mu, lr from hyp[0]):
//   norms (weights, ndim != 1), stage 1: workgroup k writes partial sums of p^2 and of
//     (g + wd p)^2 over its grid-stride share to part[2k], part[2k + 1].
//   update_adapted (weights): dp = g + wd p; every workgroup first sums the np norm partials
//     (cheap, avoids a dispatch), q = eta |p| / |dp| when both norms > 0, else 1; dp = q dp.
//   main (biases, BN parameters; elementwise.wgsl): dp = g (no decay, no adaptation).
//   then mu = momentum mu + dp; p = p - lr mu.
struct Params { n: u32, np: u32, wd: f32, momentum: f32, eta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> mu: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;
// w, g, hyp: update.wgsl; WG: elementwise.wgsl; wg_sum2: wg_sum2.wgsl (parts after this one).

@compute @workgroup_size(WG)
fn norms(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
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

fn ew_len() -> u32 { return p.n; }
fn ew(i: u32) {
  let m = p.momentum * mu[i] + g[i];
  mu[i] = m;
  w[i] = w[i] - hyp[0] * m;
}
