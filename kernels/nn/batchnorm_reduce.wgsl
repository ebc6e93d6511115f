// Per-channel partial sums for batch norm, written to part[(c*chunks + k)*2 + {0,1}] for
// chunk k of channel c's M = N*S elements:
//   stats (GRAD false): a = sum(x - K), b = sum((x - K)^2), K = x[n=0,c,s=0]: shifting by a
//          sample of the channel keeps E[d^2] - E[d]^2 free of cancellation.
//   grad (GRAD true):  a = sum(g), b = sum(g * (x - mean)), g = dy masked by y > 0 when the
//          ReLU is fused (y is dy, unused, when it is not).
// Two layouts, one entry point each (the stats pass binds placeholders for dy, y, stats):
//   main     NCHW (channel c's elements are N runs of S = H*W contiguous floats). Grid
//            [chunks, C]: workgroup (k, c) reduces chunk k of channel c (WG invocations).
//   main_planes  NCHW on CPU adapters: workgroup (k, c) reduces planes [k*chunk_len, ...) of
//            channel c (chunk_len counts planes here), each invocation walking whole planes of
//            S contiguous floats: no per-element (n, s) bookkeeping.
//   main_1d  [N, C] (S = 1, channel c strided by C). Workgroup TX channels x TY rows, grid
//            [ceil(C/TX), chunks]: adjacent invocations read adjacent channels (coalesced),
//            each strides over its chunk's rows, then a channel's TY partials are summed
//            (WG = TX * TY, WG_SUM_STRIDE = TX).
struct Params { n: u32, c: u32, s: u32, chunks: u32, chunk_len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

const WG: u32 = 256;
const TX: u32 = 32;
const TY: u32 = 8;
const GRAD: bool = false;
const RELU: bool = false;

// wg_sum2: kernels/common/wg_sum2.wgsl (included after this part).

// The pass's reference value for channel c: K (stats) or the mean (grad).
fn reference(c: u32) -> f32 {
  if (GRAD) { return stats[c]; }
  return x[c * p.s];
}

// (a, b) += the pass's summands for element i.
fn accumulate(acc: vec2<f32>, i: u32, r: f32) -> vec2<f32> {
  if (GRAD) {
    var g = dy[i];
    if (RELU && y[i] <= 0.0) {
      g = 0.0;
    }
    return vec2<f32>(acc.x + g, acc.y + g * (x[i] - r));
  }
  let d = x[i] - r;
  return vec2<f32>(acc.x + d, acc.y + d * d);
}

// Elements [start, end) of chunk k (of a channel's M; rows for main_1d, where S = 1).
fn chunk_range(k: u32) -> vec2<u32> {
  let start = k * p.chunk_len;
  return vec2<u32>(start, min(start + p.chunk_len, p.n * p.s));
}

// Invocation l's totals of the sums over its group (see wg_sum2) become chunk k's partials of channel c.
fn write_partials(l: u32, c: u32, k: u32, acc: vec2<f32>) {
  let t = wg_sum2(l, acc.x, acc.y);
  if (l < WG_SUM_STRIDE && c < p.c) {
    part[(c * p.chunks + k) * 2u] = t.x;
    part[(c * p.chunks + k) * 2u + 1u] = t.y;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = wid.x;
  let c = wid.y;
  let range = chunk_range(k);
  let cs = p.c * p.s;
  let base = c * p.s;
  let r = reference(c);
  var acc = vec2<f32>(0.0);
  // (n, s) of element j, advanced without a division per element.
  let dq = WG / p.s;
  let dr = WG - dq * p.s;
  var nn = (range.x + lid.x) / p.s;
  var ss = range.x + lid.x - nn * p.s;
  for (var j = range.x + lid.x; j < range.y; j = j + WG) {
    acc = accumulate(acc, nn * cs + base + ss, r);
    nn = nn + dq;
    ss = ss + dr;
    if (ss >= p.s) {
      ss = ss - p.s;
      nn = nn + 1u;
    }
  }
  write_partials(lid.x, c, k, acc);
}

@compute @workgroup_size(WG)
fn main_planes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = wid.x;
  let c = wid.y;
  let n1 = min((k + 1u) * p.chunk_len, p.n);
  let r = reference(c);
  var acc = vec2<f32>(0.0);
  for (var nn = k * p.chunk_len + lid.x; nn < n1; nn = nn + WG) {
    let base = (nn * p.c + c) * p.s;
    for (var ss = 0u; ss < p.s; ss = ss + 1u) {
      acc = accumulate(acc, base + ss, r);
    }
  }
  write_partials(lid.x, c, k, acc);
}

@compute @workgroup_size(TX, TY)
fn main_1d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * TX + lid.x;
  let range = chunk_range(wid.y);
  var acc = vec2<f32>(0.0);
  if (c < p.c) {
    let r = reference(c);
    for (var row = range.x + lid.y; row < range.y; row = row + TY) {
      acc = accumulate(acc, row * p.c + c, r);
    }
  }
  write_partials(lid.y * TX + lid.x, c, wid.y, acc);
}
