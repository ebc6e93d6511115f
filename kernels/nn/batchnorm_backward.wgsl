// Batch-norm input gradient, one thread per element of [N, C, S]:
// dx = A g + B (x - mean) + D with per-channel A, B, D from grad_final
// (batchnorm_finalize.wgsl); g = dy, masked by y > 0 when the ReLU is fused.
struct Params { total: u32, c: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

const WG: u32 = 256;
const RELU: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) {
    return;
  }
  let c = (i / p.s) % p.c;
  var g = dy[i];
  if (RELU && y[i] <= 0.0) {
    g = 0.0;
  }
  dx[i] = coef[c] * g + coef[p.c + c] * (x[i] - stats[c]) + coef[2u * p.c + c];
}
