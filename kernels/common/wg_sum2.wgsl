// Workgroup sum of a pair of values per invocation (e.g. sum and sum of squares), as a
// shared-memory tree. The including kernel declares `const WG: u32` (a power of two, its
// workgroup size); call from uniform control flow with l = local_invocation_index.
// Invocation l gets the totals over the invocations with the same l % WG_SUM_STRIDE (a power
// of two dividing WG): 1 sums the whole workgroup; TX sums the columns of a TX x TY workgroup.
const WG_SUM_STRIDE: u32 = 1;

var<workgroup> wg_sum_a: array<f32, WG>;
var<workgroup> wg_sum_b: array<f32, WG>;

fn wg_sum2(l: u32, a: f32, b: f32) -> vec2<f32> {
  workgroupBarrier(); // a previous call's readers are done with slot 0
  wg_sum_a[l] = a;
  wg_sum_b[l] = b;
  workgroupBarrier();
  for (var h = WG / 2u; h >= WG_SUM_STRIDE; h = h / 2u) {
    if (l < h) {
      wg_sum_a[l] = wg_sum_a[l] + wg_sum_a[l + h];
      wg_sum_b[l] = wg_sum_b[l] + wg_sum_b[l + h];
    }
    workgroupBarrier();
  }
  return vec2<f32>(wg_sum_a[l % WG_SUM_STRIDE], wg_sum_b[l % WG_SUM_STRIDE]);
}
