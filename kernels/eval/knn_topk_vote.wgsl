// One workgroup per test row of a chunk of similarities s[row, 0..n): keep the K most similar
// train rows (larger similarity first, ties to the smaller train index), then the weighted vote
// of DINO/InstDisc kNN: class score = sum of exp(sim / T) over the K neighbours; predicted class
// = argmax (ties to the smaller class). Writes pred[row0 + row].
struct Params { n: u32, lds: u32, row0: u32, inv_t: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> tinv: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> pred: array<u32>;

const K: u32 = 20;
const C: u32 = 10;
const WG: u32 = 64;
const NONE: u32 = 0xffffffffu;

var<workgroup> cs: array<f32, K * WG>;
var<workgroup> ci: array<u32, K * WG>;
var<workgroup> lm: array<f32, WG>;
var<workgroup> thr: f32;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
  return v > w || (v == w && i < j);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x;
  let base = row * p.lds;
  let t = lid.x;
  // Pass 1 (a plain max, vectorises well): the K-th largest of the WG lane maxima is a lower
  // bound of the row's K-th largest value, so pass 2 only inserts values at or above it.
  var lmax = -3.4e38;
  for (var j = t; j < p.n; j += WG) { lmax = max(lmax, s[base + j]); }
  lm[t] = lmax;
  if (t == 0u) { thr = -3.4e38; }
  workgroupBarrier();
  if (K <= WG) {
    var gt = 0u;
    var ge = 0u;
    for (var q = 0u; q < WG; q++) {
      gt += select(0u, 1u, lm[q] > lmax);
      ge += select(0u, 1u, lm[q] >= lmax);
    }
    if (gt < K && ge >= K) { thr = lmax; } // every lane that writes writes the same value
  }
  workgroupBarrier();
  let lo = thr;
  var ts: array<f32, K>;
  var ti: array<u32, K>;
  for (var q = 0u; q < K; q++) { ts[q] = -3.4e38; ti[q] = NONE; }
  var last = -3.4e38;
  // Pass 2: per-lane sorted list; a lane visits increasing indices, so a strict '>' keeps ties
  // in index order.
  for (var j = t; j < p.n; j += WG) {
    let v = s[base + j];
    if (v >= lo && v > last) {
      var q = K - 1u;
      while (q > 0u && ts[q - 1u] < v) {
        ts[q] = ts[q - 1u];
        ti[q] = ti[q - 1u];
        q--;
      }
      ts[q] = v;
      ti[q] = j;
      last = ts[K - 1u];
    }
  }
  for (var q = 0u; q < K; q++) { cs[t * K + q] = ts[q]; ci[t * K + q] = ti[q]; }
  workgroupBarrier();
  if (t != 0u) { return; }
  // Merge the WG lists (one lane: K * WG candidates, most rejected by one compare).
  for (var q = 0u; q < K; q++) { ts[q] = -3.4e38; ti[q] = NONE; }
  for (var c = 0u; c < K * WG; c++) {
    let v = cs[c];
    let i = ci[c];
    if (i != NONE && better(v, i, ts[K - 1u], ti[K - 1u])) {
      var q = K - 1u;
      while (q > 0u && better(v, i, ts[q - 1u], ti[q - 1u])) {
        ts[q] = ts[q - 1u];
        ti[q] = ti[q - 1u];
        q--;
      }
      ts[q] = v;
      ti[q] = i;
    }
  }
  let scale = tinv[p.row0 + row];
  var score: array<f32, C>;
  for (var c = 0u; c < C; c++) { score[c] = 0.0; }
  // exp((sim - best) / T): the common factor exp(-best / T) leaves the argmax unchanged and avoids overflow.
  let best = ts[0] * scale;
  for (var q = 0u; q < K; q++) {
    if (ti[q] == NONE) { break; }
    let cls = labels[ti[q]];
    if (cls < C) { score[cls] += exp((ts[q] * scale - best) * p.inv_t); }
  }
  var arg = 0u;
  for (var c = 1u; c < C; c++) { if (score[c] > score[arg]) { arg = c; } }
  pred[p.row0 + row] = arg;
}
