// im2col for the explicit-GEMM conv path: cols[r, c] = X[n0 + n, ci, oy*S + ky - pad, ox*S + kx - pad]
// (0 outside X) for row r = (ci, ky, kx) and column c = (n, oy, ox) over the chunk's images.
// Columns ncols..ldc-1 are written as zeros (GEMM padding); with ONES_ROW, row cin*kh*kw is
// 1 on valid columns (the bias-gradient column of dW = dY * cols^T). With kh = kw = 1,
// stride 1 and pad 0 it is the [c, n, q] -> [c, (n, q)] transpose that dY needs.
// One invocation writes 4 adjacent columns of one row (workgroup_id.y = row: uniform decode).
struct Params {
  cin: u32, h: u32, w: u32, kh: u32,
  kw: u32, stride: u32, pad: u32, oh: u32,
  ow: u32, ncols: u32, ldc: u32, n0: u32,
  inv_ohw: f32, inv_ow: f32, p0: u32, p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<vec4<f32>>;
const ONES_ROW: bool = false;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let c4 = gid.x;
  if (c4 * 4u >= p.ldc) { return; }
  let r = wg.y;
  let khw = p.kh * p.kw;
  let ci = r / khw;
  let ky = (r - ci * khw) / p.kw;
  let kx = r - ci * khw - ky * p.kw;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = c4 * 4u + j;
    if (c >= p.ncols) { break; }
    if (ONES_ROW && ci == p.cin) { v[j] = 1.0; continue; }
    let o = split3(c, p.oh * p.ow, p.inv_ohw, p.ow, p.inv_ow);
    let iy = i32(o.y * p.stride + ky) - i32(p.pad);
    let ix = i32(o.z * p.stride + kx) - i32(p.pad);
    if (iy >= 0 && ix >= 0 && u32(iy) < p.h && u32(ix) < p.w) {
      v[j] = X[(((p.n0 + o.x) * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix)];
    }
  }
  cols[(r * p.ldc) / 4u + c4] = v;
}
