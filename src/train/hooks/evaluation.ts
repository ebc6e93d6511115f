/**
 * kNN and linear-probe accuracy of the frozen encoder (../evaluate.ts): at its random
 * initialisation before training, and trained at the end (with the features and their PCA).
 */
import { join } from 'node:path';
import { VicregModel } from '../../nn/model.js';
import { writeNpy } from '../../io/npy.js';
import { makeDirs } from '../../io/file-write.js';
import { round } from '../diagnostics.js';
import { evaluateEncoder, pcaPoints, type EncoderEval } from '../evaluate.js';
import type { RunContext } from '../run.js';
import type { TrainHook } from './hook.js';

export class EvaluationHook implements TrainHook {
  constructor(private readonly ctx: RunContext) {}

  async onStart(): Promise<void> {
    const { ctx } = this;
    if (ctx.resumed || !ctx.evaluate || !ctx.lead) return;
    ctx.log('evaluating the encoder at its random initialisation ...');
    const ev = await this.run(ctx.model);
    if (!ev) return;
    ctx.state.initEval = { knn: ev.knn, linear: ev.linear };
    ctx.metrics.write({ type: 'eval', epoch: 0, step: 0, knn_top1: round(ev.knn), linear_top1: round(ev.linear), knn_top1_init: round(ev.knn), linear_top1_init: round(ev.linear) });
    ctx.log(`  init: kNN ${(ev.knn * 100).toFixed(2)}%, linear ${(ev.linear * 100).toFixed(2)}% (${ev.seconds.toFixed(0)} s)`);
  }

  async onEnd(): Promise<'interrupted' | void> {
    const { ctx } = this;
    if (!ctx.evaluate) return;
    const { cfg, state, outDir, model } = ctx;
    ctx.log('evaluating the trained encoder ...');
    const final = await this.run(model, ctx.outputs);
    if (!final) return 'interrupted';
    state.finalEval = final;
    if (!state.initEval) {
      // No evaluation at initialisation on record (cut short, or an older checkpoint): the same init, rebuilt.
      const init = new VicregModel(ctx.gpu, cfg.model, cfg.seed, false);
      try {
        const ev = await this.run(init);
        if (!ev) return 'interrupted';
        state.initEval = { knn: ev.knn, linear: ev.linear };
      } finally {
        init.dispose();
      }
    }
    const initEval = state.initEval;
    ctx.metrics.write({
      type: 'eval',
      epoch: cfg.epochs,
      step: state.step,
      knn_top1: round(final.knn),
      linear_top1: round(final.linear),
      knn_top1_init: initEval ? round(initEval.knn) : null,
      linear_top1_init: initEval ? round(initEval.linear) : null,
    });
    if (ctx.outputs && final.train && final.test) {
      makeDirs(join(outDir, 'features'), '--out');
      writeNpy(join(outDir, 'features', 'train_repr.npy'), final.train, [ctx.train.n, model.reprDim]);
      writeNpy(join(outDir, 'features', 'test_repr.npy'), final.test, [ctx.test.n, model.reprDim]);
      ctx.metrics.write({ type: 'pca', epoch: cfg.epochs, points: pcaPoints(final.test, ctx.test.labels, ctx.test.n, model.reprDim) });
    }
    ctx.log(
      `  trained: kNN ${(final.knn * 100).toFixed(2)}% (init ${((initEval?.knn ?? NaN) * 100).toFixed(2)}%), ` +
        `linear ${(final.linear * 100).toFixed(2)}% (init ${((initEval?.linear ?? NaN) * 100).toFixed(2)}%)`,
    );
  }

  private run(model: VicregModel, keepFeatures = false): Promise<EncoderEval | null> {
    const { ctx } = this;
    return evaluateEncoder(ctx.gpu, model, ctx.train, ctx.test, ctx.cfg, { keepFeatures, stop: () => ctx.stop.requested, log: ctx.log });
  }
}
