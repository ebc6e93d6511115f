// Batch-norm normalisation (lanes, grid: batchnorm_lanes.wgsl):
// y = (x - mean) * invstd * gamma + beta, then max(y, 0) when the ReLU is fused.
@group(0) @binding(1) var<storage, read> x: array<vf>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vf>;

const RELU: bool = false;

fn chan(c: u32) -> vec4<f32> { return vec4<f32>(stats[c], stats[p.c + c], gamma[c], beta[c]); }

fn bn_elem(i: u32, o: u32, q: Lanes) {
  var v: vf;
  // Each width keeps the rounding it has always had: vec4s scale by (invstd * gamma) at once.
  if (LANES == 1u) {
    v = (x[i] - q.q0) * q.q1 * q.q2 + q.q3;
  } else {
    v = (x[i] - q.q0) * (q.q1 * q.q2) + q.q3;
  }
  if (RELU) {
    v = max(v, vf(0.0));
  }
  y[o] = v;
}
fn bn_zero(o: u32) { y[o] = vf(0.0); }
