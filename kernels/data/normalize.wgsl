// Eval path: the whole image resized to S x S (identity when S equals the source size)
// and normalised, no augmentation. One thread per output pixel (entry: elementwise.wgsl).
struct Params { B: u32, H: u32, W: u32, S: u32, mean: f32, sd: f32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn ew_len() -> u32 { return p.B * p.S * p.S; }
fn ew(i: u32) {
  let ss = p.S * p.S;
  let slot = i / ss;
  let q = i % ss;
  let base = indices[slot] * p.H * p.W;
  let v = crop_bilinear(base, p.W, 0u, 0u, p.W, p.H, q % p.S, q / p.S, p.S) / 255.0;
  out[i] = (v - p.mean) / p.sd;
}
