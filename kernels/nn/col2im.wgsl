// col2im for the explicit-GEMM conv input gradient: dX[n0 + n, ci, iy, ix] = sum over the taps
// (ky, kx) with iy + pad - ky = oy * STRIDE, ix + pad - kx = ox * STRIDE inside the output of
// dcols[(ci, ky, kx), (n, oy, ox)] (dcols = W^T dY, [cin*KH*KW, ldc]). A gather: every dX
// element is written once, no atomics. KH, KW, STRIDE are compile-time so the tap loop unrolls
// and the stride test folds. One invocation per dX element (workgroup_id.y = ci).
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

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let i = gid.x;
  if (i >= p.npos) { return; }
  let ci = wg.y;
  let t = split3(i, p.h * p.w, p.inv_hw, p.w, p.inv_w); // (n, iy, ix)
  let col0 = t.x * p.oh * p.ow;
  var s = 0.0;
  for (var ky = 0u; ky < KH; ky++) {
    let ty = i32(t.y + p.pad) - i32(ky);
    if (ty < 0 || u32(ty) % STRIDE != 0u) { continue; }
    let oy = u32(ty) / STRIDE;
    if (oy >= p.oh) { continue; }
    for (var kx = 0u; kx < KW; kx++) {
      let tx = i32(t.z + p.pad) - i32(kx);
      if (tx < 0 || u32(tx) % STRIDE != 0u) { continue; }
      let ox = u32(tx) / STRIDE;
      if (ox >= p.ow) { continue; }
      s += dcols[((ci * KH + ky) * KW + kx) * p.ldc + col0 + oy * p.ow + ox];
    }
  }
  dX[((p.n0 + t.x) * p.cin + ci) * p.h * p.w + t.y * p.w + t.z] = s;
}
