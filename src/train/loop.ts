/**
 * The VICReg training loop: GPU-resident data (both augmented views built on the GPU), the
 * model forward/backward on a tape, the fused VICReg loss, LARS with warmup + cosine, one
 * submit per step. The loss terms are read back only every `logEvery` steps, through a
 * copy whose read is not awaited in the loop; one step in flight on a software adapter, two on a
 * GPU (stepsInFlight).
 *
 * Everything around the steps is a hook (hooks/): collapse diagnostics and an atomic
 * checkpoint each epoch, metrics and progress at each read-back, evaluation of the frozen
 * encoder (and of its random initialisation), features, summary and report. Everything that
 * feeds a step is a pure function of (seed, step) plus the checkpointed state, so a resumed
 * run computes bit-identical losses.
 */
import { join } from 'node:path';
import type { Tensor } from '../tensor.js';
import { makeDirs } from '../io/file-write.js';
import { learningRate } from '../optim/schedule.js';
import { TrainStep, stepsInFlight } from './step.js';
import { CHECKPOINT_DIR } from './checkpoint.js';
import { RunLock } from './run-lock.js';
import { closeRun, openRun, type RunContext, type TrainOptions, type TrainResult } from './run.js';
import type { StepLog, TrainHook } from './hooks/hook.js';
import { CheckpointHook } from './hooks/checkpoint.js';
import { DiagnosticsHook } from './hooks/diagnostics.js';
import { MetricsHook } from './hooks/metrics.js';
import { ProgressHook } from './hooks/progress.js';
import { EvaluationHook } from './hooks/evaluation.js';
import { ReportHook } from './hooks/report.js';

export { CheckpointedLars, checkResumeConfig, checkResumeIdentity } from './resume.js';
export type { StopFlag, Summary, TrainOptions, TrainResult } from './run.js';

export class DivergedError extends Error {
  override name = 'DivergedError';
}

/** Trains into `o.outDir`, which it owns for the duration (run-lock.ts). */
export async function train(o: TrainOptions): Promise<TrainResult> {
  if ((o.collective?.rank ?? 0) !== 0) return trainLocked(o); // rank 0 owns the directory
  makeDirs(join(o.outDir, CHECKPOINT_DIR), '--out');
  const lock = RunLock.acquire(o.outDir);
  try {
    return await trainLocked(o);
  } finally {
    lock.release();
  }
}

async function trainLocked(o: TrainOptions): Promise<TrainResult> {
  const ctx = openRun(o);
  const { state, stop } = ctx;
  // List order is the order of each event's outputs (diagnostics before the epoch's checkpoint).
  const ckpt = new CheckpointHook(ctx);
  const hooks: TrainHook[] = [new DiagnosticsHook(ctx), ckpt, new MetricsHook(ctx), new ProgressHook(ctx), new EvaluationHook(ctx), new ReportHook(ctx)];
  try {
    for (const h of hooks) await h.onStart?.();
    const { agreedStop } = await runSteps(ctx, hooks);
    if (state.step < ctx.totalSteps) {
      // Interrupted (signal) or stopped early (tests): keep the state of the last finished step.
      const file = await ckpt.current();
      ctx.progress.finish();
      return { status: stop.requested || agreedStop ? 'interrupted' : 'stopped', step: state.step, checkpoint: file, summary: null };
    }
    if (!ctx.lead) return { status: 'done', step: state.step, checkpoint: join(ctx.ckDir, 'model.ckpt'), summary: null };
    for (const h of hooks) {
      if ((await h.onEnd?.()) === 'interrupted') return { status: 'interrupted', step: state.step, checkpoint: ckpt.lastFile, summary: null };
    }
    return { status: 'done', step: state.step, checkpoint: ckpt.lastFile, summary: state.summary };
  } finally {
    for (const h of hooks) h.dispose?.();
    closeRun(ctx);
  }
}

