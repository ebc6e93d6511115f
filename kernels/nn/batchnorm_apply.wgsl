// Batch-norm normalisation over [N, C, S], LANES consecutive elements per invocation (vf, from
// lanes1.wgsl or lanes4.wgsl; entry point: elementwise.wgsl):
// y = (x - mean) * invstd * gamma + beta, then max(y, 0) when the ReLU is fused.
// SAME: the lanes share a channel (S % LANES == 0); otherwise S == 1 and C % 4 == 0, so the
// 4 lanes are channels c..c+3.
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vf>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vf>;

const RELU: bool = false;
const SAME: bool = true;

fn ew_len() -> u32 { return p.total; }
fn ew(i: u32) {
  var mean: vf;
  var invstd: vf;
  var g: vf;
  var shift: vf;
  if (SAME) {
    let c = (i * LANES / p.s) % p.c;
    mean = vf(stats[c]);
    invstd = vf(stats[p.c + c]);
    g = vf(gamma[c]);
    shift = vf(beta[c]);
  } else {
    let c = (i * LANES) % p.c;
    mean = vf4(vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]));
    invstd = vf4(vec4<f32>(stats[p.c + c], stats[p.c + c + 1u], stats[p.c + c + 2u], stats[p.c + c + 3u]));
    g = vf4(vec4<f32>(gamma[c], gamma[c + 1u], gamma[c + 2u], gamma[c + 3u]));
    shift = vf4(vec4<f32>(beta[c], beta[c + 1u], beta[c + 2u], beta[c + 3u]));
  }
  var v: vf;
  // Each width keeps the rounding it has always had: vec4s scale by (invstd * gamma) at once.
  if (LANES == 1u) {
    v = (x[i] - mean) * invstd * g + shift;
  } else {
    v = (x[i] - mean) * (invstd * g) + shift;
  }
  if (RELU) {
    v = max(v, vf(0.0));
  }
  y[i] = v;
}
