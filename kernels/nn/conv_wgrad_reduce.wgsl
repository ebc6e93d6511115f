// Sums the split-K slices of the conv weight gradient: part [splits, cout, ncols] ->
// dW [cout, ck] and (HAS_BIAS, ncols = ck + 1) db [cout].
struct Params { count: u32, ncols: u32, ck: u32, splits: u32, inv_ncols: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dW: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;
const HAS_BIAS: bool = false;
// Add into dW and db (gradients the tape already holds) instead of writing them.
const ACCUM: bool = false;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.count) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += part[k * p.count + i]; }
  var row = u32(f32(i) * p.inv_ncols);
  if (row * p.ncols > i) { row -= 1u; } else if ((row + 1u) * p.ncols <= i) { row += 1u; }
  let col = i - row * p.ncols;
  if (HAS_BIAS && col == p.ck) {
    if (ACCUM) { db[row] += s; } else { db[row] = s; }
  } else {
    if (ACCUM) { dW[row * p.ck + col] += s; } else { dW[row * p.ck + col] = s; }
  }
}
