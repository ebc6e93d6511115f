// Row L2 norms for kNN, one row x[src0 + i] (R wide) per invocation:
//   COPY false: inv[dst0 + i] = 1 / ||row||; test rows are not copied, their scale is applied
//     at the vote (the top-k order of a row does not depend on its own positive scale).
//   COPY true: the row, L2-normalised, goes to the block `out` as row dst0 + i of a row-major
//     [rows, R] block (TRANSPOSE false: the similarity GEMM reads it as B^T, contiguous along K),
//     or as column dst0 + i of a transposed [R, ld] block (TRANSPOSE true).
struct Params { rows: u32, r: u32, src0: u32, dst0: u32, ld: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 64;
const COPY: bool = false;
const TRANSPOSE: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.rows) { return; }
  let base = (p.src0 + i) * p.r;
  var ss = 0.0;
  for (var k = 0u; k < p.r; k++) { let v = x[base + k]; ss = fma(v, v, ss); }
  // As torch F.normalize: a zero row stays zero.
  let inv = 1.0 / max(sqrt(ss), 1e-12);
  if (!COPY) {
    out[p.dst0 + i] = inv;
  } else if (TRANSPOSE) {
    for (var k = 0u; k < p.r; k++) { out[k * p.ld + p.dst0 + i] = x[base + k] * inv; }
  } else {
    let o = (p.dst0 + i) * p.r;
    for (var k = 0u; k < p.r; k++) { out[o + k] = x[base + k] * inv; }
  }
}
