/** AdamW, PyTorch semantics (decoupled weight decay, bias correction, no amsgrad); one dispatch per parameter. */
import adamwSrc from '../../kernels/optim/adamw.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import type { Tensor } from '../tensor.js';
import { ELEMENTWISE } from '../ops/grid.js';
import { Optimizer, UPDATE, type LearningRate } from './optimizer.js';

export interface AdamWOptions {
  betas?: [number, number]; // default [0.9, 0.999]
  eps?: number; // default 1e-8
  weightDecay?: number; // default 0.01
}

const ADAMW: KernelSpec = { name: 'optim/adamw', parts: [{ file: 'kernels/optim/adamw.wgsl', code: adamwSrc }, UPDATE, ELEMENTWISE] };

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(gpu: Gpu, params: Tensor[], opts: AdamWOptions = {}) {
    super(gpu, params);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
  }

  /** One step; the step count t (for bias correction) is shared by all parameters. */
  step(lr: LearningRate): void {
    const gpu = this.gpu;
    const t = this.steps + 1;
    this.writeHyper(lr, [1 - this.beta1 ** t, Math.sqrt(1 - this.beta2 ** t)]);
    for (const p of this.params) {
      if (!p.grad) continue;
      const [m, v] = this.stateOf(p, 2) as [Tensor, Tensor];
      gpu.dispatchOver(
        gpu.kernel(ADAMW),
        {
          p: { n: p.size, beta1: this.beta1, beta2: this.beta2, eps: this.eps, wd: this.weightDecay },
          w: p.buffer,
          g: p.grad.buffer,
          m: m.buffer,
          v: v.buffer,
          hyp: this.hyp.buffer,
        },
        p.size,
      );
    }
    this.steps = t;
  }
}
