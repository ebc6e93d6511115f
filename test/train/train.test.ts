/**
 * The training job on a tiny synthetic Fashion-MNIST (idx files in a temp dir) and a tiny
 * net: the loss goes down and the run directory is complete; a resumed run reproduces the
 * uninterrupted run's losses bit for bit; checkpoints are validated (truncation, corruption,
 * magic, config) with one-line errors; the CLI's bad-input contract and SIGTERM handling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testGpu } from '../helpers/gpu.js';
import { synthSplit, writeIdx } from '../fixtures/synth-fashion.js';
import { loadFashionMnist } from '../../src/data/fashion.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { train, checkResumeConfig } from '../../src/train/loop.js';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, removeStaleTemps, findCheckpoint } from '../../src/train/checkpoint.js';
import { readNpy } from '../../src/io/npy.js';
import { loadInitWeights } from '../../src/export/torch.js';
import { InputError } from '../../src/errors.js';
import type { VicregTerms } from '../../src/vicreg/loss.js';

const ROOT = resolve(__dirname, '../..');
let tmp: string;
let dataDir: string;

/** The smoke preset: a tiny net on 16 px views; 320 images at batch 32 = 10 steps per epoch. */
function tinyConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  return resolveConfig('smoke', over);
}

const quiet = { write: () => true, isTTY: false };
const recsOf = (dir: string, type: string): Record<string, unknown>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === type);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vicreg-train-'));
  dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  writeIdx(dataDir, 'train', synthSplit(320, 1));
  writeIdx(dataDir, 't10k', synthSplit(100, 2));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('training run', () => {
  it('the loss goes down; the run directory is complete', async () => {
    const gpu = await testGpu();
    const out = join(tmp, 'run-a');
    const losses: number[] = [];
    const res = await train({
      outDir: out,
      config: tinyConfig({ epochs: 3, baseLr: 16 }),
      data: loadFashionMnist(dataDir),
      gpu,
      stderr: quiet,
      onLoss: (_s, t) => losses.push(t.loss),
    });
    expect(res.status).toBe('done');
    expect(losses).toHaveLength(30);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // LARS moves each weight by ~lr * eta of its norm per step, so 30 steps only start the descent.
    expect(mean(losses.slice(-10)), losses.map((l) => l.toFixed(2)).join(' ')).toBeLessThan(mean(losses.slice(0, 10)) - 0.5);
    const std = recsOf(out, 'epoch').map((r) => r.emb_std_mean as number);
    expect(std[3]).toBeGreaterThan(std[1]!);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const k of ['knn_top1', 'knn_top1_init', 'linear_top1', 'linear_top1_init']) {
      expect(summary[k]).toBeGreaterThanOrEqual(0);
      expect(summary[k]).toBeLessThanOrEqual(1);
    }
    expect(summary.epochs).toBe(3);
    expect(summary.images_per_sec).toBeGreaterThan(0);
    expect(summary.adapter).toBe(gpu.adapterName);
    expect(Number.isFinite(summary.loss)).toBe(true);
    const tr = readNpy(join(out, 'features', 'train_repr.npy'));
    const te = readNpy(join(out, 'features', 'test_repr.npy'));
    expect(tr.shape).toEqual([320, 16]);
    expect(te.shape).toEqual([100, 16]);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
    const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const types = new Set(recs.map((r) => r.type));
    for (const t of ['step', 'epoch', 'std_hist', 'corr', 'eval', 'pca']) expect(types.has(t), t).toBe(true);
    expect(recs.filter((r) => r.type === 'step').map((r) => r.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(recs.filter((r) => r.type === 'corr').map((r) => r.step)).toEqual([0, 30]);
    expect(recs.filter((r) => r.type === 'epoch').map((r) => r.epoch)).toEqual([0, 1, 2, 3]);
    const ck = loadCheckpoint(findCheckpoint(out));
    expect(ck.header.step).toBe(30);
    for (const f of ['encoder.safetensors', 'expander.safetensors', 'encoder.py']) expect(existsSync(join(out, f)), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.tuning).toBe(gpu.tuning);
    expect(summary.tuning).toBe(gpu.tuning);
  });

  it('--init-from: a new run starts from exported encoder weights (checked by name and shape)', async () => {
    const gpu = await testGpu();
    const src = join(tmp, 'run-a', 'encoder.safetensors'); // the run above
    const out = join(tmp, 'run-init');
    const init = { weights: loadInitWeights(src), source: src };
    await train({ outDir: out, config: tinyConfig({ seed: 7 }), data: loadFashionMnist(dataDir), gpu, stderr: quiet, evaluate: false, outputs: false, stopAfterStep: 0, init });
    // The step-0 checkpoint holds the trained run's encoder, not seed 7's initialisation.
    const trained = loadCheckpoint(findCheckpoint(join(tmp, 'run-a')));
    const started = loadCheckpoint(findCheckpoint(out));
    const enc = [...started.tensors.keys()].filter((k) => k.startsWith('encoder.'));
    expect(enc.length).toBeGreaterThan(4);
    for (const k of enc) expect(Array.from(started.tensors.get(k)!.data), k).toEqual(Array.from(trained.tensors.get(k)!.data));
    const other = [...started.tensors.keys()].find((k) => k.startsWith('expander.') && k.endsWith('weight'))!;
    expect(Array.from(started.tensors.get(other)!.data)).not.toEqual(Array.from(trained.tensors.get(other)!.data));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).init_from).toBe(src);
    // Another architecture: one line naming the first mismatch, exit 2.
    const r = spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', '--out', join(tmp, 'run-init-bad'), '--data', dataDir, '--preset', 'quick', '--init-from', src], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/encoder\.safetensors: tensor '0\.conv\.weight' is \[\d+,1,\d,\d\], this model's is \[24,1,5,5\]$/);
  });

  it('a resumed run reproduces the uninterrupted losses bit for bit', async () => {
    const gpu = await testGpu();
    const data = loadFashionMnist(dataDir);
    const cfg = tinyConfig();
    const collect = (into: Map<number, VicregTerms>) => (s: number, t: VicregTerms) => void into.set(s, t);
    const whole = new Map<number, VicregTerms>();
    await train({ outDir: join(tmp, 'run-whole'), config: cfg, data, gpu, stderr: quiet, evaluate: false, outputs: false, stopAfterStep: 14, onLoss: collect(whole) });
    const first = new Map<number, VicregTerms>();
    const dir = join(tmp, 'run-split');
    // k = 7: stops mid-epoch, so the checkpoint is the interruption one, not an epoch one.
    const r1 = await train({ outDir: dir, config: cfg, data, gpu, stderr: quiet, evaluate: false, outputs: false, stopAfterStep: 7, onLoss: collect(first) });
    expect(r1.status).toBe('stopped');
    expect(r1.step).toBe(7);
    const second = new Map<number, VicregTerms>();
    const ck = loadCheckpoint(findCheckpoint(dir));
    expect(ck.header.step).toBe(7);
    await train({ outDir: dir, config: cfg, data, gpu, stderr: quiet, evaluate: false, outputs: false, resume: ck, stopAfterStep: 14, onLoss: collect(second) });
    expect([...first.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([...second.keys()]).toEqual([7, 8, 9, 10, 11, 12, 13]);
    for (const [s, t] of [...first, ...second]) expect(t, `step ${s}`).toEqual(whole.get(s));
    // The continued metrics log has every step once, in order.
    const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.step);
    expect(steps).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  });
});

