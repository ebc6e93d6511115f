/**
 * The channel-major gradient handoff between an im2col conv and the batch norm after it.
 *
 * The conv's backward reads dY as [cout, ldc] (columns (n, q), zero past n * q): its weight
 * gradient is a GEMM over those columns. The batch norm's backward walks whole (n, c) planes on
 * CPU adapters and can write its input gradient in that layout at no cost, which saves the conv a
 * transpose of dY per layer and view (~1 ms each in the quick step on lavapipe). The conv asks for
 * the layout on its output tensor; the batch norm, if it can, answers with a gradient tagged with
 * it; anything else passes NCHW gradients as before.
 */
import type { Tensor } from '../tensor.js';

export interface ChannelMajor {
  channels: number;
  /** Valid columns per channel (n * q) and the row length (a multiple of 4). */
  ncols: number;
  ldc: number;
}

const wanted = new WeakMap<Tensor, ChannelMajor>();
const given = new WeakMap<Tensor, ChannelMajor>();

/** The conv that made `y` would take y's gradient in layout `l`. */
export function wantChannelMajorGrad(y: Tensor, l: ChannelMajor): void {
  wanted.set(y, l);
}

/** The tape: `y` has a second reader, whose gradient will be NCHW. */
export function withdrawChannelMajor(y: Tensor): void {
  wanted.delete(y);
}

/** The layout the producer of `x` would take x's gradient in, if any. */
export function channelMajorWanted(x: Tensor): ChannelMajor | undefined {
  return wanted.get(x);
}

/** Tags a gradient written [channels, ldc]. */
export function markChannelMajor(g: Tensor, l: ChannelMajor): void {
  given.set(g, l);
}

/** The layout of a gradient tagged by markChannelMajor (undefined: NCHW like its tensor). */
export function channelMajorOf(g: Tensor): ChannelMajor | undefined {
  return given.get(g);
}
