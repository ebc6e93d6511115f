// Conv input gradient as a transposed-conv implicit GEMM:
// dX[ci, (n,iy,ix)] = sum over (co,ky,kx) of W[co, ci, ky, kx] * dY[n, co, oy, ox]
// with oy = (iy + pad - ky) / stride when that divides exactly and lands inside dY.
// M = cin, N = nb*h*w, K = cout*kh*kw; every dX element is written once (no atomics).
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

fn mm_dims(b: u32) -> vec3<u32> { return vec3<u32>(p.cin, min(p.chunk_cols, p.nb * p.h * p.w - b * p.chunk_cols), p.cout * p.kh * p.kw); }
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  let khw = p.kh * p.kw;
  let co = udiv(k, khw, p.inv_khw);
  return Wt[(co * p.cin + row) * khw + (k - co * khw)];
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  let i = split3(b * p.chunk_cols + col, p.h * p.w, p.inv_hw, p.w, p.inv_w);   // (n, iy, ix)
  let t = split3(k, p.kh * p.kw, p.inv_khw, p.kw, p.inv_kw); // (co, ky, kx)
  let ty = i32(i.y + p.pad) - i32(t.y);
  let tx = i32(i.z + p.pad) - i32(t.z);
  if (ty < 0 || tx < 0) { return 0.0; }
  let oy = udiv(u32(ty), p.stride, p.inv_stride);
  let ox = udiv(u32(tx), p.stride, p.inv_stride);
  if (oy * p.stride != u32(ty) || ox * p.stride != u32(tx) || oy >= p.oh || ox >= p.ow) { return 0.0; }
  return dY[((i.x * p.cout + t.x) * p.oh + oy) * p.ow + ox];
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  let i = split3(b * p.chunk_cols + col, p.h * p.w, p.inv_hw, p.w, p.inv_w);
  dX[((i.x * p.cin + row) * p.h + i.y) * p.w + i.z] = v;
}
