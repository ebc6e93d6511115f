// Linear layer prelude for matmul_core.wgsl (PyTorch layout: W [out, in], b [out]).
// MODE 0: Y = X W^T + b (+ReLU)       M = batch, N = out, K = in
// MODE 1: dX = G W                     M = batch, N = in,  K = out
// MODE 2: dW = G^T X                   M = out,   N = in,  K = batch (db: linear_bias_grad.wgsl)
// G = dY, masked by Y > 0 when the forward fused a ReLU (MASK); with G_T (MODE 2 only) G holds
// dY'ᵀ [out, batch], the mask already applied (common/transpose.wgsl).
struct Params { batch: u32, nin: u32, nout: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;   // MODE 0, 2: input [batch, in]
@group(0) @binding(2) var<storage, read> Wt: array<f32>;  // MODE 0, 1: weight [out, in]
@group(0) @binding(3) var<storage, read> G: array<f32>;   // MODE 1, 2: dY [batch, out]
@group(0) @binding(4) var<storage, read> Yf: array<f32>;  // MASK: forward output [batch, out]
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> C: array<f32>;  // Y, dX or dW

const MODE: u32 = 0;
const HAS_BIAS: bool = false;
const RELU: bool = false;
const MASK: bool = false;
// MODE 1, 2: add into C (a gradient the tape already holds) instead of writing it.
const ACCUM: bool = false;
const G_T: bool = false;

fn grad_out(b: u32, o: u32) -> f32 {
  let i = b * p.nout + o;
  if (MASK && Yf[i] <= 0.0) { return 0.0; }
  return G[i];
}

fn mm_dims(b: u32) -> vec3<u32> {
  if (MODE == 0u) { return vec3<u32>(p.batch, p.nout, p.nin); }
  if (MODE == 1u) { return vec3<u32>(p.batch, p.nin, p.nout); }
  return vec3<u32>(p.nout, p.nin, p.batch);
}
fn mm_readA(b: u32, row: u32, k: u32) -> f32 {
  if (MODE == 0u) { return X[row * p.nin + k]; }
  if (MODE == 1u) { return grad_out(row, k); }
  if (G_T) { return G[row * p.batch + k]; }
  return grad_out(k, row);
}
fn mm_readB(b: u32, k: u32, col: u32) -> f32 {
  if (MODE == 0u) { return Wt[col * p.nin + k]; }
  if (MODE == 1u) { return Wt[k * p.nin + col]; }
  return X[k * p.nin + col];
}
fn mm_write(b: u32, row: u32, col: u32, v: f32) {
  if (MODE == 0u) {
    var r = v;
    if (HAS_BIAS) { r += bias[col]; }
    if (RELU) { r = max(r, 0.0); }
    C[row * p.nout + col] = r;
  } else if (ACCUM) {
    C[row * p.nin + col] += v;
  } else {
    C[row * p.nin + col] = v;
  }
}
fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
fn mm_stat_col(b: u32, col: u32) -> bool { return false; }
fn mm_row_stats(b: u32, row: u32, part: u32, s: vec3<f32>) {}

// @section vec4: mm_readA4 / mm_readB4 for the CPU loop on vec4 views of the same buffers (the
// op's pickVec4(); otherwise MATMUL_SCALAR_HOOKS stands here: the views would be 10 storage buffers).
// The op sets VEC_A / VEC_B only when the leading dimension read is a multiple of 4:
//   MODE 0: A = X     [batch, in]  along K (VEC_A = 1); B = Wᵀ read from W [out, in] along K (VEC_B = 2)
//   MODE 1: A = dY'   [batch, out] along K (VEC_A = 1); B = W [out, in] along N (VEC_B = 1)
//   MODE 2: A = dY'ᵀ  read from dY along M (VEC_A = 2), or with G_T from dY'ᵀ along K (VEC_A = 1);
//           B = X along N (VEC_B = 1).
@group(0) @binding(7) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> Wt4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> Yf4: array<vec4<f32>>;

fn grad_out4(i: u32) -> vec4<f32> {
  let g = G4[i / 4u];
  if (MASK) { return select(g, vec4<f32>(0.0), Yf4[i / 4u] <= vec4<f32>(0.0)); }
  return g;
}
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (MODE == 0u) { return X4[(row * p.nin + k) / 4u]; }
  if (MODE == 1u) { return grad_out4(row * p.nout + k); }
  if (G_T) { return G4[(row * p.batch + k) / 4u]; }
  return grad_out4(k * p.nout + row);
}
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (MODE == 0u) { return Wt4[(col * p.nin + k) / 4u]; }
  if (MODE == 1u) { return Wt4[(k * p.nin + col) / 4u]; }
  return X4[(k * p.nin + col) / 4u];
}
