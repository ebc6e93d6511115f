// col2im for the explicit-GEMM conv input gradient: dX[n0 + n, ci, iy, ix] = sum over the taps
// (ky, kx) with iy + pad - ky = oy * STRIDE, ix + pad - kx = ox * STRIDE inside the output of
// dcols[(ci, ky, kx), (n, oy, ox)] (dcols = W^T dY, [cin*KH*KW, ldc]). A gather: every dX
// element is written once, no atomics. KH, KW, STRIDE are compile-time so the tap loops unroll.
// One invocation per dX element (workgroup_id.y = ci).
struct Params {
  cin: u32, h: u32, w: u32, pad: u32,
  oh: u32, ow: u32, npos: u32, ldc: u32,
  n0: u32, inv_hw: f32, inv_w: f32, p0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dcols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dX: array<f32>;
const KH: u32 = 3;
const KW: u32 = 3;
const STRIDE: u32 = 1;

// Only the taps that can land on the output grid are visited: ky = (iy + pad) % STRIDE + STRIDE * j
// (ceil(KH / STRIDE) per axis: 4 taps instead of 9 for k3 s2). Branch-free:
// an invalid tap reads element 0 and is zeroed by a select (see im2col.wgsl).
const TY: u32 = (KH + STRIDE - 1u) / STRIDE;
const TX: u32 = (KW + STRIDE - 1u) / STRIDE;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let i = gid.x;
  if (i >= p.npos) { return; }
  let ci = wg.y;
  let t = split3(i, p.h * p.w, p.inv_hw, p.w, p.inv_w); // (n, iy, ix)
  let col0 = t.x * p.oh * p.ow;
  let py = t.y + p.pad;
  let px = t.z + p.pad;
  var s = 0.0;
  for (var jy = 0u; jy < TY; jy++) {
    let ky = py % STRIDE + STRIDE * jy;
    let oy = (py - ky) / STRIDE; // exact; wraps to a huge value when ky > py
    let oky = ky < KH && ky <= py && oy < p.oh;
    for (var jx = 0u; jx < TX; jx++) {
      let kx = px % STRIDE + STRIDE * jx;
      let ox = (px - kx) / STRIDE;
      let ok = oky && kx < KW && kx <= px && ox < p.ow;
      let idx = ((ci * KH + ky) * KW + kx) * p.ldc + col0 + oy * p.ow + ox;
      s += select(0.0, dcols[select(0u, idx, ok)], ok);
    }
  }
  dX[((p.n0 + t.x) * p.cin + ci) * p.h * p.w + t.y * p.w + t.z] = s;
}
