// Both augmented views of a batch in one dispatch: one workgroup per (slot, view) keeps
// the S x S image in workgroup memory, so the contrast mean and the separable blur need
// no extra passes. Order (torchvision / VICReg): crop+resize, flip, brightness/contrast
// (in the drawn order), Gaussian blur, solarize, normalise.
// Per-(view, slot) parameters, NP floats at prm[(view*B + slot)*NP]:
//   0..3 crop x0, y0, w, h (source pixels)   4 flip   5 brightness   6 contrast
//   7 contrast first   8 blur sigma (0 = none)   9 solarize
struct Params { B: u32, H: u32, W: u32, mean: f32, sd: f32, threshold: f32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> prm: array<f32>;
@group(0) @binding(4) var<storage, read_write> out1: array<f32>;
@group(0) @binding(5) var<storage, read_write> out2: array<f32>;

const S: u32 = 28;
const R: i32 = 2;
// Power of two (tree reduction).
const WG: u32 = 256;
const NP: u32 = 12;
const SS: u32 = S * S;
const K: i32 = 2 * R + 1;

var<workgroup> a: array<f32, SS>;
var<workgroup> b: array<f32, SS>;
var<workgroup> red: array<f32, WG>;

// Reflect padding (torchvision gaussian_blur): -1 -> 1, S -> S-2.
fn reflect(i: i32) -> u32 {
  let n = i32(S);
  var j = i;
  if (j < 0) { j = -j; }
  if (j >= n) { j = 2 * (n - 1) - j; }
  return u32(j);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = wid.x;
  let view = wid.y;
  let o = (view * p.B + slot) * NP;
  let x0 = u32(prm[o]);
  let y0 = u32(prm[o + 1u]);
  let cw = u32(prm[o + 2u]);
  let ch = u32(prm[o + 3u]);
  let flip = prm[o + 4u] > 0.5;
  let bright = prm[o + 5u];
  let con = prm[o + 6u];
  let cfirst = prm[o + 7u] > 0.5;
  let sigma = prm[o + 8u];
  let sol = prm[o + 9u] > 0.5;
  let base = indices[slot] * p.H * p.W;

  // Crop + resize + flip (+ brightness when it comes first).
  var part = 0.0;
  for (var i = lid; i < SS; i += WG) {
    var ox = i % S;
    if (flip) { ox = S - 1u - ox; }
    var v = crop_bilinear(base, p.W, x0, y0, cw, ch, ox, i / S, S) / 255.0;
    if (!cfirst) { v = clamp(v * bright, 0.0, 1.0); }
    a[i] = v;
    part += v;
  }
  // Contrast blends with the image mean (always reduced: barriers need uniform control flow).
  red[lid] = part;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let m = red[0] / f32(SS);
  for (var i = lid; i < SS; i += WG) {
    var v = clamp(con * a[i] + (1.0 - con) * m, 0.0, 1.0);
    if (cfirst) { v = clamp(v * bright, 0.0, 1.0); }
    a[i] = v;
  }

  // Separable Gaussian blur, weights exp(-(d/sigma)^2/2) normalised over [-R, R].
  let blur = sigma > 0.0;
  var wts: array<f32, K>;
  if (blur) {
    var tot = 0.0;
    for (var k = 0; k < K; k++) {
      let d = f32(k - R) / sigma;
      wts[k] = exp(-0.5 * d * d);
      tot += wts[k];
    }
    for (var k = 0; k < K; k++) { wts[k] = wts[k] / tot; }
  }
  workgroupBarrier();
  for (var i = lid; i < SS; i += WG) {
    var v = a[i];
    if (blur) {
      let row = (i / S) * S;
      let x = i32(i % S);
      v = 0.0;
      for (var k = 0; k < K; k++) { v += wts[k] * a[row + reflect(x + k - R)]; }
    }
    b[i] = v;
  }
  workgroupBarrier();
  for (var i = lid; i < SS; i += WG) {
    var v = b[i];
    if (blur) {
      let x = i % S;
      let y = i32(i / S);
      v = 0.0;
      for (var k = 0; k < K; k++) { v += wts[k] * b[reflect(y + k - R) * S + x]; }
    }
    if (sol && v >= p.threshold) { v = 1.0 - v; }
    v = (v - p.mean) / p.sd;
    let g = slot * SS + i;
    if (view == 0u) { out1[g] = v; } else { out2[g] = v; }
  }
}
