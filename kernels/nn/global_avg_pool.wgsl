// Global average pooling [N, C, H, W] -> [N, C]: each workgroup reduces
// 256 / TPR rows of S = H*W values, TPR threads per row meeting in a
// shared-memory tree (TPR = 1 for small planes: one thread per row).
// Backward: dx[n, c, :] = dy[n, c] / S, one thread per input element.
struct Params { rows: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

const TPR: u32 = 16;

var<workgroup> acc: array<f32, WG>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let l = lid.x;
  let row = (wid.x + wid.y * nwg.x) * (WG / TPR) + l / TPR;
  let t = l % TPR;
  var a = 0.0;
  if (row < p.rows) {
    for (var j = t; j < p.s; j = j + TPR) {
      a = a + x[row * p.s + j];
    }
  }
  acc[l] = a;
  workgroupBarrier();
  for (var h = TPR / 2u; h > 0u; h = h / 2u) {
    if (t < h) {
      acc[l] = acc[l] + acc[l + h];
    }
    workgroupBarrier();
  }
  if (t == 0u && row < p.rows) {
    y[row] = acc[l] / f32(p.s);
  }
}

// Backward, the elementwise.wgsl entry point `main` (which also declares WG).
fn ew_len() -> u32 { return p.rows * p.s; }
fn ew(i: u32) {
  dx[i] = dy[i / p.s] / f32(p.s);
}
