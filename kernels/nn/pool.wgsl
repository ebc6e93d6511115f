// Max and average pooling over [N, C, H, W] planes, window K x K, stride S, no padding,
// floor output size (PyTorch's defaults); MAX picks the variant. Forward: one invocation per
// output; backward: one invocation per input gathering from the windows that cover it (no
// atomics, overlapping windows allowed). Max pool keeps the first maximum in row-major window
// order (as PyTorch) and saves its index h*W + w for backward. BACKWARD picks the pass (entry
// point: elementwise.wgsl); src and dst are x and y forward, dy and dx backward.
//
// Shapes and window are constants: every index division is by a constant and the window
// loops unroll (runtime divisions and loop bounds cost ~10x on llvmpipe, docs/gpu-notes.md).
// ROWS (CPU adapters, backward): one invocation per input row instead of per input, which loads
// the SPAN output rows covering it once (and their argmax) and writes its W inputs from them:
// on llvmpipe every load is a per-lane loop, so 2-4 loads per input become under 1.
struct Params { total: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<u32>; // MAX: written forward, read backward

const BACKWARD: bool = false;
const MAX: bool = true;
const ROWS: bool = false;
const K: u32 = 2;
const S: u32 = 2;
const H: u32 = 4;
const W: u32 = 4;
const OH: u32 = 2;
const OW: u32 = 2;
// Windows covering one input along an axis: at most ceil(K / S).
const SPAN: u32 = (K + S - 1u) / S;

fn ew_len() -> u32 { return p.total; }
fn ew(i: u32) {
  if (BACKWARD && ROWS) {
    backward_row(i);
  } else if (BACKWARD) {
    backward(i);
  } else {
    forward(i);
  }
}

fn forward(i: u32) {
  let plane = i / (OH * OW);
  let r = i - plane * OH * OW;
  let oy = r / OW;
  let ox = r - oy * OW;
  let base = plane * H * W;
  var at = (oy * S) * W + ox * S;
  var best = src[base + at];
  var acc = 0.0;
  for (var ky = 0u; ky < K; ky = ky + 1u) {
    for (var kx = 0u; kx < K; kx = kx + 1u) {
      let q = (oy * S + ky) * W + ox * S + kx;
      let v = src[base + q];
      if (MAX) {
        let better = v > best;
        best = select(best, v, better);
        at = select(at, q, better);
      } else {
        acc = acc + v;
      }
    }
  }
  if (MAX) {
    dst[i] = best;
    arg[i] = at;
  } else {
    dst[i] = acc * (1.0 / f32(K * K));
  }
}

// First output row (or column) whose window covers input coordinate v.
fn first_cover(v: u32) -> u32 {
  return select(0u, (v + 1u - K + S - 1u) / S, v + 1u > K);
}

fn backward(i: u32) {
  let plane = i / (H * W);
  let q = i - plane * H * W;
  let yy = q / W;
  let xx = q - yy * W;
  let y0 = first_cover(yy);
  let x0 = first_cover(xx);
  let yend = min(yy / S + 1u, OH);
  let xend = min(xx / S + 1u, OW);
  let obase = plane * OH * OW;
  var acc = 0.0;
  // Fixed trip counts (SPAN x SPAN), out-of-range windows masked: no divergent loop bounds.
  for (var jy = 0u; jy < SPAN; jy = jy + 1u) {
    for (var jx = 0u; jx < SPAN; jx = jx + 1u) {
      let oy = y0 + jy;
      let ox = x0 + jx;
      let o = obase + min(oy, OH - 1u) * OW + min(ox, OW - 1u);
      var hit = (oy < yend) & (ox < xend); // & not &&: no short-circuit branch
      if (MAX) {
        hit = hit & (arg[o] == q);
      }
      acc = acc + select(0.0, src[o], hit);
    }
  }
  if (MAX) {
    dst[i] = acc;
  } else {
    dst[i] = acc * (1.0 / f32(K * K));
  }
}

// Input row r = (plane, yy) of the backward pass (ROWS): p.total counts rows, not inputs.
fn backward_row(r: u32) {
  let plane = r / H;
  let yy = r - plane * H;
  let y0 = first_cover(yy);
  let yend = min(yy / S + 1u, OH);
  let obase = plane * OH * OW;
  // The covering output rows' gradients (zero for rows past the last window) and argmax.
  var g: array<f32, SPAN * OW>;
  var a: array<u32, SPAN * OW>;
  for (var jy = 0u; jy < SPAN; jy = jy + 1u) {
    let oy = y0 + jy;
    for (var ox = 0u; ox < OW; ox = ox + 1u) {
      let o = obase + min(oy, OH - 1u) * OW + ox;
      g[jy * OW + ox] = select(0.0, src[o], oy < yend);
      if (MAX) {
        a[jy * OW + ox] = arg[o];
      }
    }
  }
  for (var xx = 0u; xx < W; xx = xx + 1u) {
    let x0 = first_cover(xx);
    let xend = min(xx / S + 1u, OW);
    var acc = 0.0;
    for (var jy = 0u; jy < SPAN; jy = jy + 1u) {
      for (var jx = 0u; jx < SPAN; jx = jx + 1u) {
        let ox = x0 + jx;
        let at = jy * OW + min(ox, OW - 1u);
        var hit = ox < xend;
        if (MAX) {
          hit = hit & (a[at] == yy * W + xx);
        }
        acc = acc + select(0.0, g[at], hit);
      }
    }
    if (MAX) {
      dst[plane * H * W + yy * W + xx] = acc;
    } else {
      dst[plane * H * W + yy * W + xx] = acc * (1.0 / f32(K * K));
    }
  }
}
