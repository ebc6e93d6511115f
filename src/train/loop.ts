/**
 * The VICReg training loop: GPU-resident data (both augmented views built on the GPU), the
 * model forward/backward on a tape, the fused VICReg loss, LARS with warmup + cosine, one
 * submit per step. The loss terms are read back only every `logEvery` steps, through a
 * copy whose read is not awaited in the loop; at most two steps are in flight.
 *
 * Each epoch: collapse diagnostics on a fixed batch and an atomic checkpoint. At the end:
 * evaluation of the frozen encoder (and of its random initialisation), features, summary,
 * report. Everything that feeds a step is a pure function of (seed, step) plus the
 * checkpointed state, so a resumed run computes bit-identical losses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import type { FashionMnist, Split } from '../data/fashion.js';
import { GpuDataset } from '../data/gpu-dataset.js';
import { resolveAugment } from '../data/augment-params.js';
import { VicregModel, featureSizes, gridWindow } from '../nn/model.js';
import { Lars } from '../optim/lars.js';
import { learningRate, peakLr } from '../optim/schedule.js';
import type { VicregTerms } from '../vicreg/loss.js';
import { TrainStep } from './step.js';
import { singleProcess, type Collective } from '../dist/collective.js';
import { writeNpy } from '../io/npy.js';
import { makeDirs, writeFileAtomic } from '../io/file-write.js';
import { writeReport } from '../report/index.js';
import { trainingIdentity, type TrainConfig } from './config.js';
import { CHECKPOINT_DIR, removeStaleTemps, saveCheckpoint, type Checkpoint, type NamedArray } from './checkpoint.js';
import { correlationMatrix, diagnose, round } from './diagnostics.js';
import { evaluateEncoder, pcaPoints } from './evaluate.js';
import { MetricsLog } from './metrics.js';
import { RunLock } from './run-lock.js';
import { applyInitWeights, exportRun, type InitTensor } from '../export/torch.js';
import { Progress, formatDuration, type ProgressStream } from './progress.js';

/** LARS with access to its momentum buffers (checkpointing). */
export class CheckpointedLars extends Lars {
  /** The momentum buffer of `p` (zeros until the first step, exactly as a fresh one). */
  momentumOf(p: Tensor): Tensor {
    return this.stateOf(p, 1)[0]!;
  }
}

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

export class DivergedError extends Error {
  override name = 'DivergedError';
}

/** The run id in DIR/config.json: a string, null for an older run without one, undefined without a config. */
function runIdIn(dir: string): string | null | undefined {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  try {
    const id = (JSON.parse(readFileSync(file, 'utf8')) as { run_id?: unknown }).run_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return undefined; // unreadable: it cannot tell us whose directory this is
  }
}

/** Refuses a checkpoint that belongs to another run than the directories it is resumed in. */
export function checkResumeIdentity(ck: Checkpoint, dirs: string[], force: boolean): void {
  const ckId = ck.header.runId ?? null;
  for (const dir of dirs) {
    const id = runIdIn(dir);
    if (id === undefined || id === ckId || force) continue;
    const seed = (ck.header.config as { seed?: unknown })?.seed;
    throw new InputError(
      'bad-file',
      `the checkpoint belongs to run ${ckId ?? '(unnamed, older version)'} (seed ${seed}, step ${ck.header.step}), not to the run in ${dir} (${id ?? 'unnamed'}); ` +
        'pass --force-resume to continue it there anyway',
    );
  }
}

function limitSplit(s: Split, limit: number, hw: number): Split {
  if (!limit || limit >= s.n) return s;
  return { images: s.images.subarray(0, limit * hw), labels: s.labels.subarray(0, limit), n: limit };
}

/** Restores parameters, running statistics and momentum buffers from a checkpoint. */
function restore(gpu: Gpu, model: VicregModel, optim: CheckpointedLars, ck: Checkpoint): void {
  const want = [...model.named().map((n) => ({ name: n.name, t: n.t })), ...model.parameters().map((p, i) => ({ name: `optim.${i}.momentum`, t: optim.momentumOf(p) }))];
  if (ck.tensors.size !== want.length) throw new InputError('bad-file', `checkpoint holds ${ck.tensors.size} tensors, this model has ${want.length}`);
  for (const { name, t } of want) {
    const a = ck.tensors.get(name);
    if (!a) throw new InputError('bad-file', `checkpoint has no tensor '${name}'`);
    if (a.shape.join('x') !== t.shape.join('x')) throw new InputError('bad-file', `checkpoint tensor '${name}' is [${a.shape}], the model's is [${t.shape}]`);
  }
  for (const { name, t } of want) gpu.upload(t.buffer, ck.tensors.get(name)!.data);
}

