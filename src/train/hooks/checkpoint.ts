/** Checkpoints: one at each epoch's end, one at the end (then the PyTorch export), and on request. */
import { join } from 'node:path';
import { exportRun } from '../../export/torch.js';
import { saveCheckpoint } from '../checkpoint.js';
import { snapshot } from '../resume.js';
import type { RunContext } from '../run.js';
import type { TrainHook } from './hook.js';

export class CheckpointHook implements TrainHook {
  private lastStep: number;
  /** The latest checkpoint file (rank 0's on every rank: they all hold the same state). */
  lastFile: string | null;

  constructor(private readonly ctx: RunContext) {
    this.lastStep = ctx.resumed ? ctx.state.step : -1;
    this.lastFile = ctx.resumed ? join(ctx.ckDir, 'model.ckpt') : null;
  }

  async onEpoch(): Promise<void> {
    await this.save();
  }

  /** The checkpoint of the current step: the one written at it, else a new one. */
  async current(): Promise<string> {
    return this.lastStep === this.ctx.state.step ? this.lastFile! : this.save();
  }

  async onEnd(): Promise<void> {
    await this.current();
    // The trained encoder and expander for PyTorch (docs/pytorch.md), from that checkpoint.
    if (this.ctx.outputs) await exportRun(this.ctx.outDir);
  }

  private async save(): Promise<string> {
    const { ctx } = this;
    const { cfg, state, options: o } = ctx;
    const s = state.step;
    if (!ctx.lead) return join(ctx.ckDir, 'model.ckpt');
    const tensors = await snapshot(ctx.model, ctx.optim);
    const file = await saveCheckpoint(
      ctx.outDir,
      {
        step: s,
        epoch: Math.floor(s / ctx.stepsPerEpoch),
        elapsed: ctx.elapsed(),
        config: cfg,
        runId: ctx.runId,
        rng: { seed: cfg.seed, kind: 'counter-based pcg4d of (seed, step, slot, view); epoch permutation of (seed, epoch)' },
        optimizer: { kind: 'lars', steps: ctx.optim.steps },
        extra: {
          trainSeconds: state.trainSeconds,
          initEval: state.initEval,
          adapter: ctx.gpu.adapterName,
          lastTerms: state.lastTerms,
          evaluate: ctx.evaluate,
          initFrom: o.init?.source ?? o.resume?.header.extra?.initFrom ?? null,
          ...(ctx.collective.size > 1 ? { ranks: ctx.collective.size } : {}),
        },
      },
      tensors,
    );
    this.lastStep = s;
    this.lastFile = file;
    return file;
  }
}
