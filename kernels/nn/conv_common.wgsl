// Shared by the conv implicit-GEMM preludes (conv_fwd, conv_dgrad, conv_wgrad):
// NCHW activations, weight [cout, cin, kh, kw]. Index decoding uses float-reciprocal
// division: SIMD CPUs (llvmpipe) have no vector integer divide, and a u32 '/' would
// run one scalar divide per lane per operand read. Exact for x < 2^24 (checked on the host).
struct ConvParams {
  nb: u32, cin: u32, h: u32, w: u32,
  cout: u32, oh: u32, ow: u32, kh: u32,
  kw: u32, stride: u32, pad: u32, kchunk: u32,
  inv_ohw: f32, inv_ow: f32, inv_khw: f32, inv_kw: f32,
  inv_hw: f32, inv_w: f32, inv_stride: f32, ktotal: u32,
}
@group(0) @binding(0) var<uniform> p: ConvParams;

fn udiv(x: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(x) * inv);
  let r = i32(x) - i32(q * d);
  if (r < 0) { q -= 1u; } else if (u32(r) >= d) { q += 1u; }
  return q;
}

// (n, y, x) of a flat spatial index over [nb, rows, cols].
fn split3(i: u32, rc: u32, inv_rc: f32, c: u32, inv_c: f32) -> vec3<u32> {
  let n = udiv(i, rc, inv_rc);
  let r = i - n * rc;
  let y = udiv(r, c, inv_c);
  return vec3<u32>(n, y, r - y * c);
}

fn mm_skip_tile(b: u32, tile_row: u32, tile_col: u32) -> bool { return false; }
fn mm_reduce(b: u32, row: u32, col: u32, v: f32) -> f32 { return 0.0; }
fn mm_reduce_out(b: u32, tile_row: u32, tile_col: u32, sum: f32) {}
// No vector access yet: the core's scalar defaults (VEC_A = VEC_B = 0).
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> { return mm_scalarA4(b, row, k); }
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> { return mm_scalarB4(b, k, col); }
