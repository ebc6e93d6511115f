// vec4 views of the centred views (same buffers as zcb / zcbt) for the CPU loop's vector hooks.
// Both operands of every VICReg product are read along their contiguous axis, so A comes
// in vec4s along K (VEC_A = 1) and B along N (VEC_B = 1), when that axis's length is a
// multiple of 4 (the op checks; the batch stride n * d then is one too).
@group(0) @binding(10) var<storage, read> zcb4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> zcbt4: array<vec4<f32>>;
