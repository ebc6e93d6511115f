// Reachable FMA throughput: CHAINS independent vec4 fma chains per invocation, ITERS
// steps of 4 unrolled fmas each, no memory traffic inside the loop. The result is
// written so the compiler cannot drop the chains.
struct Params { iters: u32, seed: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

const CHAINS: u32 = 4;
const WG: u32 = 64;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let x = f32(gid.x) * p.seed;
  let m = vec4<f32>(0.999, 0.998, 0.997, 0.996);
  let c = vec4<f32>(1e-3);
  var a0 = vec4<f32>(x, x + 1.0, x + 2.0, x + 3.0);
  var a1 = a0 + 4.0;
  var a2 = a0 + 8.0;
  var a3 = a0 + 12.0;
  var a4 = a0 + 16.0;
  var a5 = a0 + 20.0;
  var a6 = a0 + 24.0;
  var a7 = a0 + 28.0;
  for (var i = 0u; i < p.iters; i++) {
    for (var u = 0u; u < 4u; u++) {
      a0 = fma(a0, m, c);
      if (CHAINS > 1u) { a1 = fma(a1, m, c); }
      if (CHAINS > 2u) { a2 = fma(a2, m, c); }
      if (CHAINS > 3u) { a3 = fma(a3, m, c); }
      if (CHAINS > 4u) { a4 = fma(a4, m, c); }
      if (CHAINS > 5u) { a5 = fma(a5, m, c); }
      if (CHAINS > 6u) { a6 = fma(a6, m, c); }
      if (CHAINS > 7u) { a7 = fma(a7, m, c); }
    }
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  out[gid.x + gid.y * nw.x * WG] = s.x + s.y + s.z + s.w;
}
