/**
 * What a training run is made of before its first step: the options, the checked
 * configuration, GPU-resident datasets, model and optimiser (restored on resume), the metrics
 * log, config.json and the progress line. The loop (loop.ts) and its hooks (hooks/) share it
 * through a RunContext.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import { InputError } from '../errors.js';
import type { FashionMnist, Split } from '../data/fashion.js';
import { GpuDataset } from '../data/gpu-dataset.js';
import { resolveAugment, type AugmentConfig } from '../data/augment-params.js';
import { VicregModel, featureSizes, gridWindow } from '../nn/model.js';
import { peakLr, type LrScheduleOptions } from '../optim/schedule.js';
import type { VicregTerms } from '../vicreg/loss.js';
import { singleProcess, type Collective } from '../dist/collective.js';
import { writeFileAtomic } from '../io/file-write.js';
import type { TrainConfig } from './config.js';
import { CHECKPOINT_DIR, removeStaleTemps, type Checkpoint } from './checkpoint.js';
import type { EncoderEval } from './evaluate.js';
import { MetricsLog } from './metrics.js';
import { applyInitWeights, type InitTensor } from '../export/torch.js';
import { Progress, type ProgressStream } from './progress.js';
import { CheckpointedLars, checkResumeConfig, checkResumeIdentity, restore } from './resume.js';

export interface StopFlag {
  requested: boolean;
  signal?: string;
}

export interface TrainOptions {
  outDir: string;
  config: TrainConfig;
  data: FashionMnist;
  gpu: Gpu;
  /** A loaded checkpoint to continue from (its config must equal `config`). */
  resume?: Checkpoint;
  /** The run directory the checkpoint came from (its metrics.jsonl is continued). */
  resumeDir?: string;
  /** Continue a checkpoint even though it belongs to another run than the directory's. */
  forceResume?: boolean;
  /** Encoder weights to start from (--init-from; loadInitWeights), with the file they came from. */
  init?: { weights: Map<string, InitTensor>; source: string };
  stop?: StopFlag;
  /** Checkpoint and return once this many steps are done (tests; simulates an interruption). */
  stopAfterStep?: number;
  /** Evaluate the encoders at the start and end (default: the checkpoint's choice, else true). */
  evaluate?: boolean;
  /** Write features, summary and report (default true). */
  outputs?: boolean;
  stderr?: ProgressStream;
  /** Every loss read back (step index, 0-based, -> terms). */
  onLoss?: (step: number, t: VicregTerms) => void;
  /**
   * Data-parallel ranks (docs/distributed.md; default: this process alone). Every rank calls
   * train() with the same options; rank 0 alone writes the run directory and evaluates.
   */
  collective?: Collective;
}

export interface Summary {
  [k: string]: unknown;
  knn_top1: number | null;
  knn_top1_init: number | null;
  linear_top1: number | null;
  linear_top1_init: number | null;
  epochs: number;
  steps: number;
  seconds: number;
  images_per_sec: number;
  adapter: string;
}

export interface TrainResult {
  status: 'done' | 'interrupted' | 'stopped';
  step: number;
  checkpoint: string | null;
  summary: Summary | null;
}

/** What changes as the run goes (the checkpoint keeps all but `finalEval` and `summary`). */
export interface RunState {
  /** Steps done. */
  step: number;
  /** Seconds spent in training steps (diagnostics, checkpoints and evaluations excluded). */
  trainSeconds: number;
  initEval: { knn: number; linear: number } | null;
  /** The latest terms read back (kept in checkpoints, for the summary of a resumed run). */
  lastTerms: VicregTerms | null;
  finalEval: EncoderEval | null;
  summary: Summary | null;
}

export interface SplitData {
  ds: GpuDataset;
  labels: Uint8Array;
  n: number;
}

