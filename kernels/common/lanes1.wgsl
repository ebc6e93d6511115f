// Lane width of a kernel written once for 1 or 4 consecutive f32 elements per invocation:
// include this part or lanes4.wgsl. vf is the element type, LANES its width, and vf4(v) narrows
// a vec4 of per-lane values to vf (here lane 0 only: one element per invocation).
alias vf = f32;
const LANES: u32 = 1;
fn vf4(v: vec4<f32>) -> vf { return v.x; }
