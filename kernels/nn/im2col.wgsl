// im2col for the explicit-GEMM conv path: cols[r, c] = X[n0 + n, ci, oy*STRIDE + ky - pad, ox*STRIDE + kx - pad]
// (0 outside X) for row r = (ci, ky, kx) and column c = (n, oy, ox) over the chunk's images.
// Columns ncols..ldc-1 are written as zeros (GEMM K padding of the weight gradient).
// With KH = KW = 1, STRIDE = 1 and pad 0 it is the [n, c, q] -> [c, (n, q)] transpose of dY.
//
// One invocation per output position q of one image and CPI channels (workgroup_id = (q block,
// channel group, n)): the position is decoded once, then the channels and the KH x KW taps
// (compile-time, unrolled) are stepped from it. On llvmpipe a storage access costs a per-lane loop whatever its address and
// a divergent branch runs under masks, so the taps are branch-free: a tap outside X reads
// element 0 and a select zeroes it.
struct Params {
  cin: u32, h: u32, w: u32, pad: u32,
  oh: u32, ow: u32, ncols: u32, ldc: u32,
  n0: u32, inv_ow: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<f32>;
const KH: u32 = 3;
const KW: u32 = 3;
const STRIDE: u32 = 1;
const CPI: u32 = 1; // channels per invocation

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let q = gid.x;
  let n = wg.z;
  let ohw = p.oh * p.ow;
  let c = n * ohw + q;
  let ci0 = wg.y * CPI;
  let ci1 = min(ci0 + CPI, p.cin);
  // Zero padding columns (first image's invocations, one per padding column).
  if (n == 0u && q < p.ldc - p.ncols) {
    for (var r = ci0 * KH * KW; r < ci1 * KH * KW; r++) { cols[r * p.ldc + p.ncols + q] = 0.0; }
  }
  if (q >= ohw) { return; }
  let oy = udiv(q, p.ow, p.inv_ow);
  let ox = q - oy * p.ow;
  for (var ci = ci0; ci < ci1; ci++) {
    let plane = ((p.n0 + n) * p.cin + ci) * p.h * p.w;
    for (var ky = 0u; ky < KH; ky++) {
      let iy = i32(oy * STRIDE + ky) - i32(p.pad);
      let oky = iy >= 0 && u32(iy) < p.h;
      for (var kx = 0u; kx < KW; kx++) {
        let ix = i32(ox * STRIDE + kx) - i32(p.pad);
        let inside = oky && ix >= 0 && u32(ix) < p.w;
        let idx = plane + u32(iy) * p.w + u32(ix);
        cols[((ci * KH + ky) * KW + kx) * p.ldc + c] = select(0.0, X[select(0u, idx, inside)], inside);
      }
    }
  }
}
