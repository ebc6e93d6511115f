// y[i] += alpha * x[i]: gradient accumulation and simple updates (entry: elementwise.wgsl).
struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn ew_len() -> u32 { return p.n; }
fn ew(i: u32) {
  y[i] = y[i] + p.alpha * x[i];
}
