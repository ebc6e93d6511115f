// Lane width of a kernel written once for 1 or 4 consecutive f32 elements per invocation: the
// op includes the section `scalar` or `vec4` (a type cannot be a constant). vf is the element
// type, LANES its width, and vf4(v) narrows a vec4 of per-lane values to vf.

// @section scalar: one element per invocation (vf4 keeps lane 0).
alias vf = f32;
const LANES: u32 = 1;
fn vf4(v: vec4<f32>) -> vf { return v.x; }

// @section vec4: four elements per invocation as one vec4 (16-byte accesses).
alias vf = vec4<f32>;
const LANES: u32 = 4;
fn vf4(v: vec4<f32>) -> vf { return v; }
