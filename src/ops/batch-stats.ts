/**
 * Batch statistics handed from a conv to the batch norm after it (training, CPU adapters).
 *
 * The im2col conv's GEMM can sum each output channel in its epilogue, from the registers, as
 * partials of (count, mean, squared deviations) (gemm's rowStats). The batch norm then merges
 * them (batchnorm_finalize.wgsl, stats_merge) instead of re-reading the whole output in a
 * reduction pass. The partials live on the conv's tape record (released with the tape).
 */
import type { Tensor } from '../tensor.js';

export interface BatchStatParts {
  /** [channels, parts, 3]: (count, mean, squared deviations from that mean). */
  part: Tensor;
  parts: number;
  channels: number;
  /** Values per channel over all parts (N x H x W). */
  count: number;
}

const attached = new WeakMap<Tensor, BatchStatParts>();

export function attachBatchStats(y: Tensor, s: BatchStatParts): void {
  attached.set(y, s);
}

/** The statistics partials of `x` computed with it, if any. */
export function batchStatsOf(x: Tensor): BatchStatParts | undefined {
  return attached.get(x);
}