/** The steps, until the last or a stop; `agreedStop` when the ranks' vote stopped them. */
async function runSteps(ctx: RunContext, hooks: TrainHook[]): Promise<{ agreedStop: boolean }> {
  const { gpu, cfg, state, stop, totalSteps, options: o, collective: coll } = ctx;
  const trainStep = new TrainStep(gpu, ctx.model, ctx.optim, ctx.train.ds, { lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, convention: 'official' }, coll);
  // Data-parallel: every rank stops at the same step, on the vote carried by the gradient all-reduce.
  let agreedStop = false;
  // Set by a read-back callback (divergence, or a hook that failed); the loop stops on it.
  let failure: Error | null = null;
  const reads: Promise<void>[] = [];
  // The syncs of the steps in flight, oldest first (at most stepsInFlight).
  const syncs: Promise<void>[] = [];
  const inFlight = stepsInFlight(gpu);
  // Throughput between read-backs, and the training clock (paused at epoch ends).
  let window = { time: performance.now(), step: state.step };
  let ips = 0;
  let trainT = performance.now();
  const drain = async () => {
    await Promise.all(reads.splice(0));
    await Promise.all(syncs.splice(0));
    if (failure) throw failure;
  };
  const pauseClock = () => {
    state.trainSeconds += (performance.now() - trainT) / 1000;
  };
  const onRead = (s: number, lr: number, t: Float32Array) => {
    if (t[4] !== 0 || !t.slice(0, 4).every(Number.isFinite)) {
      failure ??= new DivergedError(
        `training diverged: the loss is not finite at step ${s + 1}. Training is deterministic, so resuming would diverge again at the same step: ` +
          `start a new run with a lower learning rate (--lr below ${cfg.baseLr}) or LARS eta (--eta below ${cfg.larsEta})`,
      );
      return;
    }
    const terms = { loss: t[0]!, invariance: t[1]!, variance: t[2]!, covariance: t[3]! };
    state.lastTerms = terms;
    o.onLoss?.(s, terms);
    const now = performance.now();
    if (s + 1 > window.step && now > window.time) ips = ((s + 1 - window.step) * cfg.batchSize) / ((now - window.time) / 1000);
    window = { time: now, step: s + 1 };
    const l: StepLog = { step: s + 1, epoch: ctx.train.ds.epochOf(s), lr, terms, imagesPerSec: ips };
    for (const h of hooks) h.onLog?.(l);
  };

  while (state.step < totalSteps) {
    const stopAfter = o.stopAfterStep !== undefined && state.step >= o.stopAfterStep;
    if (coll.size > 1 ? agreedStop || stopAfter : stop.requested || stopAfter || failure) break;
    const s = state.step;
    const lr = learningRate(s, ctx.sched);
    const wantRead = (s + 1) % cfg.logEvery === 0 || s === totalSteps - 1 || !!o.onLoss;
    let copy: Tensor | null;
    if (coll.size > 1) {
      const r = await trainStep.runSynced(s, lr, wantRead, stop.requested || !!failure);
      copy = r.terms;
      agreedStop = r.stop;
    } else copy = trainStep.run(s, lr, wantRead);
    if (copy) {
      const c = copy;
      reads.push(
        c.read().then((t) => {
          try {
            c.release();
            onRead(s, lr, t);
          } catch (e) {
            failure ??= e as Error; // a failed metrics write: stop the loop with it
          }
        }),
      );
    }
    // stepsInFlight: wait for this step (one in flight) or the one before it (two).
    syncs.push(gpu.sync());
    if (syncs.length >= inFlight) await syncs.shift();
    state.step = s + 1;
    if (state.step % ctx.stepsPerEpoch === 0) {
      await drain();
      pauseClock();
      for (const h of hooks) await h.onEpoch?.(state.step / ctx.stepsPerEpoch);
      trainT = performance.now();
      window = { time: performance.now(), step: state.step };
    }
  }
  await drain();
  trainStep.release();
  if (state.step % ctx.stepsPerEpoch !== 0) pauseClock();
  return { agreedStop };
}
