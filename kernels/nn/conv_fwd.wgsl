// Conv forward as implicit GEMM: Y[co, (n,oy,ox)] = W[co, (ci,ky,kx)] * im2col(X)[(ci,ky,kx), (n,oy,ox)]
// M = cout, N = nb*oh*ow, K = cin*kh*kw. im2col is never materialised: mm_readB gathers
// from X with zero padding; bias is fused in the epilogue.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
const HAS_BIAS: bool = false;

fn mm_dims(b: u32) -> vec3<u32> { return vec3<u32>(p.cout, min(p.chunk_cols, p.nb * p.oh * p.ow - b * p.chunk_cols), p.cin * p.kh * p.kw); }
fn mm_readA(b: u32, row: u32, k: u32) -> f32 { return Wt[row * p.cin * p.kh * p.kw + k]; }
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  let o = split3(b * p.chunk_cols + col, p.oh * p.ow, p.inv_ohw, p.ow, p.inv_ow);
  let t = split3(k, p.kh * p.kw, p.inv_khw, p.kw, p.inv_kw); // (ci, ky, kx)
  let iy = i32(o.y * p.stride + t.y) - i32(p.pad);
  let ix = i32(o.z * p.stride + t.z) - i32(p.pad);
  if (iy < 0 || ix < 0 || u32(iy) >= p.h || u32(ix) >= p.w) { return 0.0; }
  return X[((o.x * p.cin + t.x) * p.h + u32(iy)) * p.w + u32(ix)];
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  let o = split3(b * p.chunk_cols + col, p.oh * p.ow, p.inv_ohw, p.ow, p.inv_ow);
  var r = v;
  if (HAS_BIAS) { r += bias[row]; }
  Y[((o.x * p.cout + row) * p.oh + o.y) * p.ow + o.z] = r;
}
