// Shared by the data kernels: uint8 images packed 4 per u32 (byte j of word w is pixel 4w+j).
@group(0) @binding(0) var<storage, read> images: array<u32>;

fn pixel(i: u32) -> f32 {
  return f32((images[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

// Output pixel (ox, oy) of a size x size bilinear resize of the crop box (x0, y0, cw, ch) of the
// image starting at byte `base` (row width W), in [0, 255]. Same sampling as torch's
// interpolate(mode='bilinear', align_corners=False) applied to the cropped image.
fn crop_bilinear(base: u32, W: u32, x0: u32, y0: u32, cw: u32, ch: u32, ox: u32, oy: u32, size: u32) -> f32 {
  let sx = max((f32(ox) + 0.5) * (f32(cw) / f32(size)) - 0.5, 0.0);
  let sy = max((f32(oy) + 0.5) * (f32(ch) / f32(size)) - 0.5, 0.0);
  let fx = floor(sx);
  let fy = floor(sy);
  let lx = sx - fx;
  let ly = sy - fy;
  let ix0 = min(u32(fx), cw - 1u);
  let ix1 = min(ix0 + 1u, cw - 1u);
  let iy0 = min(u32(fy), ch - 1u);
  let iy1 = min(iy0 + 1u, ch - 1u);
  let r0 = base + (y0 + iy0) * W + x0;
  let r1 = base + (y0 + iy1) * W + x0;
  let top = pixel(r0 + ix0) * (1.0 - lx) + pixel(r0 + ix1) * lx;
  let bot = pixel(r1 + ix0) * (1.0 - lx) + pixel(r1 + ix1) * lx;
  return top * (1.0 - ly) + bot * ly;
}
