// Eval-mode batch norm folded into the conv before it (entry: elementwise.wgsl, one element of
// W [cout, per] each): with s = gamma * inverseSqrt(running_var + eps),
//   W' = W * s (per output channel),  b' = beta - running_mean * s,
// so conv(x, W') + b' = BN_eval(conv(x, W)): evaluation runs one GEMM with bias and ReLU in its
// epilogue per block instead of a GEMM and a normalisation pass over every activation.
struct Params { cout: u32, per: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> rmean: array<f32>;
@group(0) @binding(5) var<storage, read> rvar: array<f32>;
@group(0) @binding(6) var<storage, read_write> wout: array<f32>;
@group(0) @binding(7) var<storage, read_write> bout: array<f32>;

fn ew_len() -> u32 { return p.cout * p.per; }
fn ew(i: u32) {
  let c = i / p.per;
  let s = gamma[c] * inverseSqrt(rvar[c] + p.eps);
  wout[i] = w[i] * s;
  if (i == c * p.per) { bout[c] = beta[c] - rmean[c] * s; }
}
