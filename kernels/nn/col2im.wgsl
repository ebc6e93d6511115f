// col2im for the explicit-GEMM conv input gradient: dX[n0 + n, ci, iy, ix] = sum over the taps
// (ky, kx) with iy + pad - ky = oy * STRIDE, ix + pad - kx = ox * STRIDE inside the output of
// dcols[(ci, ky, kx), (n, oy, ox)] (dcols = W^T dY, [cin*KH*KW, ldc]). A gather: every dX
// element is written once, no atomics. KH, KW, STRIDE are compile-time so the tap loops unroll.
// One invocation per dX position (x and z) and CPI channels (workgroup_id.y = channel group): the
// position and its taps are decoded once for all the channels.
struct Params {
  cin: u32, h: u32, w: u32, pad: u32,
  oh: u32, ow: u32, npos: u32, ldc: u32,
  n0: u32, inv_hw: f32, inv_w: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dcols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dX: array<f32>;
const KH: u32 = 3;
const KW: u32 = 3;
const STRIDE: u32 = 1;
const CPI: u32 = 1; // channels per invocation

// Only the taps that can land on the output grid are visited: ky = (iy + pad) % STRIDE + STRIDE * j
// (ceil(KH / STRIDE) per axis: 4 taps instead of 9 for k3 s2). Branch-free:
// an invalid tap reads element 0 and is zeroed by a select (see im2col.wgsl).
const TY: u32 = (KH + STRIDE - 1u) / STRIDE;
const TX: u32 = (KW + STRIDE - 1u) / STRIDE;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + wg.z * nw.x * 64u;
  if (i >= p.npos) { return; }
  let t = split3(i, p.h * p.w, p.inv_hw, p.w, p.inv_w); // (n, iy, ix)
  let col0 = t.x * p.oh * p.ow;
  let py = t.y + p.pad;
  let px = t.z + p.pad;
  // Per tap: its (ky, kx) row offset and column, or validity false.
  var tap_row: array<u32, TY * TX>;
  var tap_col: array<u32, TY * TX>;
  var tap_ok: array<bool, TY * TX>;
  for (var jy = 0u; jy < TY; jy++) {
    let ky = py % STRIDE + STRIDE * jy;
    let oy = (py - ky) / STRIDE; // exact; wraps to a huge value when ky > py
    let oky = ky < KH && ky <= py && oy < p.oh;
    for (var jx = 0u; jx < TX; jx++) {
      let kx = px % STRIDE + STRIDE * jx;
      let ox = (px - kx) / STRIDE;
      let j = jy * TX + jx;
      tap_ok[j] = oky && kx < KW && kx <= px && ox < p.ow;
      tap_row[j] = ky * KW + kx;
      tap_col[j] = col0 + oy * p.ow + ox;
    }
  }
  let ci0 = wg.y * CPI;
  let ci1 = min(ci0 + CPI, p.cin);
  for (var ci = ci0; ci < ci1; ci++) {
    var s = 0.0;
    for (var j = 0u; j < TY * TX; j++) {
      let idx = (ci * KH * KW + tap_row[j]) * p.ldc + tap_col[j];
      s += select(0.0, dcols[select(0u, idx, tap_ok[j])], tap_ok[j]);
    }
    dX[((p.n0 + t.x) * p.cin + ci) * p.h * p.w + t.y * p.w + t.z] = s;
  }
}
