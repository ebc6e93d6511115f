// Per-channel partial sums for batch norm on [N, C] data (channel c strided by C).
// Workgroup TX channels x TY rows: adjacent threads read adjacent channels
// (coalesced); each thread strides over its chunk's rows, then the TY partials of
// a channel meet in a shared-memory tree. Grid [ceil(C/TX), chunks]. Same sums
// and partial layout as batchnorm_reduce.wgsl (see there).
struct Params { n: u32, c: u32, s: u32, chunks: u32, chunk_len: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

const TX: u32 = 32;
const TY: u32 = 8;
const RELU: bool = false;

var<workgroup> sa: array<f32, 256>;
var<workgroup> sb: array<f32, 256>;

fn tree(lx: u32, ly: u32) {
  workgroupBarrier();
  for (var h = TY / 2u; h > 0u; h = h / 2u) {
    if (ly < h) {
      sa[ly * TX + lx] = sa[ly * TX + lx] + sa[(ly + h) * TX + lx];
      sb[ly * TX + lx] = sb[ly * TX + lx] + sb[(ly + h) * TX + lx];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(TX, TY)
fn stats_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * TX + lid.x;
  let k = wid.y;
  let start = k * p.chunk_len;
  let end = min(start + p.chunk_len, p.n);
  var a = 0.0;
  var b = 0.0;
  if (c < p.c) {
    let shift = x[c];
    for (var r = start + lid.y; r < end; r = r + TY) {
      let d = x[r * p.c + c] - shift;
      a = a + d;
      b = b + d * d;
    }
  }
  sa[lid.y * TX + lid.x] = a;
  sb[lid.y * TX + lid.x] = b;
  tree(lid.x, lid.y);
  if (lid.y == 0u && c < p.c) {
    part[(c * p.chunks + k) * 2u] = sa[lid.x];
    part[(c * p.chunks + k) * 2u + 1u] = sb[lid.x];
  }
}

@compute @workgroup_size(TX, TY)
fn grad_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * TX + lid.x;
  let k = wid.y;
  let start = k * p.chunk_len;
  let end = min(start + p.chunk_len, p.n);
  var a = 0.0;
  var b = 0.0;
  if (c < p.c) {
    let mean = stats[c];
    for (var r = start + lid.y; r < end; r = r + TY) {
      let i = r * p.c + c;
      var g = dy[i];
      if (RELU && y[i] <= 0.0) {
        g = 0.0;
      }
      a = a + g;
      b = b + g * (x[i] - mean);
    }
  }
  sa[lid.y * TX + lid.x] = a;
  sb[lid.y * TX + lid.x] = b;
  tree(lid.x, lid.y);
  if (lid.y == 0u && c < p.c) {
    part[(c * p.chunks + k) * 2u] = sa[lid.x];
    part[(c * p.chunks + k) * 2u + 1u] = sb[lid.x];
  }
}
