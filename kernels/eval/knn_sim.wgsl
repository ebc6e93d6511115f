// s[m, col0 + n] = sum_k a[a0 + m, k] * bt[k, n] for a chunk of test rows a (row-major [*, R])
// against a transposed train block bt ([R, ncols], ncols a multiple of 4).
// Tuned for CPU-style execution (lavapipe): each workgroup owns RM test rows, so their loads
// are uniform (scalar + broadcast), and each lane owns 4 consecutive train columns (one vec4
// load, contiguous across lanes); RM vec4 accumulators stay in registers. No shared memory:
// on a CPU it only adds barriers; on a GPU the a loads are broadcast from cache.
struct Params { m: u32, r: u32, a0: u32, ncols4: u32, lds4: u32, col04: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bt: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> s: array<vec4<f32>>;

const WG: u32 = 32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wid.y * 8u;
  let cl = wid.x * WG + lid.x;
  let c = min(cl, p.ncols4 - 1u);
  // Rows past the chunk end repeat the last row (valid reads); their results are not stored.
  let last = p.m - 1u;
  let r0 = (p.a0 + min(m0, last)) * p.r;
  let r1 = (p.a0 + min(m0 + 1u, last)) * p.r;
  let r2 = (p.a0 + min(m0 + 2u, last)) * p.r;
  let r3 = (p.a0 + min(m0 + 3u, last)) * p.r;
  let r4 = (p.a0 + min(m0 + 4u, last)) * p.r;
  let r5 = (p.a0 + min(m0 + 5u, last)) * p.r;
  let r6 = (p.a0 + min(m0 + 6u, last)) * p.r;
  let r7 = (p.a0 + min(m0 + 7u, last)) * p.r;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  for (var k = 0u; k < p.r; k++) {
    let b = bt[k * p.ncols4 + c];
    acc0 = fma(vec4<f32>(a[r0 + k]), b, acc0);
    acc1 = fma(vec4<f32>(a[r1 + k]), b, acc1);
    acc2 = fma(vec4<f32>(a[r2 + k]), b, acc2);
    acc3 = fma(vec4<f32>(a[r3 + k]), b, acc3);
    acc4 = fma(vec4<f32>(a[r4 + k]), b, acc4);
    acc5 = fma(vec4<f32>(a[r5 + k]), b, acc5);
    acc6 = fma(vec4<f32>(a[r6 + k]), b, acc6);
    acc7 = fma(vec4<f32>(a[r7 + k]), b, acc7);
  }
  if (cl >= p.ncols4) { return; }
  let o = p.col04 + cl;
  let ld = p.lds4;
  s[m0 * ld + o] = acc0;
  if (m0 + 1u < p.m) { s[(m0 + 1u) * ld + o] = acc1; }
  if (m0 + 2u < p.m) { s[(m0 + 2u) * ld + o] = acc2; }
  if (m0 + 3u < p.m) { s[(m0 + 3u) * ld + o] = acc3; }
  if (m0 + 4u < p.m) { s[(m0 + 4u) * ld + o] = acc4; }
  if (m0 + 5u < p.m) { s[(m0 + 5u) * ld + o] = acc5; }
  if (m0 + 6u < p.m) { s[(m0 + 6u) * ld + o] = acc6; }
  if (m0 + 7u < p.m) { s[(m0 + 7u) * ld + o] = acc7; }
}
