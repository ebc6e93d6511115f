// SGD with momentum, PyTorch semantics (lr from hyp[0] on the GPU):
//   d = g + wd p; buf = d on the first step, else momentum buf + (1 - dampening) d;
//   d = d + momentum buf (nesterov) or buf; p = p - lr d. momentum = 0: p = p - lr d.
struct Params { n: u32, momentum: f32, dampening: f32, wd: f32, nesterov: u32, first: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> buf: array<f32>;
// w, g, hyp: update.wgsl; entry point: elementwise.wgsl.

fn ew_len() -> u32 { return p.n; }
fn ew(i: u32) {
  let v = w[i];
  var d = g[i] + p.wd * v;
  if (p.momentum != 0.0) {
    var b = d;
    if (p.first == 0u) {
      b = p.momentum * buf[i] + (1.0 - p.dampening) * d;
    }
    buf[i] = b;
    if (p.nesterov != 0u) {
      d = d + p.momentum * b;
    } else {
      d = b;
    }
  }
  w[i] = v - hyp[0] * d;
}
