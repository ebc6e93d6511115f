// Per-channel partial sums for batch norm on NCHW data (channel c's elements are
// N runs of S = H*W contiguous floats). Grid [chunks, C]: workgroup (k, c) reduces
// chunk k of channel c's M = N*S elements with a shared-memory tree and writes
// two partials to part[(c*chunks + k)*2 + {0,1}].
//   stats: a = sum(x - K), b = sum((x - K)^2), K = x[n=0,c,s=0]: shifting by a
//          sample of the channel keeps E[d^2] - E[d]^2 free of cancellation.
//   grad:  a = sum(g), b = sum(g * (x - mean)), g = dy masked by y > 0 when the
//          ReLU is fused (y is dy, unused, when it is not).
struct Params { n: u32, c: u32, s: u32, chunks: u32, chunk_len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

const WG: u32 = 256;
const RELU: bool = false;

// wg_sum2: kernels/common/wg_sum2.wgsl (included after this part).

@compute @workgroup_size(WG)
fn stats_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = wid.x;
  let c = wid.y;
  let m = p.n * p.s;
  let start = k * p.chunk_len;
  let end = min(start + p.chunk_len, m);
  let cs = p.c * p.s;
  let base = c * p.s;
  let shift = x[base];
  var a = 0.0;
  var b = 0.0;
  // (n, s) of element j, advanced without a division per element.
  let dq = WG / p.s;
  let dr = WG - dq * p.s;
  var nn = (start + lid.x) / p.s;
  var ss = start + lid.x - nn * p.s;
  for (var j = start + lid.x; j < end; j = j + WG) {
    let d = x[nn * cs + base + ss] - shift;
    a = a + d;
    b = b + d * d;
    nn = nn + dq;
    ss = ss + dr;
    if (ss >= p.s) {
      ss = ss - p.s;
      nn = nn + 1u;
    }
  }
  let t = wg_sum2(lid.x, a, b);
  if (lid.x == 0u) {
    part[(c * p.chunks + k) * 2u] = t.x;
    part[(c * p.chunks + k) * 2u + 1u] = t.y;
  }
}

@compute @workgroup_size(WG)
fn grad_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = wid.x;
  let c = wid.y;
  let m = p.n * p.s;
  let start = k * p.chunk_len;
  let end = min(start + p.chunk_len, m);
  let cs = p.c * p.s;
  let base = c * p.s;
  let mean = stats[c];
  var a = 0.0;
  var b = 0.0;
  let dq = WG / p.s;
  let dr = WG - dq * p.s;
  var nn = (start + lid.x) / p.s;
  var ss = start + lid.x - nn * p.s;
  for (var j = start + lid.x; j < end; j = j + WG) {
    let i = nn * cs + base + ss;
    nn = nn + dq;
    ss = ss + dr;
    if (ss >= p.s) {
      ss = ss - p.s;
      nn = nn + 1u;
    }
    var g = dy[i];
    if (RELU && y[i] <= 0.0) {
      g = 0.0;
    }
    a = a + g;
    b = b + g * (x[i] - mean);
  }
  let t = wg_sum2(lid.x, a, b);
  if (lid.x == 0u) {
    part[(c * p.chunks + k) * 2u] = t.x;
    part[(c * p.chunks + k) * 2u + 1u] = t.y;
  }
}
