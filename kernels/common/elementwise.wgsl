// Entry point of the one-invocation-per-element kernels: `main` runs ew(i) for every
// i < ew_len() of the 1-D grid that dispatchOver / grid1d size (counts past 65535 workgroups
// fold into y). Included after the kernel, which defines ew_len() and ew(i); WG may be
// specialised (wg_sum2.wgsl and other entry points of the kernel may use it too).
const WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < ew_len()) {
    ew(i);
  }
}
