/**
 * Data-parallel training on Open MPI (docs/distributed.md): a rank's shard is exactly those
 * slots of the single-process batch; 2 ranks x half the batch reproduce the per-step losses
 * and the weights of 1 rank at the same global batch (smoke net, synthetic data) to fp32
 * tolerance; a rank killed mid-run ends the job within seconds with one line and a loadable
 * checkpoint, which --resume continues with the same N. The MPI tests need mpirun
 * (scripts/setup.sh installs it) and are skipped with a message without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testGpu } from '../helpers/gpu.js';
import { synthSplit, writeIdx } from '../fixtures/synth-fashion.js';
import { loadFashionMnist } from '../../src/data/fashion.js';
import { GpuDataset } from '../../src/data/gpu-dataset.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { mpirunArgs, mpirunAvailable, summarizeBanner } from '../../src/dist/launch.js';
import { shardOf } from '../../src/dist/data-parallel.js';
import type { VicregTerms } from '../../src/vicreg/loss.js';

const ROOT = resolve(__dirname, '../..');
const HAVE_MPI = mpirunAvailable();
if (!HAVE_MPI) console.warn('test/dist: mpirun not found: skipping the multi-process tests (scripts/setup.sh installs openmpi-bin)');
let tmp: string;
let dataDir: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vicreg-dist-'));
  dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  // 320 images at batch 32: 10 steps per epoch.
  writeIdx(dataDir, 'train', synthSplit(320, 1));
  writeIdx(dataDir, 't10k', synthSplit(100, 2));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 480_000): Promise<{ code: number | null; stderr: string; stdout: string; ms: number }> {
  return new Promise((res) => {
    const t = Date.now();
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stderr, stdout, ms: Date.now() - t });
    });
  });
}

describe('shards', () => {
  it("a rank's shard is the same images with the same augmentation draws as those slots of the whole batch", async () => {
    const gpu = await testGpu();
    const data = loadFashionMnist(dataDir);
    const ds = new GpuDataset(gpu, data.train, 28, 28, { seed: 3, batchSize: 32, augment: resolveConfig('smoke').augment });
    const full = ds.batch(13);
    const [f1, f2] = [await full.view1.read(), await full.view2.read()];
    const per = f1.length / 32;
    for (const r of [0, 1, 3]) {
      const sh = shardOf(32, r, 4);
      const part = ds.batch(13, sh);
      expect([...part.indices]).toEqual([...full.indices.slice(sh.lo, sh.hi)]);
      expect(await part.view1.read()).toEqual(f1.slice(sh.lo * per, sh.hi * per));
      expect(await part.view2.read()).toEqual(f2.slice(sh.lo * per, sh.hi * per));
      part.view1.release();
      part.view2.release();
    }
    full.view1.release();
    full.view2.release();
    ds.release();
    expect(() => shardOf(30, 0, 4)).toThrow(/multiple of the 4 ranks/);
  });

  it("mpirun's failure banners become one line", () => {
    expect(summarizeBanner('mpirun noticed that process rank 1 with PID 123 on node vm exited on signal 9 (Killed).')).toBe('rank 1 was killed by signal 9 (Killed)');
    expect(summarizeBanner('  Process name: [[5981,1],1]\n  Exit code:    2')).toBe('rank 1 exited with code 2');
  });
});

describe.skipIf(!HAVE_MPI)('2 ranks under mpirun', () => {
  it('2 ranks x half the batch give the per-step losses and weights of 1 rank at the same global batch', async () => {
    const epochs = 2;
    const batch = 32;
    // Reference: this process alone, the whole batch.
    const gpu = await testGpu();
    const one = join(tmp, 'one');
    const ref: VicregTerms[] = [];
    await train({
      outDir: one,
      config: resolveConfig('smoke', { epochs, batchSize: batch }),
      data: loadFashionMnist(dataDir),
      gpu,
      evaluate: false,
      outputs: false,
      stderr: { write: () => true },
      onLoss: (s, t) => (ref[s] = t),
    });
    expect(ref).toHaveLength(20);

    const two = join(tmp, 'two');
    mkdirSync(two);
    const r = await run('mpirun', [...mpirunArgs(2), process.execPath, 'scripts/run.mjs', 'test/dist/rank-main.ts', two, dataDir, String(epochs), String(batch)]);
    expect(r.code, r.stderr).toBe(0);
    const ranks = [0, 1].map((k) => JSON.parse(readFileSync(join(two, `losses.rank${k}.json`), 'utf8')) as { ranks: number; losses: VicregTerms[]; calls: number });
    expect(ranks[0]!.ranks).toBe(2);
    // Every rank evaluates the same global loss: bit-identical on both.
    expect(ranks[1]!.losses).toEqual(ranks[0]!.losses);
    const got = ranks[0]!.losses;
    expect(got).toHaveLength(20);
    for (let s = 0; s < 20; s++) {
      for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) {
        // fp32: the two runs sum in different orders (per-rank partial sums, all-reduce).
        expect(Math.abs(got[s]![k] - ref[s]![k]), `step ${s} ${k}: ${got[s]![k]} vs ${ref[s]![k]}`).toBeLessThanOrEqual(2e-5 * Math.abs(ref[s]![k]) + 1e-6);
      }
    }
    // The weights after 20 LARS steps (rank 0's checkpoint against the reference's).
    const a = loadCheckpoint(join(one, 'checkpoint', 'model.ckpt'));
    const b = loadCheckpoint(join(two, 'checkpoint', 'model.ckpt'));
    expect(b.header.step).toBe(20);
    expect(b.header.extra?.ranks).toBe(2);
    for (const [name, t] of a.tensors) {
      const u = b.tensors.get(name)!.data;
      let num = 0;
      let den = 0;
      t.data.forEach((v, i) => {
        num += (v - u[i]!) ** 2;
        den += v * v;
      });
      // RMS difference against the RMS value; the floor is for the biases whose gradient is 0
      // in exact arithmetic (a linear bias before BN, the last bias: VICReg ignores shifts).
      const n = t.data.length;
      expect(Math.sqrt(num / n), name).toBeLessThan(1e-4 * Math.sqrt(den / n) + 1e-5);
    }
  }, 540_000); // a hang guard: each rank compiles its kernels, slowly when the shader cache is cold

  it('killing one rank ends the job within seconds, with one line and the last checkpoint intact; --resume continues it', async () => {
    const out = join(tmp, 'killed');
    const tag = `dist-kill-${process.pid}-${Date.now()}`;
    const args = ['scripts/run.mjs', 'bench/train.ts', '--ranks', '2', '--preset', 'smoke', '--epochs', '12', '--batch', '32', '--no-eval', '--data', dataDir, '--out', out];
    const job = run(process.execPath, args, { VICREG_TEST_TAG: tag });
    const ck = join(out, 'checkpoint', 'model.ckpt');
    // Wait for the first epoch's checkpoint, then SIGKILL rank 1 (found by its environment).
    const rank1 = await waitFor(() => (existsSync(ck) ? findRank(tag, 1) : null), 120_000);
    const killedAt = Date.now();
    process.kill(rank1, 'SIGKILL');
    const r = await job;
    const endMs = Date.now() - killedAt;
    expect(r.code).not.toBe(0);
    expect(endMs).toBeLessThan(15_000);
    expect(r.stderr).toMatch(/^vicreg-train: rank 1 was killed by signal 9 \(Killed\); the job was ended \(all 2 ranks\)$/m);
    expect(r.stderr).not.toMatch(/-{20,}/); // mpirun's banner is summarised, not dumped
    // No rank outlives the job by more than a few seconds (a SIGTERM that lands while a rank is
    // blocked in MPI waits for mpirun's SIGKILL).
    await waitFor(() => (findRank(tag, 0) === null && findRank(tag, 1) === null ? true : null), 10_000);
    const c = loadCheckpoint(ck);
    expect(c.header.step % 10).toBe(0);
    expect(c.header.step).toBeGreaterThan(0);
    expect(c.header.step).toBeLessThan(120);

    const res = await run(process.execPath, ['scripts/run.mjs', 'bench/train.ts', '--ranks', '2', '--resume', out, '--data', dataDir]);
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ steps: 120, ranks: 2, resumed: true });
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.type === 'step');
    expect(steps.at(-1).step).toBe(120);
    expect(loadCheckpoint(ck).header.step).toBe(120);
  }, 300_000);
});

async function waitFor<T>(f: () => T | null, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of rank `rank` of the job whose environment holds VICREG_TEST_TAG=tag. */
function findRank(tag: string, rank: number): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${d}/environ`, 'utf8');
    } catch {
      continue;
    }
    const vars = env.split('\0');
    if (vars.includes(`VICREG_TEST_TAG=${tag}`) && vars.includes(`OMPI_COMM_WORLD_RANK=${rank}`)) return Number(d);
  }
  return null;
}

