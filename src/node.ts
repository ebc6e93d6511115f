/**
 * The package's Node entry (the `node` condition of `vicreg-webgpu`, and `vicreg-webgpu/node`):
 * everything in the browser-clean entry, where createGpu() opens Dawn (src/gpu/dawn.ts), plus
 * .npy files on disk.
 */
export * from './index.js';
export { readNpy, writeNpy } from './io/npy.js';
export { dawnAdapter } from './gpu/dawn.js';
