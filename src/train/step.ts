/**
 * One VICReg training step, recorded on the GPU without a read-back: both augmented views, the
 * encoder and expander on a tape, the fused loss, backward, the optimizer update, one submit.
 * The training loop and `bench step` run exactly this.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { Tape } from '../tape.js';
import type { GpuDataset } from '../data/gpu-dataset.js';
import type { VicregModel } from '../nn/model.js';
import type { Optimizer } from '../optim/optimizer.js';
import { vicregOp, type VicregOptions } from '../vicreg/loss.js';

export class TrainStep {
  /** d(loss terms)/d(loss terms) seed: the total (slot 0) only. */
  private readonly seed: Tensor;
  private readonly params: Tensor[];

  constructor(
    private readonly gpu: Gpu,
    private readonly model: VicregModel,
    private readonly optim: Optimizer,
    private readonly data: GpuDataset,
    private readonly lossOpts: VicregOptions,
  ) {
    this.seed = Tensor.from(gpu, new Float32Array([1, 0, 0, 0, 0]), [5]);
    this.params = model.parameters();
  }

  /**
   * Records and submits step `s` at learning rate `lr`. With `keepTerms`, returns a copy of the
   * loss terms [loss, invariance, variance, covariance, bad-input flag] (the caller reads and
   * releases it); nothing is read back here.
   */
  run(s: number, lr: number, keepTerms: boolean): Tensor | null {
    const { gpu, model } = this;
    const tape = new Tape(gpu);
    tape.watch(...this.params);
    const { view1, view2 } = this.data.batch(s);
    const z1 = model.expand(tape, model.encode(tape, view1, true), true);
    const z2 = model.expand(tape, model.encode(tape, view2, true), true);
    const loss = vicregOp(tape, z1, z2, this.lossOpts);
    tape.backward(loss.terms, this.seed);
    this.optim.step(lr);
    let copy: Tensor | null = null;
    if (keepTerms) {
      copy = Tensor.empty(gpu, [5]);
      gpu.copy(loss.terms.buffer, 0, copy.buffer, 0, 20);
    }
    tape.dispose();
    view1.release();
    view2.release();
    this.optim.zeroGrad();
    gpu.flush();
    return copy;
  }

  release(): void {
    this.seed.release();
  }
}