/** Everything the loop and its hooks share. */
export interface RunContext {
  options: TrainOptions;
  gpu: Gpu;
  cfg: TrainConfig;
  outDir: string;
  ckDir: string;
  collective: Collective;
  /** Rank 0 of a data-parallel job writes and evaluates; the others only train. */
  lead: boolean;
  runId: string;
  resumed: boolean;
  evaluate: boolean;
  outputs: boolean;
  stop: StopFlag;
  aug: AugmentConfig;
  train: SplitData;
  test: SplitData;
  stepsPerEpoch: number;
  totalSteps: number;
  sched: LrScheduleOptions;
  model: VicregModel;
  optim: CheckpointedLars;
  nParams: number;
  metrics: Pick<MetricsLog, 'write' | 'reset' | 'resumeFrom'>;
  progress: Progress;
  log: (m: string) => void;
  /** Wall seconds of the run, the time before a resume included. */
  elapsed: () => number;
  state: RunState;
}

function limitSplit(s: Split, limit: number, hw: number): Split {
  if (!limit || limit >= s.n) return s;
  return { images: s.images.subarray(0, limit * hw), labels: s.labels.subarray(0, limit), n: limit };
}

/** Checks the options, builds (or restores) the run's state and writes config.json. */
export function openRun(o: TrainOptions): RunContext {
  const t0 = performance.now();
  const { gpu, config: cfg, outDir } = o;
  const savedEvaluate = o.resume?.header.extra?.evaluate;
  const evaluate = o.evaluate ?? (typeof savedEvaluate === 'boolean' ? savedEvaluate : true);
  const coll = o.collective ?? singleProcess;
  const lead = coll.rank === 0;
  const stream = lead ? (o.stderr ?? process.stderr) : { write: () => true };
  const ckDir = join(outDir, CHECKPOINT_DIR);
  if (lead) removeStaleTemps(ckDir);
  if (o.resume) checkResumeIdentity(o.resume, [...new Set([o.resumeDir ?? outDir, outDir])], !!o.forceResume);
  const runId = o.resume?.header.runId ?? randomUUID();

  const { height: H, width: W } = o.data;
  const trainSplit = limitSplit(o.data.train, cfg.trainLimit, H * W);
  const testSplit = limitSplit(o.data.test, cfg.testLimit, H * W);
  const aug = resolveAugment(cfg.augment);
  if (trainSplit.n < 2) throw new InputError('bad-option', `training needs at least 2 images, the training set has ${trainSplit.n}`);
  if (cfg.batchSize > trainSplit.n) {
    throw new InputError('bad-option', `batch size ${cfg.batchSize} is larger than the ${trainSplit.n} training images; use --batch N with 2 <= N <= ${trainSplit.n}`);
  }
  const trainDs = new GpuDataset(gpu, trainSplit, H, W, { seed: cfg.seed, batchSize: cfg.batchSize, augment: cfg.augment });
  const testDs = new GpuDataset(gpu, testSplit, H, W, { seed: cfg.seed, batchSize: Math.min(cfg.batchSize, testSplit.n), augment: cfg.augment });
  const spe = trainDs.stepsPerEpoch;
  const totalSteps = spe * cfg.epochs;
  const sched = { baseLr: cfg.baseLr, batchSize: cfg.batchSize, warmupSteps: Math.round(cfg.warmupEpochs * spe), totalSteps };
  const sizes = featureSizes(cfg.model, aug.size);
  if (sizes.some((s) => s < 1)) throw new InputError('bad-option', `the encoder shrinks a ${aug.size}x${aug.size} input to nothing (sizes ${sizes.join(', ')})`);
  const grid = cfg.model.reprGrid ?? 1;
  if (grid > 1) {
    const h = sizes[sizes.length - 1]!;
    const { k, s } = gridWindow(h, grid);
    if (h < grid || Math.floor((h - k) / s) + 1 !== grid) throw new InputError('bad-option', `reprGrid ${grid} does not tile the encoder's ${h}x${h} output`);
  }

  const model = new VicregModel(gpu, cfg.model, cfg.seed);
  if (o.init && !o.resume) applyInitWeights(model, o.init.weights, o.init.source);
  const params = model.parameters();
  const optim = new CheckpointedLars(gpu, params, { weightDecay: cfg.weightDecay, eta: cfg.larsEta });
  const metrics: RunContext['metrics'] = lead ? new MetricsLog(join(outDir, 'metrics.jsonl')) : { write() {}, reset() {}, resumeFrom() {} };

  const state: RunState = { step: 0, trainSeconds: 0, initEval: null, lastTerms: null, finalEval: null, summary: null };
  let elapsedBefore = 0;
  if (o.resume) {
    checkResumeConfig(o.resume.header.config, cfg);
    if (o.resume.header.step > totalSteps) throw new InputError('bad-file', `checkpoint step ${o.resume.header.step} is past the run's ${totalSteps} steps`);
    restore(gpu, model, optim, o.resume);
    state.step = o.resume.header.step;
    elapsedBefore = o.resume.header.elapsed;
    const extra = o.resume.header.extra ?? {};
    state.trainSeconds = Number(extra.trainSeconds ?? 0);
    state.initEval = (extra.initEval as RunState['initEval']) ?? null;
    state.lastTerms = (extra.lastTerms as VicregTerms | undefined) ?? null;
    optim.steps = o.resume.header.optimizer.steps;
    metrics.resumeFrom(join(o.resumeDir ?? outDir, 'metrics.jsonl'), state.step, state.step === totalSteps);
  } else {
    metrics.reset();
  }

  const nParams = params.reduce((a, p) => a + p.size, 0);
  if (lead) writeFileAtomic(
    join(outDir, 'config.json'),
    JSON.stringify(
      {
        run_id: runId,
        ...cfg,
        init_from: o.init?.source ?? (o.resume?.header.extra?.initFrom as string | undefined) ?? null,
        tuning: gpu.tuning,
        augment: aug,
        derived: {
          steps_per_epoch: spe,
          total_steps: totalSteps,
          warmup_steps: sched.warmupSteps,
          peak_lr: peakLr(cfg.baseLr, cfg.batchSize),
          repr_dim: model.reprDim,
          emb_dim: model.embDim,
          feature_sizes: sizes,
          parameters: nParams,
          train_images: trainSplit.n,
          test_images: testSplit.n,
          ...(coll.size > 1 ? { ranks: coll.size } : {}),
        },
        adapter: gpu.adapterName,
      },
      null,
      2,
    ) + '\n',
  );

  const progress = new Progress(totalSteps, state.step, cfg.epochs, stream);
  const log = (m: string) => progress.log(m);
  log(
    `vicreg-train: ${cfg.preset}, ${trainSplit.n} images, batch ${cfg.batchSize}, ${cfg.epochs} epochs x ${spe} steps, ` +
      `R=${model.reprDim}, E=${model.embDim}, ${(nParams / 1e6).toFixed(2)}M params, ${aug.size}px; adapter ${gpu.adapterName}` +
      (coll.size > 1 ? `; ${coll.size} ranks x ${cfg.batchSize / coll.size}` : '') +
      (o.resume ? `; resuming at step ${state.step}` : ''),
  );

  return {
    options: o,
    gpu,
    cfg,
    outDir,
    ckDir,
    collective: coll,
    lead,
    runId,
    resumed: !!o.resume,
    evaluate,
    outputs: o.outputs ?? true,
    stop: o.stop ?? { requested: false },
    aug,
    train: { ds: trainDs, labels: trainSplit.labels, n: trainSplit.n },
    test: { ds: testDs, labels: testSplit.labels, n: testSplit.n },
    stepsPerEpoch: spe,
    totalSteps,
    sched,
    model,
    optim,
    nParams,
    metrics,
    progress,
    log,
    elapsed: () => elapsedBefore + (performance.now() - t0) / 1000,
    state,
  };
}

/** Releases the run's GPU state (after the hooks have released theirs). */
export function closeRun(ctx: RunContext): void {
  ctx.train.ds.release();
  ctx.test.ds.release();
  ctx.optim.dispose();
  ctx.model.dispose();
}