const header = { step: 3, epoch: 0, elapsed: 1.5, config: { a: 1 }, rng: { seed: 0, kind: 'x' }, optimizer: { kind: 'lars', steps: 3 } };
const bytes = encodeCheckpoint(header, [
  { name: 'w', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  { name: 'b', shape: [2], data: new Float32Array([-1, 0.5]) },
]);

describe('checkpoints', () => {
  const oneLineError = (f: () => unknown, re: RegExp) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  };

  it('round-trips', () => {
    const ck = decodeCheckpoint(bytes, 'x');
    expect(ck.header.step).toBe(3);
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ck.tensors.get('b')!.shape).toEqual([2]);
  });

  it('rejects truncated, corrupt, foreign and mismatched checkpoints with one line', () => {
    for (const cut of [0, 10, 40, bytes.length - 1]) oneLineError(() => decodeCheckpoint(bytes.subarray(0, cut), 'f'), /too short|truncated/);
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 10]! ^= 0x40;
    oneLineError(() => decodeCheckpoint(flipped, 'f'), /checksum/);
    const foreign = Uint8Array.from(bytes);
    foreign[0] = 0x50;
    oneLineError(() => decodeCheckpoint(foreign, 'f'), /magic/);
    oneLineError(() => loadCheckpoint(join(tmp, 'nope.ckpt')), /cannot read/);
    oneLineError(() => findCheckpoint(join(tmp, 'no-such-dir')), /does not exist/);
    oneLineError(() => checkResumeConfig({ ...tinyConfig(), epochs: 9 }, tinyConfig()), /epochs/);
  });

  it('a temp file left by a killed writer leaves the checkpoint readable and is cleaned up', () => {
    const dir = join(tmp, 'atomic');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.ckpt'), bytes);
    writeFileSync(join(dir, '.model.ckpt.tmp-12345'), bytes.subarray(0, 30));
    expect(loadCheckpoint(findCheckpoint(dir)).header.step).toBe(3);
    removeStaleTemps(dir);
    expect(readdirSync(dir)).toEqual(['model.ckpt']);
  });
});

