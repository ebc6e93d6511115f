/**
 * Shared optimizer plumbing. Per-step scalars (the learning rate, Adam's bias
 * corrections) live in a small GPU buffer `hyp` written in stream order each
 * step, so a changing schedule never forces a read-back or a new pipeline.
 */
import updateSrc from '../../kernels/optim/update.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { WgslPart } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';

/** The bindings every update kernel shares (w, g, hyp): a part after the optimizer's own. */
export const UPDATE: WgslPart = { file: 'kernels/optim/update.wgsl', code: updateSrc };

/** A learning rate: a host number (uploaded) or a 1-element GPU tensor (copied on the GPU). */
export type LearningRate = number | Tensor;

export abstract class Optimizer {
  /** [lr, ...per-optimizer scalars] on the GPU. */
  readonly hyp: Tensor;
  /** Steps taken so far. */
  steps = 0;
  protected state = new Map<Tensor, Tensor[]>();

  constructor(
    readonly gpu: Gpu,
    readonly params: Tensor[],
  ) {
    this.hyp = Tensor.zeros(gpu, [4]);
  }

  /** Applies one update to every parameter that has a gradient (PyTorch skips the others too). */
  abstract step(lr: LearningRate): void;

  /** Releases and clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.release();
      p.grad = null;
    }
  }

  /** The state tensors of `p` (LARS/SGD: [momentum]; AdamW: [m, v]), once it has been updated. */
  stateFor(p: Tensor): readonly Tensor[] | undefined {
    return this.state.get(p);
  }

  /** Releases the optimizer's state buffers. */
  dispose(): void {
    for (const ts of this.state.values()) for (const t of ts) t.release();
    this.state.clear();
    this.hyp.release();
  }

  /** State tensors of `p` (zero-initialised on first use). */
  protected stateOf(p: Tensor, count: number): Tensor[] {
    let s = this.state.get(p);
    if (!s) {
      s = Array.from({ length: count }, () => Tensor.zeros(this.gpu, p.shape));
      this.state.set(p, s);
    }
    return s;
  }

  protected writeHyper(lr: LearningRate, extra: number[] = []): void {
    if (typeof lr === 'number') {
      this.gpu.upload(this.hyp.buffer, new Float32Array([lr, ...extra]));
      return;
    }
    this.gpu.copy(lr.buffer, 0, this.hyp.buffer, 0, 4);
    if (extra.length) this.gpu.upload(this.hyp.buffer, new Float32Array(extra), 4);
  }
}
