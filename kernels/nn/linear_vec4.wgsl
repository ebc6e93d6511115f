// Vector hooks for kernels/nn/linear.wgsl (CPU loop): the same buffers viewed as vec4s.
// The op sets VEC_A / VEC_B only when the leading dimension read is a multiple of 4:
//   MODE 0: A = X     [batch, in]  along K (VEC_A = 1); B = Wᵀ read from W [out, in] along K (VEC_B = 2)
//   MODE 1: A = dY'   [batch, out] along K (VEC_A = 1); B = W [out, in] along N (VEC_B = 1)
//   MODE 2: A = dY'ᵀ  read from dY along M (VEC_A = 2); B = X along N (VEC_B = 1). A full tile's
//           vec4 never reaches the ones column: col % 4 == 0, nin % 4 == 0 and col + 3 <= nin.
@group(0) @binding(8) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> Wt4: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> G4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> Yf4: array<vec4<f32>>;

fn grad_out4(i: u32) -> vec4<f32> {
  let g = G4[i / 4u];
  if (MASK) { return select(g, vec4<f32>(0.0), Yf4[i / 4u] <= vec4<f32>(0.0)); }
  return g;
}
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> {
  if (MODE == 0u) { return X4[(row * p.nin + k) / 4u]; }
  if (MODE == 1u) { return grad_out4(row * p.nout + k); }
  return grad_out4(k * p.nout + row);
}
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> {
  if (MODE == 0u) { return Wt4[(col * p.nin + k) / 4u]; }
  if (MODE == 1u) { return Wt4[(k * p.nin + col) / 4u]; }
  return X4[(k * p.nin + col) / 4u];
}
