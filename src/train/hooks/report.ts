/** The end of a finished run: summary.json and report.html, and the closing line. */
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { writeFileAtomic } from '../../io/file-write.js';
import { writeReport } from '../../report/index.js';
import { round } from '../diagnostics.js';
import { formatDuration } from '../progress.js';
import type { RunContext, Summary } from '../run.js';
import type { TrainHook } from './hook.js';

export class ReportHook implements TrainHook {
  constructor(private readonly ctx: RunContext) {}

  async onEnd(): Promise<void> {
    const { ctx } = this;
    const summary = summarize(ctx);
    ctx.state.summary = summary;
    if (ctx.outputs) {
      writeFileAtomic(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      // The report is a view of files already written: a failure to build it (no esbuild, e.g. in a
      // self-contained bundle on a bare machine) must not fail a finished run.
      try {
        await writeReport(ctx.outDir);
      } catch (e) {
        if (e instanceof InputError && e.code === 'write-failed') throw e;
        ctx.log(`report not written (${(e as Error).message.split('\n')[0]}); retry with: npm run vicreg -- report ${ctx.outDir}`);
      }
    }
    ctx.log(`done in ${formatDuration(ctx.elapsed())} (${summary.images_per_sec} img/s training); run directory ${ctx.outDir}`);
  }
}

function summarize(ctx: RunContext): Summary {
  const { cfg, state, model, collective: coll } = ctx;
  const { finalEval: final, initEval, lastTerms: t } = state;
  return {
    knn_top1: final ? round(final.knn) : null,
    knn_top1_init: initEval ? round(initEval.knn) : null,
    linear_top1: final ? round(final.linear) : null,
    linear_top1_init: initEval ? round(initEval.linear) : null,
    epochs: cfg.epochs,
    steps: ctx.totalSteps,
    seconds: round(ctx.elapsed()),
    train_seconds: round(state.trainSeconds),
    // Process CPU time (lavapipe's threads included): a contention-free measure of the work.
    cpu_seconds: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6),
    images_per_sec: round((ctx.totalSteps * cfg.batchSize) / Math.max(state.trainSeconds, 1e-9)),
    adapter: ctx.gpu.adapterName,
    tuning: ctx.gpu.tuning,
    loss: t ? round(t.loss, 6) : null,
    invariance: t ? round(t.invariance, 6) : null,
    variance: t ? round(t.variance, 6) : null,
    covariance: t ? round(t.covariance, 6) : null,
    preset: cfg.preset,
    batch_size: cfg.batchSize,
    image_size: ctx.aug.size,
    repr_dim: model.reprDim,
    emb_dim: model.embDim,
    parameters: ctx.nParams,
    seed: cfg.seed,
    run_id: ctx.runId,
    resumed: ctx.resumed,
    ...(coll.size > 1 ? { ranks: coll.size, comm_seconds: round(coll.commSeconds), comm_calls: coll.calls } : {}),
  };
}
