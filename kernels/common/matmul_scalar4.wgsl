// Default vector hooks for preludes that have no vec4 view of their operands (VEC_A = VEC_B = 0):
// included as a part between such a prelude and kernels/common/matmul_core.wgsl.
fn mm_readA4(b: u32, row: u32, k: u32) -> vec4<f32> { return mm_scalarA4(b, row, k); }
fn mm_readB4(b: u32, k: u32, col: u32) -> vec4<f32> { return mm_scalarB4(b, k, col); }
