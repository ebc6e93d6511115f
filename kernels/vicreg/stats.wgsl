// VICReg pass 1: one read of Z and Z' per column block gives both views' column
// means, unbiased variances (two-pass, for accuracy) and the column sums of (Z - Z')².
// colstats layout: [mean1 | mean2 | var1 | var2 | diffsq], each of length d.
// It also writes the centred views Zc [2, n, d] and Zcᵀ [2, d, n], so that every product
// operand is read along its contiguous axis (see kernels/vicreg/common.wgsl).
struct Params { n: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z1: array<f32>;
@group(0) @binding(2) var<storage, read> z2: array<f32>;
@group(0) @binding(3) var<storage, read_write> colstats: array<f32>;
@group(0) @binding(4) var<storage, read_write> zc: array<f32>;
@group(0) @binding(5) var<storage, read_write> zct: array<f32>;

const COLS: u32 = 32;
const ROWS: u32 = 8;

var<workgroup> red: array<vec3<f32>, 256>; // COLS * ROWS

fn reduce_rows(lx: u32, ly: u32) {
  for (var s = ROWS / 2u; s > 0u; s /= 2u) {
    workgroupBarrier();
    if (ly < s) { red[ly * COLS + lx] += red[(ly + s) * COLS + lx]; }
  }
  workgroupBarrier();
}

@compute @workgroup_size(COLS, ROWS, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = wg.x * COLS + lid.x;
  let valid = j < p.d;
  let d = p.d;
  var acc = vec3<f32>(0.0);
  if (valid) {
    for (var i = lid.y; i < p.n; i += ROWS) {
      let a = z1[i * d + j];
      let b = z2[i * d + j];
      acc += vec3<f32>(a, b, (a - b) * (a - b));
    }
  }
  red[lid.y * COLS + lid.x] = acc;
  reduce_rows(lid.x, lid.y);
  let sums = red[lid.x];
  let nf = f32(p.n);
  let m1 = sums.x / nf;
  let m2 = sums.y / nf;
  workgroupBarrier();

  var c = vec3<f32>(0.0);
  if (valid) {
    for (var i = lid.y; i < p.n; i += ROWS) {
      let a = z1[i * d + j] - m1;
      let b = z2[i * d + j] - m2;
      c += vec3<f32>(a * a, b * b, 0.0);
      zc[i * d + j] = a;
      zc[p.n * d + i * d + j] = b;
      zct[j * p.n + i] = a;
      zct[p.n * d + j * p.n + i] = b;
    }
  }
  red[lid.y * COLS + lid.x] = c;
  reduce_rows(lid.x, lid.y);
  if (valid && lid.y == 0u) {
    let cs = red[lid.x];
    colstats[j] = m1;
    colstats[d + j] = m2;
    colstats[2u * d + j] = cs.x / (nf - 1.0);
    colstats[3u * d + j] = cs.y / (nf - 1.0);
    colstats[4u * d + j] = sums.z;
  }
}
