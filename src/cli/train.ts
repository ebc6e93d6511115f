/**
 * `npm run train` / `npx vicreg train` (bench/train.ts is an alias of this entry point).
 * The main job: VICReg pre-training of a small conv encoder on Fashion-MNIST, entirely on
 * the GPU, then evaluation of the frozen encoder (kNN and linear probe, trained vs random
 * init). Writes a run directory (docs/RUN-FORMAT.md).
 *
 *   npm run train -- --out DIR [--preset quick|full] [--epochs N] [--seed S] [--resume DIR] [--data DIR]
 *                    [--batch N] [--train-limit N] [--test-limit N] [--no-eval]
 *
 * Errors in the input are one line on stderr (exit 2). SIGINT/SIGTERM finish the current
 * step, checkpoint it and exit 130/143 with the command that resumes; a second signal exits
 * at once (the last checkpoint is never left half-written: writes are atomic).
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../io/file-write.js';
import { MAX_EPOCHS } from '../train/config.js';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs, type ArgSpec } from './args.js';
import { reportError } from './main.js';
import { InputError } from '../errors.js';
import { createGpu } from '../gpu/device.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../data/fashion.js';
import { PRESETS, resolveConfig, type ConfigOverrides, type TrainConfig } from '../train/config.js';
import { CHECKPOINT_DIR, findCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
import { DivergedError, train, type StopFlag } from '../train/loop.js';
import { loadInitWeights } from '../export/torch.js';
import { openCollective, singleProcess, underMpi, type Collective } from '../dist/collective.js';
import { launchRanks, prepareRankEnvironment } from '../dist/launch.js';

const SPEC: ArgSpec = {
  positionals: [],
  options: {
    out: { type: 'string', metavar: 'DIR' },
    preset: { type: 'choice', choices: Object.keys(PRESETS) },
    epochs: { type: 'number', integer: true, min: 1, max: MAX_EPOCHS },
    seed: { type: 'number', integer: true, min: 0 },
    batch: { type: 'number', integer: true, min: 2 },
    resume: { type: 'string', metavar: 'DIR' },
    data: { type: 'string', metavar: 'DIR' },
    'train-limit': { type: 'number', integer: true, min: 1 },
    'test-limit': { type: 'number', integer: true, min: 1 },
    'no-eval': { type: 'boolean' },
    'force-resume': { type: 'boolean' },
    'init-from': { type: 'string', metavar: 'FILE' },
    // Tuning knobs (not in the usage line): --lr BASE, --eta LARS_ETA, --warmup EPOCHS.
    lr: { type: 'number', min: 0, minExclusive: true },
    eta: { type: 'number', min: 0, minExclusive: true },
    warmup: { type: 'number', min: 0 },
    grid: { type: 'number', integer: true, min: 1 },
    // Data-parallel ranks through mpirun (docs/distributed.md).
    ranks: { type: 'number', integer: true, min: 1 },
    help: { type: 'boolean' },
  },
};

const USAGE = `usage: npm run train -- --out DIR [--preset ${Object.keys(PRESETS).join('|')}] [--epochs N] [--seed S] [--batch N]
                      [--resume DIR [--force-resume]] [--init-from FILE] [--data DIR] [--train-limit N] [--test-limit N] [--no-eval]

  --out DIR       run directory (config.json, metrics.jsonl, checkpoint/, features/, summary.json, report.html)
  --preset P      quick (default: about 15 minutes on 2 CPU cores with lavapipe) or full (a GPU)
  --resume DIR    continue from DIR's checkpoint (same configuration); --out defaults to DIR
  --force-resume  continue a checkpoint that belongs to another run than DIR's (config.json's run_id)
  --no-eval       skip the evaluations (kept by --resume)
  --init-from F   start from the encoder weights in F (.safetensors, names as in DIR/encoder.safetensors)
  --data DIR      Fashion-MNIST's four .gz files (default ${FASHION_MNIST_DIR})
  --ranks N       data-parallel training on N processes under Open MPI's mpirun (--batch stays the global batch)`;

function ensureWritable(dir: string): void {
  makeDirs(dir, '--out');
  try {
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new InputError('bad-file', `cannot write to --out ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { options: a } = parseArgs(argv, SPEC);
  const ranks = (a.ranks as number | undefined) ?? 1;
  if (ranks > 1 && !underMpi()) return launchRanks(ranks, process.argv[1]!, argv);
  if (underMpi()) prepareRankEnvironment();
  const stop: StopFlag = { requested: false };
  let firstAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the group and the wrappers (npm, scripts/run.mjs) forward
    // it too: copies within a second are the same request.
    if (stop.requested && Date.now() - firstAt < 1000) return;
    if (stop.requested) {
      process.stderr.write(`\nvicreg-train: ${sig} again: exiting now (the last checkpoint is intact)\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    stop.requested = true;
    stop.signal = sig;
    firstAt = Date.now();
    process.stderr.write(`\nvicreg-train: ${sig}: finishing the current step and checkpointing (send again to exit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // mpirun forwards SIGUSR1 to every rank (the --ranks launcher turns Ctrl-C into it).
  if (underMpi()) process.on('SIGUSR1', () => onSignal('SIGINT'));

  const overrides: ConfigOverrides = {};
  if (a.epochs !== undefined) overrides.epochs = a.epochs as number;
  if (a.seed !== undefined) overrides.seed = a.seed as number;
  if (a.batch !== undefined) overrides.batchSize = a.batch as number;
  if (a.lr !== undefined) overrides.baseLr = a.lr as number;
  if (a.eta !== undefined) overrides.larsEta = a.eta as number;
  if (a.warmup !== undefined) overrides.warmupEpochs = a.warmup as number;
  if (a.grid !== undefined) overrides.model = { ...PRESETS[(a.preset as string) ?? 'quick']!.model, reprGrid: a.grid as number };
  if (a['train-limit'] !== undefined) overrides.trainLimit = a['train-limit'] as number;
  if (a['test-limit'] !== undefined) overrides.testLimit = a['test-limit'] as number;

  let cfg: TrainConfig;
  let out = a.out as string | undefined;
  let resume: ReturnType<typeof loadCheckpoint> | undefined;
  let resumeDir: string | undefined;
  if (a.resume !== undefined) {
    const file = findCheckpoint(resolve(a.resume as string));
    resume = loadCheckpoint(file);
    resumeDir = basename(dirname(file)) === CHECKPOINT_DIR ? dirname(dirname(file)) : dirname(file);
    const saved = resume.header.config as TrainConfig;
    if (!saved || typeof saved !== 'object' || !PRESETS[saved.preset]) throw new InputError('bad-file', `checkpoint ${file}: no usable configuration in its header`);
    // The run's configuration is the checkpoint's; explicit options must agree with it.
    cfg = resolveConfig(saved.preset, saved as ConfigOverrides);
    const given: [string, unknown, unknown][] = [
      ['--preset', a.preset, saved.preset],
      ['--epochs', overrides.epochs, saved.epochs],
      ['--seed', overrides.seed, saved.seed],
      ['--batch', overrides.batchSize, saved.batchSize],
      ['--lr', overrides.baseLr, saved.baseLr],
      ['--eta', overrides.larsEta, saved.larsEta],
      ['--warmup', overrides.warmupEpochs, saved.warmupEpochs],
      ['--train-limit', overrides.trainLimit, saved.trainLimit],
      ['--test-limit', overrides.testLimit, saved.testLimit],
      ['--grid', a.grid, saved.model?.reprGrid ?? 1],
    ];
    for (const [flag, v, s] of given) {
      if (v !== undefined && v !== s) throw new InputError('bad-option', `${flag} ${v} differs from the checkpoint's (${s}); a resumed run keeps its configuration`);
    }
    out ??= resumeDir;
  } else {
    cfg = resolveConfig((a.preset as string) ?? 'quick', overrides);
  }
  if (!out) throw new InputError('bad-option', 'missing --out DIR (the run directory)');
  let init: { weights: ReturnType<typeof loadInitWeights>; source: string } | undefined;
  if (a['init-from'] !== undefined) {
    if (resume) throw new InputError('bad-option', '--init-from starts a new run; a resumed run continues from its checkpoint');
    const file = resolve(a['init-from'] as string);
    init = { weights: loadInitWeights(file), source: file }; // read and checked before any GPU work
  }
  out = resolve(out);
  ensureWritable(out);
  const dataDir = (a.data as string) ?? FASHION_MNIST_DIR;
  if (!existsSync(dataDir)) throw new InputError('bad-file', `data directory not found: ${dataDir} (install dataset-fashion-mnist or pass --data DIR)`);
  const data = loadFashionMnist(dataDir);

  collective = await openCollective();
  if (a.ranks !== undefined && ranks !== collective.size) throw new InputError('bad-option', `--ranks ${ranks} but mpirun started ${collective.size}`);
  const gpu = await createGpu();
  const res = await train({
    collective,
    outDir: out,
    config: cfg,
    data,
    gpu,
    resume,
    resumeDir,
    forceResume: !!a['force-resume'],
    init,
    stop,
    // Unset: a resumed run keeps its checkpoint's choice.
    evaluate: a['no-eval'] ? false : undefined,
  });
  // Every rank waits here until rank 0 has written its checkpoint and outputs (then none is cut short).
  collective.finalize();
  if (res.status !== 'done') {
    const sig = stop.signal ?? 'stop';
    if (collective.rank !== 0) return sig === 'SIGTERM' ? 143 : 130;
    process.stderr.write(
      `vicreg-train: interrupted (${sig}) after step ${res.step}; checkpoint ${res.checkpoint}\n` +
        `vicreg-train: resume with: npm run train -- --resume ${out}\n`,
    );
    return sig === 'SIGTERM' ? 143 : 130;
  }
  if (collective.rank === 0) process.stdout.write(JSON.stringify(res.summary) + '\n');
  return 0;
}

let collective: Collective = singleProcess;

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof DivergedError) {
    process.stderr.write(`vicreg: error: ${e.message}\n`);
    code = 2;
  } else code = reportError(e);
  // A rank that fails exits without MPI_Finalize: mpirun then ends the other ranks.
  if (collective.size > 1) process.stderr.write(`vicreg-train: rank ${collective.rank} of ${collective.size} failed\n`);
}
// Dawn keeps the event loop alive; exit explicitly.
process.exit(code);
