// Bias gradient of the im2col conv path: for each output channel co and K-split s of a chunk,
// the sum of dyt[co, s*kc .. (s+1)*kc) (dY transposed to [cout, ldc], zero padded) goes to
// column ck of the split's partial slice, beside the dW columns the GEMM wrote; the
// conv_wgrad_reduce pass then sums the slices. One invocation per (co, split); kc % 4 == 0.
struct Params { cout: u32, kc4: u32, ldc4: u32, ncols: u32, ck: u32, slice0: u32, splits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dyt: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.cout * p.splits) { return; }
  let s = i / p.cout;
  let co = i - s * p.cout;
  let base = co * p.ldc4 + s * p.kc4;
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < p.kc4; j++) { acc += dyt[base + j]; }
  part[((p.slice0 + s) * p.cout + co) * p.ncols + p.ck] = acc.x + acc.y + acc.z + acc.w;
}
