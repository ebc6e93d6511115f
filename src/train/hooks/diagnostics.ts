/** Collapse diagnostics (../diagnostics.ts) of a fixed, un-augmented training batch, into metrics.jsonl. */
import type { Tensor } from '../../tensor.js';
import { correlationMatrix, diagnose } from '../diagnostics.js';
import type { RunContext } from '../run.js';
import type { TrainHook } from './hook.js';

export class DiagnosticsHook implements TrainHook {
  private readonly n: number;
  private readonly x: Tensor;

  constructor(private readonly ctx: RunContext) {
    const { n } = ctx.train;
    // Evenly spaced training images, the same batch at every epoch.
    this.n = Math.min(ctx.cfg.diagBatch, n);
    this.x = ctx.train.ds.evalIndices(Uint32Array.from({ length: this.n }, (_, i) => Math.floor((i * n) / this.n)));
  }

  async onStart(): Promise<void> {
    if (!this.ctx.resumed) await this.record(0, true);
  }

  async onEpoch(epoch: number): Promise<void> {
    await this.record(epoch, this.ctx.state.step === this.ctx.totalSteps);
  }

  async onEnd(): Promise<void> {
    // Resumed after training finished: write the end-of-run records again.
    if (this.ctx.options.resume?.header.step === this.ctx.totalSteps) await this.record(this.ctx.cfg.epochs, true);
  }

  dispose(): void {
    this.x.release();
  }

  private async record(epoch: number, withCorr: boolean): Promise<void> {
    const { ctx, n } = this;
    if (!ctx.lead) return;
    const { model, metrics } = ctx;
    const step = ctx.state.step;
    const r = model.encode(null, this.x, false);
    const z = model.expand(null, r, false);
    const [rh, zh] = [await r.read(), await z.read()];
    r.release();
    z.release();
    const d = diagnose(zh, rh, n, model.embDim, model.reprDim);
    const { std, ...nums } = d;
    metrics.write({ type: 'epoch', epoch, step, ...nums, repr_dim: model.reprDim, emb_dim: model.embDim });
    metrics.write({ type: 'std_hist', epoch, step, std });
    if (withCorr) {
      const dim = Math.min(64, model.embDim);
      metrics.write({ type: 'corr', epoch, step, dim, matrix: correlationMatrix(zh, n, model.embDim, dim) });
    }
    ctx.log(`  epoch ${epoch}: emb std mean ${d.emb_std_mean}, below gamma ${(d.emb_std_frac_below_gamma * 100).toFixed(0)}%, effective rank ${d.effective_rank.toFixed(1)}/${model.reprDim}`);
  }
}