async function snapshot(model: VicregModel, optim: CheckpointedLars): Promise<NamedArray[]> {
  const list = [...model.named().map((n) => ({ name: n.name, t: n.t })), ...model.parameters().map((p, i) => ({ name: `optim.${i}.momentum`, t: optim.momentumOf(p) }))];
  const out: NamedArray[] = [];
  for (const { name, t } of list) out.push({ name, shape: [...t.shape], data: await t.read() });
  return out;
}

/** First differing key between two JSON-able values (for a one-line mismatch message). */
function firstDiff(a: unknown, b: unknown, path = ''): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b as object)])) {
      const d = firstDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  return `${path || 'config'} (checkpoint ${JSON.stringify(a)}, this run ${JSON.stringify(b)})`;
}

export function checkResumeConfig(ckConfig: unknown, cfg: TrainConfig): void {
  const d = firstDiff(trainingIdentity(ckConfig as TrainConfig), trainingIdentity(cfg));
  if (d) throw new InputError('bad-file', `checkpoint does not match this run's configuration: ${d}`);
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
  const t0 = performance.now();
  const { gpu, config: cfg, outDir } = o;
  const savedEvaluate = o.resume?.header.extra?.evaluate;
  const evaluate = o.evaluate ?? (typeof savedEvaluate === 'boolean' ? savedEvaluate : true);
  const outputs = o.outputs ?? true;
  const stop = o.stop ?? { requested: false };
  const coll = o.collective ?? singleProcess;
  // Rank 0 of a data-parallel job writes and evaluates; the others only train.
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
  const metrics: Pick<MetricsLog, 'write' | 'reset' | 'resumeFrom'> = lead ? new MetricsLog(join(outDir, 'metrics.jsonl')) : { write() {}, reset() {}, resumeFrom() {} };

  let step = 0;
  let elapsedBefore = 0;
  let trainSeconds = 0;
  let initEval: { knn: number; linear: number } | null = null;
  // The latest terms read back (kept in checkpoints, for the summary of a resumed run).
  const lastTermsRef: { value: VicregTerms | null } = { value: null };
  if (o.resume) {
    checkResumeConfig(o.resume.header.config, cfg);
    if (o.resume.header.step > totalSteps) throw new InputError('bad-file', `checkpoint step ${o.resume.header.step} is past the run's ${totalSteps} steps`);
    restore(gpu, model, optim, o.resume);
    step = o.resume.header.step;
    elapsedBefore = o.resume.header.elapsed;
    const extra = o.resume.header.extra ?? {};
    trainSeconds = Number(extra.trainSeconds ?? 0);
    initEval = (extra.initEval as typeof initEval) ?? null;
    lastTermsRef.value = (extra.lastTerms as VicregTerms | undefined) ?? null;
    optim.steps = o.resume.header.optimizer.steps;
    metrics.resumeFrom(join(o.resumeDir ?? outDir, 'metrics.jsonl'), step, step === totalSteps);
  } else {
    metrics.reset();
  }
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;

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

  const progress = new Progress(totalSteps, step, cfg.epochs, stream);
  const log = (m: string) => progress.log(m);
  log(
    `vicreg-train: ${cfg.preset}, ${trainSplit.n} images, batch ${cfg.batchSize}, ${cfg.epochs} epochs x ${spe} steps, ` +
      `R=${model.reprDim}, E=${model.embDim}, ${(nParams / 1e6).toFixed(2)}M params, ${aug.size}px; adapter ${gpu.adapterName}` +
      (coll.size > 1 ? `; ${coll.size} ranks x ${cfg.batchSize / coll.size}` : '') +
      (o.resume ? `; resuming at step ${step}` : ''),
  );

  // Fixed diagnostics batch: evenly spaced training images, un-augmented.
  const nDiag = Math.min(cfg.diagBatch, trainSplit.n);
  const diagX = trainDs.evalIndices(Uint32Array.from({ length: nDiag }, (_, i) => Math.floor((i * trainSplit.n) / nDiag)));
  const diagnostics = async (epoch: number, s: number, withCorr: boolean): Promise<void> => {
    if (!lead) return;
    const r = model.encode(null, diagX, false);
    const z = model.expand(null, r, false);
    const [rh, zh] = [await r.read(), await z.read()];
    r.release();
    z.release();
    const d = diagnose(zh, rh, nDiag, model.embDim, model.reprDim);
    const { std, ...nums } = d;
    metrics.write({ type: 'epoch', epoch, step: s, ...nums, repr_dim: model.reprDim, emb_dim: model.embDim });
    metrics.write({ type: 'std_hist', epoch, step: s, std });
    if (withCorr) {
      const dim = Math.min(64, model.embDim);
      metrics.write({ type: 'corr', epoch, step: s, dim, matrix: correlationMatrix(zh, nDiag, model.embDim, dim) });
    }
    log(`  epoch ${epoch}: emb std mean ${d.emb_std_mean}, below gamma ${(d.emb_std_frac_below_gamma * 100).toFixed(0)}%, effective rank ${d.effective_rank.toFixed(1)}/${model.reprDim}`);
  };

  const evalSets = { train: { ds: trainDs, labels: trainSplit.labels, n: trainSplit.n }, test: { ds: testDs, labels: testSplit.labels, n: testSplit.n } };
  const stopped = () => stop.requested;
  let lastCkptStep = o.resume ? step : -1;
  let lastCkptFile: string | null = o.resume ? join(ckDir, 'model.ckpt') : null;
  const checkpoint = async (s: number): Promise<string> => {
    if (!lead) return join(ckDir, 'model.ckpt'); // rank 0's; every rank holds the same state
    const tensors = await snapshot(model, optim);
    const file = await saveCheckpoint(
      outDir,
      {
        step: s,
        epoch: Math.floor(s / spe),
        elapsed: elapsed(),
        config: cfg,
        runId,
        rng: { seed: cfg.seed, kind: 'counter-based pcg4d of (seed, step, slot, view); epoch permutation of (seed, epoch)' },
        optimizer: { kind: 'lars', steps: optim.steps },
        extra: {
          trainSeconds,
          initEval,
          adapter: gpu.adapterName,
          lastTerms: lastTermsRef.value,
          evaluate,
          initFrom: o.init?.source ?? o.resume?.header.extra?.initFrom ?? null,
          ...(coll.size > 1 ? { ranks: coll.size } : {}),
        },
      },
      tensors,
    );
    lastCkptStep = s;
    lastCkptFile = file;
    return file;
  };

  const cleanup = () => {
    diagX.release();
    trainDs.release();
    testDs.release();
    optim.dispose();
    model.dispose();
  };

  try {
    if (!o.resume) {
      await diagnostics(0, 0, true);
      if (evaluate && lead) {
        log('evaluating the encoder at its random initialisation ...');
        const ev = await evaluateEncoder(gpu, model, evalSets.train, evalSets.test, cfg, { stop: stopped, log });
        if (ev) {
          initEval = { knn: ev.knn, linear: ev.linear };
          metrics.write({ type: 'eval', epoch: 0, step: 0, knn_top1: round(ev.knn), linear_top1: round(ev.linear), knn_top1_init: round(ev.knn), linear_top1_init: round(ev.linear) });
          log(`  init: kNN ${(ev.knn * 100).toFixed(2)}%, linear ${(ev.linear * 100).toFixed(2)}% (${ev.seconds.toFixed(0)} s)`);
        }
      }
    }

    // ------------------------------------------------------------ the hot loop
    const lossOpts = { lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, convention: 'official' as const };
    const trainStep = new TrainStep(gpu, model, optim, trainDs, lossOpts, coll);
    // Data-parallel: every rank stops at the same step, on the vote carried by the gradient all-reduce.
    let agreedStop = false;
    // Set by a read-back callback (divergence, or a metrics write that failed); the loop stops on it.
    let failure: Error | null = null;
    const reads: Promise<void>[] = [];
    let prevDone: Promise<void> | null = null;
    let window = { time: performance.now(), step };
    let ips = 0;
    let trainT = performance.now();
    const drain = async () => {
      await Promise.all(reads.splice(0));
      if (prevDone) await prevDone;
      prevDone = null;
      if (failure) throw failure;
    };
    const pauseClock = () => {
      trainSeconds += (performance.now() - trainT) / 1000;
    };
    const resumeClock = () => {
      trainT = performance.now();
      window = { time: performance.now(), step };
    };

    while (step < totalSteps) {
      if (coll.size > 1 ? agreedStop || (o.stopAfterStep !== undefined && step >= o.stopAfterStep) : stop.requested || (o.stopAfterStep !== undefined && step >= o.stopAfterStep) || failure) break;
      const s = step;
      const lr = learningRate(s, sched);
      const wantRead = (s + 1) % cfg.logEvery === 0 || s === totalSteps - 1 || !!o.onLoss;
      let copy: Tensor | null;
      if (coll.size > 1) {
        const r = await trainStep.runSynced(s, lr, wantRead, stop.requested || !!failure);
        copy = r.terms;
        agreedStop = r.stop;
      } else copy = trainStep.run(s, lr, wantRead);
      if (copy) {
        const c = copy;
        const epoch = trainDs.epochOf(s);
        reads.push(
          c.read().then((t) => {
            try {
              c.release();
              if (t[4] !== 0 || !t.slice(0, 4).every(Number.isFinite)) {
                failure ??= new DivergedError(
                  `training diverged: the loss is not finite at step ${s + 1}. Training is deterministic, so resuming would diverge again at the same step: ` +
                    `start a new run with a lower learning rate (--lr below ${cfg.baseLr}) or LARS eta (--eta below ${cfg.larsEta})`,
                );
                return;
              }
              const terms = { loss: t[0]!, invariance: t[1]!, variance: t[2]!, covariance: t[3]! };
              lastTermsRef.value = terms;
              o.onLoss?.(s, terms);
              const now = performance.now();
              if (s + 1 > window.step && now > window.time) ips = ((s + 1 - window.step) * cfg.batchSize) / ((now - window.time) / 1000);
              window = { time: now, step: s + 1 };
              if ((s + 1) % cfg.logEvery === 0 || s === totalSteps - 1) {
                metrics.write({
                  type: 'step',
                  step: s + 1,
                  epoch: epoch + 1,
                  loss: round(terms.loss, 6),
                  invariance: round(terms.invariance, 6),
                  variance: round(terms.variance, 6),
                  covariance: round(terms.covariance, 6),
                  lr: round(lr, 6),
                  images_per_sec: round(ips, 4),
                  time: round(elapsed(), 6),
                });
              }
              progress.update({ step: s + 1, epoch, imagesPerSec: ips, lr, terms });
            } catch (e) {
              failure ??= e as Error; // a failed metrics write: stop the loop with it
            }
          }),
        );
      }
      // At most two steps in flight: wait for the one before this.
      const done = gpu.sync();
      if (prevDone) await prevDone;
      prevDone = done;
      step = s + 1;
      if (step % spe === 0) {
        await drain();
        pauseClock();
        const epoch = step / spe;
        await diagnostics(epoch, step, step === totalSteps);
        await checkpoint(step);
        resumeClock();
      }
    }
    await drain();
    trainStep.release();
    if (step % spe !== 0) pauseClock();

    if (step < totalSteps) {
      // Interrupted (signal) or stopped early (tests): keep the state of the last finished step.
      const file = lastCkptStep === step ? lastCkptFile! : await checkpoint(step);
      progress.finish();
      return { status: stop.requested || agreedStop ? 'interrupted' : 'stopped', step, checkpoint: file, summary: null };
    }
    if (!lead) {
      progress.finish();
      return { status: 'done', step, checkpoint: join(ckDir, 'model.ckpt'), summary: null };
    }
    if (lastCkptStep !== step) await checkpoint(step);
    // The trained encoder and expander for PyTorch (docs/pytorch.md), from that checkpoint.
    if (outputs) await exportRun(outDir);
    if (o.resume && o.resume.header.step === totalSteps) {
      // Resumed after training finished: write the end-of-run records again.
      await diagnostics(cfg.epochs, step, true);
    }
    progress.finish();

    // ------------------------------------------------------------ evaluation
    let final: Awaited<ReturnType<typeof evaluateEncoder>> = null;
    if (evaluate) {
      log('evaluating the trained encoder ...');
      final = await evaluateEncoder(gpu, model, evalSets.train, evalSets.test, cfg, { keepFeatures: outputs, stop: stopped, log });
      if (!final) return { status: 'interrupted', step, checkpoint: lastCkptFile, summary: null };
      if (!initEval) {
        const init = new VicregModel(gpu, cfg.model, cfg.seed, false);
        try {
          const ev = await evaluateEncoder(gpu, init, evalSets.train, evalSets.test, cfg, { stop: stopped, log });
          if (!ev) return { status: 'interrupted', step, checkpoint: lastCkptFile, summary: null };
          initEval = { knn: ev.knn, linear: ev.linear };
        } finally {
          init.dispose();
        }
      }
      metrics.write({
        type: 'eval',
        epoch: cfg.epochs,
        step,
        knn_top1: round(final.knn),
        linear_top1: round(final.linear),
        knn_top1_init: initEval ? round(initEval.knn) : null,
        linear_top1_init: initEval ? round(initEval.linear) : null,
      });
      if (outputs && final.train && final.test) {
        makeDirs(join(outDir, 'features'), '--out');
        writeNpy(join(outDir, 'features', 'train_repr.npy'), final.train, [trainSplit.n, model.reprDim]);
        writeNpy(join(outDir, 'features', 'test_repr.npy'), final.test, [testSplit.n, model.reprDim]);
        metrics.write({ type: 'pca', epoch: cfg.epochs, points: pcaPoints(final.test, testSplit.labels, testSplit.n, model.reprDim) });
      }
      log(
        `  trained: kNN ${(final.knn * 100).toFixed(2)}% (init ${((initEval?.knn ?? NaN) * 100).toFixed(2)}%), ` +
          `linear ${(final.linear * 100).toFixed(2)}% (init ${((initEval?.linear ?? NaN) * 100).toFixed(2)}%)`,
      );
    }
    const t = lastTermsRef.value;
    const summary: Summary = {
      knn_top1: final ? round(final.knn) : null,
      knn_top1_init: initEval ? round(initEval.knn) : null,
      linear_top1: final ? round(final.linear) : null,
      linear_top1_init: initEval ? round(initEval.linear) : null,
      epochs: cfg.epochs,
      steps: totalSteps,
      seconds: round(elapsed()),
      train_seconds: round(trainSeconds),
      // Process CPU time (lavapipe's threads included): a contention-free measure of the work.
      cpu_seconds: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6),
      images_per_sec: round((totalSteps * cfg.batchSize) / Math.max(trainSeconds, 1e-9)),
      adapter: gpu.adapterName,
      tuning: gpu.tuning,
      loss: t ? round(t.loss, 6) : null,
      invariance: t ? round(t.invariance, 6) : null,
      variance: t ? round(t.variance, 6) : null,
      covariance: t ? round(t.covariance, 6) : null,
      preset: cfg.preset,
      batch_size: cfg.batchSize,
      image_size: aug.size,
      repr_dim: model.reprDim,
      emb_dim: model.embDim,
      parameters: nParams,
      seed: cfg.seed,
      run_id: runId,
      resumed: !!o.resume,
      ...(coll.size > 1 ? { ranks: coll.size, comm_seconds: round(coll.commSeconds), comm_calls: coll.calls } : {}),
    };
    if (outputs) {
      writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      // The report is a view of files already written: a failure to build it (no esbuild, e.g. in a
      // self-contained bundle on a bare machine) must not fail a finished run.
      try {
        await writeReport(outDir);
      } catch (e) {
        if (e instanceof InputError && e.code === 'write-failed') throw e;
        log(`report not written (${(e as Error).message.split('\n')[0]}); retry with: npm run vicreg -- report ${outDir}`);
      }
    }
    log(`done in ${formatDuration(elapsed())} (${summary.images_per_sec} img/s training); run directory ${outDir}`);
    return { status: 'done', step, checkpoint: lastCkptFile, summary };
  } finally {
    progress.finish();
    cleanup();
  }
}
