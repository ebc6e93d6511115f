// Mini-batch gather with standardisation: xb[i, c] = (x[g - lo, c] - mean[c]) * inv_std[c] for
// g = idx[off + i], for the rows of the one shard [lo, hi) bound as x (a dispatch per shard).
struct Params { bsz: u32, r: u32, off: u32, lo: u32, hi: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> ms: array<f32>;
@group(0) @binding(4) var<storage, read_write> xb: array<f32>;

const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  let i = wid.y;
  let c = gid.x;
  if (c >= p.r || i >= p.bsz) { return; }
  let g = idx[p.off + i];
  if (g < p.lo || g >= p.hi) { return; }
  xb[i * p.r + c] = (x[(g - p.lo) * p.r + c] - ms[c]) * ms[p.r + c];
}
