// Bias gradient of a linear layer: db[o] = sum over the batch of dY'[b, o] (dY masked by Y > 0
// when the forward fused a ReLU). A pass of its own rather than a ones column appended to X in
// the weight-gradient GEMM: that column made N = in + 1, a mostly empty extra column tile (on
// lavapipe an edge tile on the scalar path, ~2x the cost of a full one). Entry: elementwise.wgsl.
struct Params { batch: u32, nout: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G: array<f32>;  // dY [batch, out]
@group(0) @binding(2) var<storage, read> Yf: array<f32>; // MASK: forward output [batch, out]
@group(0) @binding(3) var<storage, read_write> db: array<f32>;

const MASK: bool = false;
// Add into db (a gradient the tape already holds) instead of writing it.
const ACCUM: bool = false;

fn ew_len() -> u32 { return p.nout; }
fn ew(o: u32) {
  var acc = 0.0;
  for (var b = 0u; b < p.batch; b++) {
    let i = b * p.nout + o;
    var g = G[i];
    if (MASK) { g = select(g, 0.0, Yf[i] <= 0.0); }
    acc += g;
  }
  if (ACCUM) { db[o] += acc; } else { db[o] = acc; }
}
