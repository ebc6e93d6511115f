// Shared VICReg bindings: the column statistics and the centred views Zc [2, n, d] /
// Zcᵀ [2, d, n] written by the stats pass (Z itself is Zc + mean: no need to bind it, which
// keeps the gradient pass within the default limit of 8 storage buffers per stage).
// Operand choice: the matmul core's invocations walk A's rows and B's columns side by side,
// so A is always read from a K-major array (Zcᵀ, or a symmetric C/K read by its column)
// and B from a row-major one; on lavapipe this turns 8-lane gathers into contiguous loads.
@group(0) @binding(3) var<storage, read> colstats: array<f32>;
@group(0) @binding(8) var<storage, read> zcb: array<f32>;
@group(0) @binding(9) var<storage, read> zcbt: array<f32>;

fn zc(b: u32, i: u32, j: u32) -> f32 { return zcb[b * p.n * p.d + i * p.d + j]; }
fn zct(b: u32, j: u32, i: u32) -> f32 { return zcbt[b * p.n * p.d + j * p.n + i]; }
fn col_var(b: u32, j: u32) -> f32 { return colstats[(2u + b) * p.d + j]; }
fn col_mean(b: u32, j: u32) -> f32 { return colstats[b * p.d + j]; }

// @section vec4: vec4 views of the centred views (same buffers as zcb / zcbt) for the CPU loop's
// vector hooks (the product and grad files' vec4 sections).
// Both operands of every VICReg product are read along their contiguous axis, so A comes
// in vec4s along K (VEC_A = 1) and B along N (VEC_B = 1), when that axis's length is a
// multiple of 4 (the op checks; the batch stride n * d then is one too).
@group(0) @binding(10) var<storage, read> zcb4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> zcbt4: array<vec4<f32>>;
