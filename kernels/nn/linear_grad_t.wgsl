// dY'ᵀ [out, batch] from dY [batch, out], masked by Y > 0 when the forward fused a ReLU (MASK):
// the weight gradient's A operand, row-major, for the CPU matmul loop (src/ops/linear.ts: on
// llvmpipe the K-major read of dY costs that product ~2x; this copy costs a fraction of it).
// One invocation per 4 x 4 block: 4 vec4 loads (and 4 of Y) and 4 vec4 stores for 16 values
// (stores cost ~3x loads per float there). batch and out are multiples of 4.
struct Params { batch: u32, nout: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Yf4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Gt4: array<vec4<f32>>;

const MASK: bool = false;

fn ew_len() -> u32 { return (p.batch / 4u) * (p.nout / 4u); }
fn ew(i: u32) {
  let o4 = p.nout / 4u;
  let bq = i / o4;
  let oq = i - bq * o4;
  var g: array<vec4<f32>, 4>;
  for (var r = 0u; r < 4u; r++) {
    let at = (bq * 4u + r) * o4 + oq;
    g[r] = G4[at];
    if (MASK) { g[r] = select(g[r], vec4<f32>(0.0), Yf4[at] <= vec4<f32>(0.0)); }
  }
  let b4 = p.batch / 4u;
  for (var c = 0u; c < 4u; c++) {
    Gt4[(oq * 4u + c) * b4 + bq] = vec4<f32>(g[0][c], g[1][c], g[2][c], g[3][c]);
  }
}
