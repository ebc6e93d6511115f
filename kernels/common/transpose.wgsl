// out [cols, rows] = transpose of a row-major [rows, cols] matrix, one element per invocation
// (entry: elementwise.wgsl). For small operands (a conv weight before its input-gradient GEMM):
// the integer division is a per-lane loop on SIMD CPUs, which only large inputs would notice.
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn ew_len() -> u32 { return p.rows * p.cols; }
fn ew(i: u32) {
  let c = i / p.rows;
  let r = i - c * p.rows;
  dst[i] = src[r * p.cols + c];
}
