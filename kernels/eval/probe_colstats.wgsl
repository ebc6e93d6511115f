// Column statistics of train features for standardisation, one column per invocation,
// accumulated over row shards (a dispatch per shard and pass):
//   pass 0: st[c] += sum x;  pass 1: st[R + c] += sum (x - mean)^2 (two-pass: no cancellation);
//   pass 2: ms[c] = mean, ms[R + c] = 1 / sqrt(var + eps) (population variance).
struct Params { rows: u32, r: u32, pass_: u32, n: f32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> st: array<f32>;
@group(0) @binding(3) var<storage, read_write> ms: array<f32>;

const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.r) { return; }
  if (p.pass_ == 2u) {
    ms[c] = st[c] / p.n;
    ms[p.r + c] = 1.0 / sqrt(st[p.r + c] / p.n + p.eps);
    return;
  }
  var s = 0.0;
  if (p.pass_ == 0u) {
    for (var i = 0u; i < p.rows; i++) { s += x[i * p.r + c]; }
    st[c] += s;
  } else {
    let m = st[c] / p.n;
    for (var i = 0u; i < p.rows; i++) { let d = x[i * p.r + c] - m; s = fma(d, d, s); }
    st[p.r + c] += s;
  }
}
