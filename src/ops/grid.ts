/** Splits a 1-D workgroup count into a 2-D grid under the per-dimension limit. */
export function grid1d(workgroups: number, maxPerDim = 65535): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(workgroups, 0), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  return [Math.ceil(workgroups / y), y];
}
