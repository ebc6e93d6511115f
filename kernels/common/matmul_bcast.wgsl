// Lane broadcast for the matmul core's CPU loop, portable version: every lane loads its own
// value (no subgroups). The GPU loop never calls these. The subgroup version is
// matmul_bcast_subgroups.wgsl; src/ops/matmul-core.ts picks one (matmulCore).
const MM_SUBGROUPS: bool = false;
fn mm_bcast8(v: f32) -> array<f32, 8> { return array<f32, 8>(v, v, v, v, v, v, v, v); }
fn mm_bcast_lane(v: f32, l: u32) -> f32 { return v; }
fn mm_bcast_lane4(v: vec4<f32>, l: u32) -> vec4<f32> { return v; }
// No subgroups: each lane keeps its own sum (MM_ROW_STATS writes a partial per lane).
fn mm_lanes_sum(v: f32) -> f32 { return v; }
