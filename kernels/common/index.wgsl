// Integer division for index decoding on SIMD CPUs (llvmpipe), which have no vector integer
// divide: a u32 '/' by a runtime value runs one scalar divide per lane. Float reciprocal
// plus one correction step; exact for x < 2^24 (callers check sizes on the host).
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
