// Batch-norm input gradient over [N, C, S], LANES elements per invocation as in
// batchnorm_apply.wgsl (vf from lanes1.wgsl or lanes4.wgsl; entry point: elementwise.wgsl):
// dx = A g + B (x - mean) + D with per-channel A, B, D from grad_final
// (batchnorm_finalize.wgsl); g = dy, masked by y > 0 when the ReLU is fused.
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vf>;
@group(0) @binding(2) var<storage, read> dy: array<vf>;
@group(0) @binding(3) var<storage, read> y: array<vf>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<vf>;

const RELU: bool = false;
const SAME: bool = true;

fn ew_len() -> u32 { return p.total; }
fn ew(i: u32) {
  var mean: vf;
  var a: vf;
  var b: vf;
  var d: vf;
  if (SAME) {
    let c = (i * LANES / p.s) % p.c;
    mean = vf(stats[c]);
    a = vf(coef[c]);
    b = vf(coef[p.c + c]);
    d = vf(coef[2u * p.c + c]);
  } else {
    let c = (i * LANES) % p.c;
    let c2 = p.c + c;
    let c3 = 2u * p.c + c;
    mean = vf4(vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]));
    a = vf4(vec4<f32>(coef[c], coef[c + 1u], coef[c + 2u], coef[c + 3u]));
    b = vf4(vec4<f32>(coef[c2], coef[c2 + 1u], coef[c2 + 2u], coef[c2 + 3u]));
    d = vf4(vec4<f32>(coef[c3], coef[c3 + 1u], coef[c3 + 2u], coef[c3 + 3u]));
  }
  var g = dy[i];
  if (RELU) {
    g = select(vf(0.0), g, y[i] > vf(0.0));
  }
  dx[i] = a * g + b * (x[i] - mean) + d;
}
