/** The step records of metrics.jsonl: every `logEvery` steps and the last step. */
import { round } from '../diagnostics.js';
import type { RunContext } from '../run.js';
import type { StepLog, TrainHook } from './hook.js';

export class MetricsHook implements TrainHook {
  constructor(private readonly ctx: RunContext) {}

  onLog(l: StepLog): void {
    const { ctx } = this;
    if (l.step % ctx.cfg.logEvery !== 0 && l.step !== ctx.totalSteps) return;
    ctx.metrics.write({
      type: 'step',
      step: l.step,
      epoch: l.epoch + 1,
      loss: round(l.terms.loss, 6),
      invariance: round(l.terms.invariance, 6),
      variance: round(l.terms.variance, 6),
      covariance: round(l.terms.covariance, 6),
      lr: round(l.lr, 6),
      images_per_sec: round(l.imagesPerSec, 4),
      time: round(ctx.elapsed(), 6),
    });
  }
}
