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
import type { Collective } from '../dist/collective.js';
import { singleProcess } from '../dist/single-process.js';
import { GradAllreduce, bnSyncOf, gatherRows, shardOf } from '../dist/data-parallel.js';

/**
 * Steps the training loop keeps in flight: two on a GPU, where recording the next step overlaps
 * the GPU's work; one on a software adapter, whose threads share the CPU with that recording and
 * split each dispatch statically between them, so the overlap cost more than it hid (quick step,
 * 2-core Intel Xeon, 2026-12-08: 77.0 vs 81.4 ms, 12 of 12 alternating blocks; AVX2 code 88.1 vs
 * 93.9 ms, 9 of 12; docs/gpu-notes.md).
 */
export function stepsInFlight(gpu: Gpu): 1 | 2 {
  return gpu.isSoftware ? 1 : 2;
}

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
    /** Data-parallel ranks (src/dist): with size > 1, use runSynced. */
    private readonly collective: Collective = singleProcess,
  ) {
    this.seed = Tensor.from(gpu, new Float32Array([collective.size, 0, 0, 0, 0]), [5]);
    this.params = model.parameters();
    if (collective.size > 1) this.grads = new GradAllreduce(gpu, this.params, collective);
  }

  private readonly grads: GradAllreduce | null = null;

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
    return this.finish(tape, [view1, view2], loss.terms, lr, keepTerms);
  }

  /** The optimizer update, the optional copy of the terms, releases and the step's one submit. */
  private finish(tape: Tape, views: Tensor[], terms: Tensor, lr: number, keepTerms: boolean): Tensor | null {
    const gpu = this.gpu;
    this.optim.step(lr);
    let copy: Tensor | null = null;
    if (keepTerms) {
      copy = Tensor.empty(gpu, [5]);
      gpu.copy(terms.buffer, 0, copy.buffer, 0, 20);
    }
    tape.dispose();
    for (const v of views) v.release();
    this.optim.zeroGrad();
    gpu.flush();
    return copy;
  }

  /**
   * Step `s` as rank `collective.rank` of a data-parallel job (docs/distributed.md): this rank's
   * shard of the global batch, SyncBN, the loss on the all-gathered embeddings (each rank the
   * same global loss; backward seeded with N, the sum over ranks), one packed gradient
   * all-reduce (averaged), the same LARS update everywhere. Reads back mid-step (every
   * synchronised batch norm, the gather, the gradients). `stopVote`: this rank wants to stop;
   * `stop` is true on every rank when any voted.
   */
  async runSynced(s: number, lr: number, keepTerms: boolean, stopVote: boolean): Promise<{ terms: Tensor | null; stop: boolean }> {
    const { gpu, model, collective: c } = this;
    const sync = bnSyncOf(c);
    const tape = new Tape(gpu);
    tape.watch(...this.params);
    const { view1, view2 } = this.data.batch(s, shardOf(this.data.batchSize, c.rank, c.size));
    const z1 = await model.expandSynced(tape, await model.encodeSynced(tape, view1, true, sync), true, sync);
    const z2 = await model.expandSynced(tape, await model.encodeSynced(tape, view2, true, sync), true, sync);
    const g1 = await gatherRows(tape, z1, c);
    const g2 = await gatherRows(tape, z2, c);
    const loss = vicregOp(tape, g1, g2, this.lossOpts);
    await tape.backwardAsync(loss.terms, this.seed);
    const stop = await this.grads!.run(stopVote);
    return { terms: this.finish(tape, [view1, view2], loss.terms, lr, keepTerms), stop };
  }

  release(): void {
    this.seed.release();
    this.grads?.release();
  }
}
