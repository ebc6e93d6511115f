// Max and average pooling over [N, C, H, W] planes, window K x K, stride S, no
// padding, floor output size (PyTorch's defaults). Forward: one thread per output;
// backward: one thread per input gathering from the windows that cover it (no
// atomics, overlapping windows allowed). Max pool keeps the first maximum in
// row-major window order (as PyTorch) and saves its index h*W + w for backward.
struct Params { total: u32, h: u32, w: u32, oh: u32, ow: u32, k: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> argin: array<u32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

const WG: u32 = 256;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn max_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.total) {
    return;
  }
  let plane = i / (p.oh * p.ow);
  let r = i - plane * p.oh * p.ow;
  let oy = r / p.ow;
  let ox = r - oy * p.ow;
  let base = plane * p.h * p.w;
  var at = (oy * p.s) * p.w + ox * p.s;
  var best = x[base + at];
  for (var ky = 0u; ky < p.k; ky = ky + 1u) {
    for (var kx = 0u; kx < p.k; kx = kx + 1u) {
      let q = (oy * p.s + ky) * p.w + ox * p.s + kx;
      let v = x[base + q];
      if (v > best) {
        best = v;
        at = q;
      }
    }
  }
  y[i] = best;
  arg[i] = at;
}

@compute @workgroup_size(WG)
fn avg_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.total) {
    return;
  }
  let plane = i / (p.oh * p.ow);
  let r = i - plane * p.oh * p.ow;
  let oy = r / p.ow;
  let ox = r - oy * p.ow;
  let base = plane * p.h * p.w;
  var acc = 0.0;
  for (var ky = 0u; ky < p.k; ky = ky + 1u) {
    for (var kx = 0u; kx < p.k; kx = kx + 1u) {
      acc = acc + x[base + (oy * p.s + ky) * p.w + ox * p.s + kx];
    }
  }
  y[i] = acc / f32(p.k * p.k);
}

// Output rows (or columns) whose window covers input coordinate v: [lo, hi).
fn cover(v: u32, n: u32) -> vec2<u32> {
  var lo = 0u;
  if (v + 1u > p.k) {
    lo = (v + 1u - p.k + p.s - 1u) / p.s;
  }
  let hi = min(v / p.s + 1u, n);
  return vec2<u32>(lo, hi);
}

@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.total) {
    return;
  }
  let plane = i / (p.h * p.w);
  let q = i - plane * p.h * p.w;
  let yy = q / p.w;
  let xx = q - yy * p.w;
  let ry = cover(yy, p.oh);
  let rx = cover(xx, p.ow);
  let obase = plane * p.oh * p.ow;
  var acc = 0.0;
  for (var oy = ry.x; oy < ry.y; oy = oy + 1u) {
    for (var ox = rx.x; ox < rx.y; ox = ox + 1u) {
      let o = obase + oy * p.ow + ox;
      if (argin[o] == q) {
        acc = acc + dy[o];
      }
    }
  }
  dx[i] = acc;
}

@compute @workgroup_size(WG)
fn avg_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.total) {
    return;
  }
  let plane = i / (p.h * p.w);
  let q = i - plane * p.h * p.w;
  let yy = q / p.w;
  let xx = q - yy * p.w;
  let ry = cover(yy, p.oh);
  let rx = cover(xx, p.ow);
  let obase = plane * p.oh * p.ow;
  var acc = 0.0;
  for (var oy = ry.x; oy < ry.y; oy = oy + 1u) {
    for (var ox = rx.x; ox < rx.y; ox = ox + 1u) {
      acc = acc + dy[obase + oy * p.ow + ox];
    }
  }
  dx[i] = acc / f32(p.k * p.k);
}
