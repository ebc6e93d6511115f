/** Errors raised by the GPU layer. Everything a caller can catch by type. */

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** A WGSL kernel failed to compile; names the kernel, the file part and the line. */
export class KernelCompileError extends Error {
  override name = 'KernelCompileError';
}

/** Validation or out-of-memory errors reported by the device. */
export class GpuDeviceError extends Error {
  override name = 'GpuDeviceError';
}

/** The device's `limit` is below what the engine's kernels need (`needed`). */
export class GpuLimitError extends Error {
  override name = 'GpuLimitError';
  constructor(
    readonly limit: string,
    readonly needed: number,
    readonly actual: number,
  ) {
    super(`this GPUDevice has ${limit} = ${actual}; the engine needs at least ${needed} (request it in requestDevice({ requiredLimits }))`);
  }
}
