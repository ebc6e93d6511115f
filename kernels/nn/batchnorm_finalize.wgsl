// Per-channel batch-norm finishing: one workgroup per channel sums the chunk
// partials written by batchnorm_reduce*.wgsl (tree in shared memory; SERIAL: one invocation).
//   stats_final: stats = [mean (C) | invstd (C)] from the shifted sums (biased
//                variance, as PyTorch normalises), and the running statistics
//                updated in place with the UNBIASED variance.
//   grad_final:  dbeta = sum g, dgamma = invstd * sum g (x - mean), and the
//                coefficients of dx = A g + B (x - mean) + D per channel
//                (train: A = gamma invstd, B = -A invstd dgamma / M, D = -A dbeta / M;
//                eval: statistics are constants, so B = D = 0).
//   stats_merge: stats_final's outputs from `chunks` partials (count, mean, squared deviations)
//                per channel, written by the conv's GEMM (matmul_core.wgsl, MM_ROW_STATS) and
//                merged in order by Chan et al.'s pairwise formula (SERIAL: CPU adapters).
//   eval_stats:  stats from the running statistics (one thread per channel).
//   fold:        eval-mode batch norm folded into the conv before it (one thread per weight of
//                W [c, s]): with k = gamma * inverseSqrt(running_var + eps), W' = W k per output
//                channel and b' = beta - running_mean k, so conv(x, W') + b' = BN_eval(conv(x, W)):
//                evaluation runs one GEMM with bias and ReLU per block, no pass over activations.
struct Params { c: u32, s: u32, chunks: u32, m: u32, eps: f32, momentum: f32, flag: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> rmean: array<f32>;
@group(0) @binding(5) var<storage, read_write> rvar: array<f32>;
@group(0) @binding(6) var<storage, read> sstats: array<f32>;
@group(0) @binding(7) var<storage, read> gamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(9) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(10) var<storage, read_write> coef: array<f32>;
@group(0) @binding(11) var<storage, read> rmean_in: array<f32>;
@group(0) @binding(12) var<storage, read> rvar_in: array<f32>;
@group(0) @binding(13) var<storage, read> w: array<f32>;
@group(0) @binding(14) var<storage, read> beta: array<f32>;
@group(0) @binding(15) var<storage, read_write> wout: array<f32>;
@group(0) @binding(16) var<storage, read_write> bout: array<f32>;

const WG: u32 = 64;
// CPU adapters: one invocation per channel adds its few chunk partials in order (dispatch
// ceil(C / WG) workgroups). The shared-memory tree costs llvmpipe a coroutine switch per fibre
// at each of its barriers: 0.6-0.8 ms for the expander's 256 channels, a tenth of that serial.
const SERIAL: bool = false;
// grad_final: add dgamma and dbeta into gradients the tape already holds instead of writing them.
const ACCUM: bool = false;

// wg_sum2: kernels/common/wg_sum2.wgsl (included after this part).

fn sum_partials(c: u32, l: u32) -> vec2<f32> {
  var a = 0.0;
  var b = 0.0;
  let step = select(WG, 1u, SERIAL);
  for (var k = select(l, 0u, SERIAL); k < p.chunks; k = k + step) {
    a = a + part[(c * p.chunks + k) * 2u];
    b = b + part[(c * p.chunks + k) * 2u + 1u];
  }
  if (SERIAL) { return vec2<f32>(a, b); }
  return wg_sum2(l, a, b);
}

// The channel this invocation finishes, and whether it writes it (SERIAL: every invocation of a
// channel < C; else lane 0 of the channel's workgroup).
fn channel(wid: vec3<u32>, lid: vec3<u32>) -> vec2<u32> {
  if (SERIAL) {
    let c = wid.x * WG + lid.x;
    return vec2<u32>(min(c, p.c - 1u), u32(c < p.c));
  }
  return vec2<u32>(wid.x, u32(lid.x == 0u));
}

@compute @workgroup_size(WG)
fn stats_final(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let cw = channel(wid, lid);
  let c = cw.x;
  let t = sum_partials(c, lid.x);
  if (cw.y != 0u) {
    let m = f32(p.m);
    let d = t.x / m;
    let v = max(t.y / m - d * d, 0.0);
    let mean = x[c * p.s] + d;
    stats[c] = mean;
    stats[p.c + c] = inverseSqrt(v + p.eps);
    if (p.flag != 0u) {
      let unbiased = select(v, v * m / (m - 1.0), p.m > 1u);
      rmean[c] = (1.0 - p.momentum) * rmean[c] + p.momentum * mean;
      rvar[c] = (1.0 - p.momentum) * rvar[c] + p.momentum * unbiased;
    }
  }
}

// SERIAL only: one invocation per channel.
@compute @workgroup_size(WG)
fn stats_merge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let cw = channel(wid, lid);
  let c = cw.x;
  var n = 0.0;
  var mean = 0.0;
  var dev = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let o = (c * p.chunks + k) * 3u;
    let nb = part[o];
    if (nb > 0.0) {
      let d = part[o + 1u] - mean;
      let t = n + nb;
      mean += d * (nb / t);
      dev += part[o + 2u] + d * d * (n * nb / t);
      n = t;
    }
  }
  if (cw.y != 0u) {
    let v = dev / max(n, 1.0);
    stats[c] = mean;
    stats[p.c + c] = inverseSqrt(v + p.eps);
    if (p.flag != 0u) {
      let unbiased = select(v, dev / (n - 1.0), n > 1.0);
      rmean[c] = (1.0 - p.momentum) * rmean[c] + p.momentum * mean;
      rvar[c] = (1.0 - p.momentum) * rvar[c] + p.momentum * unbiased;
    }
  }
}

@compute @workgroup_size(WG)
fn grad_final(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let cw = channel(wid, lid);
  let c = cw.x;
  let t = sum_partials(c, lid.x);
  if (cw.y != 0u) {
    let invstd = sstats[p.c + c];
    let db = t.x;
    let dg = t.y * invstd;
    if (ACCUM) {
      dbeta[c] += db;
      dgamma[c] += dg;
    } else {
      dbeta[c] = db;
      dgamma[c] = dg;
    }
    let a = gamma[c] * invstd;
    let m = f32(p.m);
    coef[c] = a;
    // flag: 1 = training statistics (they depend on x), 0 = eval.
    coef[p.c + c] = select(0.0, -a * invstd * dg / m, p.flag != 0u);
    coef[2u * p.c + c] = select(0.0, -a * db / m, p.flag != 0u);
  }
}

@compute @workgroup_size(WG)
fn eval_stats(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c < p.c) {
    stats[c] = rmean_in[c];
    stats[p.c + c] = inverseSqrt(rvar_in[c] + p.eps);
  }
}

@compute @workgroup_size(WG)
fn fold(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < p.c * p.s) {
    let c = i / p.s;
    let k = gamma[c] * inverseSqrt(rvar_in[c] + p.eps);
    wout[i] = w[i] * k;
    if (i == c * p.s) { bout[c] = beta[c] - rmean_in[c] * k; }
  }
}
