// Conv weight gradient as implicit GEMM over the nb*oh*ow positions:
// [dW | db][co, (ci,ky,kx)] = sum over (n,oy,ox) of dY[n, co, oy, ox] * [im2col(X) | 1]
// M = cout, N = cin*kh*kw (+1: a column of ones yields db), K = nb*oh*ow.
// Split-K: batch index b takes positions [b*kchunk, (b+1)*kchunk); with SPLIT each
// split writes its own slice of `part` and conv_wgrad_reduce.wgsl sums them.
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> dW: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
const HAS_BIAS: bool = false;
const SPLIT: bool = false;
// Unsplit: add into dW and db (gradients the tape already holds) instead of writing them.
const ACCUM: bool = false;

fn ncols() -> u32 { return p.cin * p.kh * p.kw + select(0u, 1u, HAS_BIAS); }
fn mm_dims(b: u32) -> vec3<u32> { return vec3<u32>(p.cout, ncols(), min(p.kchunk, p.ktotal - b * p.kchunk)); }
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  let o = split3(b * p.kchunk + k, p.oh * p.ow, p.inv_ohw, p.ow, p.inv_ow);
  return dY[((o.x * p.cout + row) * p.oh + o.y) * p.ow + o.z];
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  let ck = p.cin * p.kh * p.kw;
  if (HAS_BIAS && col == ck) { return 1.0; }
  let o = split3(b * p.kchunk + k, p.oh * p.ow, p.inv_ohw, p.ow, p.inv_ow);
  let t = split3(col, p.kh * p.kw, p.inv_khw, p.kw, p.inv_kw);
  let iy = i32(o.y * p.stride + t.y) - i32(p.pad);
  let ix = i32(o.z * p.stride + t.z) - i32(p.pad);
  if (iy < 0 || ix < 0 || u32(iy) >= p.h || u32(ix) >= p.w) { return 0.0; }
  return X[((o.x * p.cin + t.x) * p.h + u32(iy)) * p.w + u32(ix)];
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  if (SPLIT) { dW[(b * p.cout + row) * ncols() + col] = v; return; }
  let ck = p.cin * p.kh * p.kw;
  if (HAS_BIAS && col == ck) {
    if (ACCUM) { db[row] += v; } else { db[row] = v; }
  } else {
    if (ACCUM) { dW[row * ck + col] += v; } else { dW[row * ck + col] = v; }
  }
}
