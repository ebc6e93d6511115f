// Four elements per invocation as one vec4 (16-byte accesses); see lanes1.wgsl.
alias vf = vec4<f32>;
const LANES: u32 = 4;
fn vf4(v: vec4<f32>) -> vf { return v; }
