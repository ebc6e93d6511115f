// ReLU forward y = max(x, 0) and backward dx = dy where x > 0 (PyTorch: 0 at x = 0); BACKWARD
// picks the pass (entry: elementwise.wgsl). Both passes' bindings are declared used: the op
// binds placeholders for the other pass's.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

const BACKWARD: bool = false;

fn ew_len() -> u32 { return p.n; }
fn ew(i: u32) {
  if (BACKWARD) {
    dx[i] = select(0.0, dy[i], x[i] > 0.0);
  } else {
    y[i] = max(x[i], 0.0);
  }
}
