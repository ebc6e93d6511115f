// AdamW, PyTorch semantics (no amsgrad). hyp = [lr, 1 - beta1^t, sqrt(1 - beta2^t)]
// is written on the GPU each step (lr may come from a schedule, t from the host):
//   p = p (1 - lr wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//   p = p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps).
struct Params { n: u32, beta1: f32, beta2: f32, eps: f32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
// w, g, hyp: update.wgsl; entry point: elementwise.wgsl.

fn ew_len() -> u32 { return p.n; }
fn ew(i: u32) {
  let lr = hyp[0];
  let gi = g[i];
  let wi = w[i] * (1.0 - lr * p.wd);
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  w[i] = wi - (lr / hyp[1]) * mi / (sqrt(vi) / hyp[2] + p.eps);
}
