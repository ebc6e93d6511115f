// Lane broadcast for the matmul core's CPU loop on an adapter with subgroups of 8: one lane's
// load serves the 8 lanes of its subgroup (kernels/common/matmul_core.wgsl, MM_SUBGROUPS).
// The registry hoists this `enable` above the whole kernel.
enable subgroups;
const MM_SUBGROUPS: bool = true;
fn mm_bcast8(v: f32) -> array<f32, 8> {
  return array<f32, 8>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u),
                       subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}
// lane l's v (l is constant once the caller's loops are unrolled, which folds the switch)
fn mm_bcast_lane(v: f32, l: u32) -> f32 {
  switch (l) {
    case 0u: { return subgroupBroadcast(v, 0u); }
    case 1u: { return subgroupBroadcast(v, 1u); }
    case 2u: { return subgroupBroadcast(v, 2u); }
    case 3u: { return subgroupBroadcast(v, 3u); }
    case 4u: { return subgroupBroadcast(v, 4u); }
    case 5u: { return subgroupBroadcast(v, 5u); }
    case 6u: { return subgroupBroadcast(v, 6u); }
    default: { return subgroupBroadcast(v, 7u); }
  }
}
// The same for a vec4, one broadcast per lane: built from four mm_bcast_lane calls instead, the
// loss benchmark's (256, 2048) took 192 ms instead of 81 (2026-12-08), so the switch is written twice.
fn mm_bcast_lane4(v: vec4<f32>, l: u32) -> vec4<f32> {
  switch (l) {
    case 0u: { return subgroupBroadcast(v, 0u); }
    case 1u: { return subgroupBroadcast(v, 1u); }
    case 2u: { return subgroupBroadcast(v, 2u); }
    case 3u: { return subgroupBroadcast(v, 3u); }
    case 4u: { return subgroupBroadcast(v, 4u); }
    case 5u: { return subgroupBroadcast(v, 5u); }
    case 6u: { return subgroupBroadcast(v, 6u); }
    default: { return subgroupBroadcast(v, 7u); }
  }
}
// Sum over the subgroup's 8 lanes (MM_ROW_STATS).
fn mm_lanes_sum(v: f32) -> f32 { return subgroupAdd(v); }
