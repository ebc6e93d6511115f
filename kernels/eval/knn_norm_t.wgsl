// One train row per invocation: L2-normalise it and write it as a column of the
// transposed block bt[R, ld] (column dst0 + i). The similarity kernel then reads
// 4 consecutive train rows per lane as one vec4 (contiguous across lanes).
struct Params { rows: u32, r: u32, src0: u32, dst0: u32, ld: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> bt: array<f32>;

const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.rows) { return; }
  let base = (p.src0 + i) * p.r;
  var ss = 0.0;
  for (var k = 0u; k < p.r; k++) { let v = x[base + k]; ss = fma(v, v, ss); }
  // As torch F.normalize: a zero row stays zero.
  let inv = 1.0 / max(sqrt(ss), 1e-12);
  for (var k = 0u; k < p.r; k++) { bt[k * p.ld + p.dst0 + i] = x[base + k] * inv; }
}
