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
