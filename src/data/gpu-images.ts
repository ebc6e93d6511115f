/** A uint8 image set resident on the GPU, packed 4 pixels per u32 (uploaded once). */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';

export interface GpuImages {
  /** ceil(n*height*width/4) u32 words; byte j of word w is pixel 4w+j. */
  packed: Tensor;
  n: number;
  height: number;
  width: number;
}

export function uploadImages(gpu: Gpu, images: Uint8Array, n: number, height: number, width: number): GpuImages {
  const bytes = n * height * width;
  if (images.length !== bytes) throw new RangeError(`uploadImages: ${images.length} bytes for ${n}x${height}x${width}`);
  const words = Math.max(1, Math.ceil(bytes / 4));
  if (words * 4 > gpu.maxBinding) {
    throw new InputError('too-large', `image set of ${bytes} bytes exceeds the device's largest storage binding (${gpu.maxBinding} bytes)`);
  }
  const packed = new Uint32Array(words);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
    // Little-endian host: byte j of a word already sits at bits 8j.
    new Uint8Array(packed.buffer).set(images);
  } else {
    for (let i = 0; i < bytes; i++) packed[i >> 2] = (packed[i >> 2]! | (images[i]! << (8 * (i & 3)))) >>> 0;
  }
  return { packed: Tensor.from(gpu, packed, [words]), n, height, width };
}
