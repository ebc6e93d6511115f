/**
 * What the training loop (../loop.ts) calls around its steps. Each hook is one job
 * (checkpoints, diagnostics, metrics, progress, evaluation, report) holding the RunContext it
 * was made with; the loop calls every hook's method in list order, so hooks never call each
 * other and the order of a run's outputs is the list's.
 */
import type { VicregTerms } from '../../vicreg/loss.js';

/** One loss read back. */
export interface StepLog {
  /** Steps done (1-based index of the step the terms belong to). */
  step: number;
  /** The step's epoch, 0-based. */
  epoch: number;
  lr: number;
  terms: VicregTerms;
  /** Training throughput since the previous read-back. */
  imagesPerSec: number;
}

export interface TrainHook {
  /** Before the first step, new and resumed runs alike (ctx.resumed tells them apart). */
  onStart?(): Promise<void>;
  /** In the read-back callback, off the loop: keep it synchronous and cheap; a throw stops the loop. */
  onLog?(l: StepLog): void;
  /** An epoch's last step is done: reads drained, training clock paused. */
  onEpoch?(epoch: number): Promise<void>;
  /** Rank 0, every step done. 'interrupted' ends the run there (a stop during an evaluation). */
  onEnd?(): Promise<'interrupted' | void>;
  /** Releases what the hook holds; always called, last. */
  dispose?(): void;
}