describe('bench/train.ts command line', () => {
  const run = (args: string[]) => spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const expectOneLine = (r: ReturnType<typeof run>, re: RegExp) => {
    expect(r.status).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(r.stderr).not.toMatch(/\s+at /);
  };

  it('bad input: one line on stderr, exit 2', () => {
    expectOneLine(run(['--out', join(tmp, 'x'), '--preset', 'huge']), /--preset must be one of/);
    expectOneLine(run(['--out', join(tmp, 'x'), '--epochs', 'two']), /--epochs needs a finite number/);
    expectOneLine(run(['--out', join(tmp, 'x'), '--epochs', '0']), /--epochs must be >= 1/);
    expectOneLine(run(['--out', join(tmp, 'x'), '--data', join(tmp, 'missing')]), /data directory not found/);
    writeFileSync(join(tmp, 'a-file'), '');
    expectOneLine(run(['--out', join(tmp, 'a-file', 'run'), '--data', dataDir]), /cannot write to --out/);
    const bad = join(tmp, 'bad-ckpt', 'checkpoint');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'model.ckpt'), bytes.subarray(0, bytes.length - 7));
    expectOneLine(run(['--resume', join(tmp, 'bad-ckpt'), '--data', dataDir]), /checkpoint .*truncated/);
  });

  it('SIGTERM checkpoints the current step and says how to resume', async () => {
    const out = join(tmp, 'run-sig');
    const child = spawn(
      process.execPath,
      ['scripts/run.mjs', 'bench/train.ts', '--out', out, '--data', dataDir, '--preset', 'smoke', '--epochs', '50', '--no-eval'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    // Signal once the first step is on record.
    const metrics = join(out, 'metrics.jsonl');
    const t0 = Date.now();
    while (Date.now() - t0 < 120_000) {
      if (existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"type":"step"')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(143);
    expect(stderr).toMatch(/resume with: npm run train -- --resume /);
    const ck = loadCheckpoint(findCheckpoint(out));
    expect(ck.header.step).toBeGreaterThan(0);
  });
});
