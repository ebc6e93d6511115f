// Shared by the batch-norm element-wise passes (batchnorm_apply.wgsl, batchnorm_backward.wgsl)
// over [N, C, S], LANES consecutive elements per invocation (vf and LANES from a section of
// common/lanes.wgsl; entry point: elementwise.wgsl). SAME: the lanes share a channel
// (S % LANES == 0); otherwise S == 1 and C % 4 == 0, so the 4 lanes are channels c..c+3.
// PLANE (CPU adapters; scalar lanes when S % 4 != 0, vec4 lanes otherwise): invocation i owns the whole plane i of `per`
// elements or vec4s (the op passes s = 1; lanes(i) is plane i's channel), loading its channel's values
// once instead of per element: on llvmpipe every load is a per-lane loop, and the 4 channel loads
// and the index division per element cost more than the element itself.
// CHANNEL_MAJOR (with PLANE): the output is written [C, ldo] instead of like the input, plane
// (n, c) at c * ldo + n * per, and the last image's invocation of each channel zeroes the columns
// past N * per: the layout the im2col conv's backward reads dY in (src/ops/channel-major.ts), so
// the batch norm's input gradient needs no transpose there.
// The pass defines chan(c): its 4 per-channel values (q0..q3) for channel c, bn_elem(e, o, q)
// (element e in, o out) and bn_zero(o).
struct Params { total: u32, c: u32, s: u32, per: u32, ldo: u32 }
@group(0) @binding(0) var<uniform> p: Params;

const SAME: bool = true;
const PLANE: bool = false;
const CHANNEL_MAJOR: bool = false;

struct Lanes { q0: vf, q1: vf, q2: vf, q3: vf }

fn ew_len() -> u32 { return p.total; }

// chan()'s values for the lanes of invocation i.
fn lanes(i: u32) -> Lanes {
  if (PLANE) {
    let q = chan(i % p.c);
    return Lanes(vf(q.x), vf(q.y), vf(q.z), vf(q.w));
  }
  if (SAME) {
    let q = chan((i * LANES / p.s) % p.c);
    return Lanes(vf(q.x), vf(q.y), vf(q.z), vf(q.w));
  }
  let c = (i * LANES) % p.c;
  let a = chan(c);
  let b = chan(c + 1u);
  let d = chan(c + 2u);
  let e = chan(c + 3u);
  return Lanes(vf4(vec4<f32>(a.x, b.x, d.x, e.x)), vf4(vec4<f32>(a.y, b.y, d.y, e.y)),
               vf4(vec4<f32>(a.z, b.z, d.z, e.z)), vf4(vec4<f32>(a.w, b.w, d.w, e.w)));
}

fn ew(i: u32) {
  let q = lanes(i);
  if (PLANE) {
    var o = i * p.per;
    if (CHANNEL_MAJOR) {
      let c = i % p.c;
      let n = i / p.c;
      o = c * p.ldo + n * p.per;
      if (n + 1u == p.total / p.c) {
        for (var k = o + p.per; k < (c + 1u) * p.ldo; k++) { bn_zero(k); }
      }
    }
    for (var j = 0u; j < p.per; j++) {
      bn_elem(i * p.per + j, o + j, q);
    }
  } else {
    bn_elem(i, i, q);
  }
}
