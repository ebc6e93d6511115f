/** SGD with momentum, PyTorch semantics (dampening, nesterov, L2 weight decay); one dispatch per parameter. */
import sgdSrc from '../../kernels/optim/sgd.wgsl';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import type { Tensor } from '../tensor.js';
import { ELEMENTWISE } from '../ops/grid.js';
import { Optimizer, UPDATE, type LearningRate } from './optimizer.js';

export interface SgdOptions {
  momentum?: number; // default 0
  dampening?: number; // default 0
  weightDecay?: number; // default 0
  nesterov?: boolean; // default false
}

const SGD: KernelSpec = { name: 'optim/sgd', parts: [{ file: 'kernels/optim/sgd.wgsl', code: sgdSrc }, UPDATE, ELEMENTWISE] };

export class Sgd extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(gpu: Gpu, params: Tensor[], opts: SgdOptions = {}) {
    super(gpu, params);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  step(lr: LearningRate): void {
    const gpu = this.gpu;
    this.writeHyper(lr);
    for (const p of this.params) {
      if (!p.grad) continue;
      // PyTorch creates the momentum buffer on a parameter's first update.
      const first = !this.state.has(p);
      const [buf] = this.stateOf(p, 1) as [Tensor];
      gpu.dispatchOver(
        gpu.kernel(SGD),
        {
          p: { n: p.size, momentum: this.momentum, dampening: this.dampening, wd: this.weightDecay, nesterov: this.nesterov, first },
          w: p.buffer,
          g: p.grad.buffer,
          buf: buf.buffer,
          hyp: this.hyp.buffer,
        },
        p.size,
      );
    }
    this.steps++;
  }
}
