// dst [cols, rows] = the transpose of a row-major [rows, cols] matrix in src, masked by keep > 0
// when MASK (keep: a fused ReLU's output, src: the gradient at it). Used to hand the CPU matmul
// loop a row-major A where the product would read it K-major (a conv weight before the input
// gradient, dY' before a linear weight gradient: src/ops/matmul.ts, transpose()). Entry:
// elementwise.wgsl; one of the two sections below.
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: Params;

const MASK: bool = false;

// @section scalar
// One element per invocation: the division is a per-lane loop on SIMD CPUs, which only large
// inputs would notice.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> keep: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

fn ew_len() -> u32 { return p.rows * p.cols; }
fn ew(i: u32) {
  let c = i / p.rows;
  let r = i - c * p.rows;
  let at = r * p.cols + c;
  var v = src[at];
  if (MASK && keep[at] <= 0.0) { v = 0.0; }
  dst[i] = v;
}

// @section block4
// rows and cols multiples of 4: one invocation per 4 x 4 block, 4 vec4 loads (and 4 of keep) and
// 4 vec4 stores for 16 values (on llvmpipe a store costs ~3x a load per float).
@group(0) @binding(1) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> keep4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst4: array<vec4<f32>>;

fn ew_len() -> u32 { return (p.rows / 4u) * (p.cols / 4u); }
fn ew(i: u32) {
  let c4 = p.cols / 4u;
  let rq = i / c4;
  let cq = i - rq * c4;
  var v: array<vec4<f32>, 4>;
  for (var r = 0u; r < 4u; r++) {
    let at = (rq * 4u + r) * c4 + cq;
    v[r] = src4[at];
    if (MASK) { v[r] = select(v[r], vec4<f32>(0.0), keep4[at] <= vec4<f32>(0.0)); }
  }
  let r4 = p.rows / 4u;
  for (var c = 0u; c < 4u; c++) {
    dst4[(cq * 4u + c) * r4 + rq] = vec4<f32>(v[0][c], v[1][c], v[2][c], v[3][c]);
  }
}
