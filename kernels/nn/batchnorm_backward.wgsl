// Batch-norm input gradient (lanes, grid: batchnorm_lanes.wgsl): dx = A g + B (x - mean) + D
// with per-channel A, B, D from grad_final (batchnorm_finalize.wgsl); g = dy, masked by y > 0
// when the ReLU is fused.
@group(0) @binding(1) var<storage, read> x: array<vf>;
@group(0) @binding(2) var<storage, read> dy: array<vf>;
@group(0) @binding(3) var<storage, read> y: array<vf>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<vf>;

const RELU: bool = false;

fn chan(c: u32) -> vec4<f32> { return vec4<f32>(stats[c], coef[c], coef[p.c + c], coef[2u * p.c + c]); }

fn bn_elem(i: u32, o: u32, q: Lanes) {
  var g = dy[i];
  if (RELU) {
    g = select(vf(0.0), g, y[i] > vf(0.0));
  }
  dx[o] = q.q1 * g + q.q2 * (x[i] - q.q0) + q.q3;
}
fn bn_zero(o: u32) { dx[o] = vf(0.0); }
