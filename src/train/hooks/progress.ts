/** The progress line on stderr (../progress.ts): redrawn at each read-back, closed before the evaluations. */
import type { RunContext } from '../run.js';
import type { StepLog, TrainHook } from './hook.js';

export class ProgressHook implements TrainHook {
  constructor(private readonly ctx: RunContext) {}

  onLog(l: StepLog): void {
    this.ctx.progress.update({ step: l.step, epoch: l.epoch, imagesPerSec: l.imagesPerSec, lr: l.lr, terms: l.terms });
  }

  async onEnd(): Promise<void> {
    this.ctx.progress.finish();
  }

  dispose(): void {
    this.ctx.progress.finish();
  }
}
