// inv[dst0 + i] = 1 / ||x[src0 + i]||: test rows are not copied; their scale is applied at the vote
// (the top-k order of a row does not depend on its own positive scale).
struct Params { rows: u32, r: u32, src0: u32, dst0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> inv: array<f32>;

const WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.rows) { return; }
  let base = (p.src0 + i) * p.r;
  var ss = 0.0;
  for (var k = 0u; k < p.r; k++) { let v = x[base + k]; ss = fma(v, v, ss); }
  inv[p.dst0 + i] = 1.0 / max(sqrt(ss), 1e-12);
}
