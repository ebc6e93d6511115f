/**
 * Nothing lost under hostile conditions (issue 15): a full disk (a small tmpfs mounted by the
 * test; needs root, as CI has), two runs on one directory, a checkpoint from another run,
 * inputs that never end, paths under /proc, out-of-range options and tampered headers.
 * Every case must end in one line and exit 2, never a stack trace, a hang or a lost checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testGpu } from '../helpers/gpu.js';
import { writeSynthFashion } from '../fixtures/synth-fashion.js';
import { loadFashionMnist } from '../../src/data/fashion.js';
import { resolveConfig, type ConfigOverrides, type TrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import { decodeCheckpoint, encodeCheckpoint, findCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { RunLock } from '../../src/train/run-lock.js';
import { MetricsLog } from '../../src/train/metrics.js';
import { appendLines, makeDirs, WriteError } from '../../src/io/file-write.js';
import { encodeNpy, writeNpy } from '../../src/io/npy.js';
import { InputError } from '../../src/errors.js';
import { vicregLossHost } from '../../src/vicreg/loss.js';

const ROOT = resolve(__dirname, '../..');
const quiet = { write: () => true, isTTY: false };
let tmp: string;
let dataDir: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vicreg-rel-'));
  dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  writeSynthFashion(dataDir);
});
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- a small disk

const mounts: string[] = [];
/** Mounts a tmpfs of `kib` KiB, or returns null (not root, no mount permission). */
function smallDisk(kib: number): string | null {
  const dir = mkdtempSync(join(tmp, 'disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const d = mkdtempSync(join(tmpdir(), 'vicreg-mnt-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]).status === 0;
  if (ok) spawnSync('umount', [d]);
  rmSync(d, { recursive: true, force: true });
  if (!ok) console.warn('reliability: cannot mount a tmpfs here; the disk-full cases are skipped (CI runs them as root)');
  return ok;
})();

/** Fills the file system holding `dir` until at most `leave` bytes are free. */
function fill(dir: string, leave: number): void {
  const s = statfsSync(dir);
  const free = Number(s.bavail) * Number(s.bsize);
  if (free > leave) writeFileSync(join(dir, 'filler'), Buffer.alloc(free - leave));
}
const freeOf = (dir: string) => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

function expectWriteError(f: () => unknown, file: string): WriteError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  return checkWriteError(err, file);
}
function checkWriteError(err: unknown, file: string): WriteError {
  expect(err).toBeInstanceOf(WriteError);
  const msg = (err as Error).message;
  expect(msg).toContain(file);
  expect(msg).toMatch(/no space left on the device \(needs [\d.]+ [KM]?i?B, [\d.]+ [KM]?i?B free\)/);
  expect(msg).not.toContain('\n');
  return err as WriteError;
}

const header = (step: number) => ({ step, epoch: 0, elapsed: 1, config: { a: 1 }, rng: { seed: 0, kind: 'x' }, optimizer: { kind: 'lars', steps: step } });
const tensor = (n: number, v: number) => ({ name: 'w', shape: [n], data: new Float32Array(n).fill(v) });

describe.skipIf(!canMount)('a full disk', () => {
  it('a checkpoint that does not fit leaves the previous one intact and names the space needed', async () => {
    const disk = smallDisk(512)!;
    await saveCheckpoint(disk, header(3), [tensor(1000, 1)]);
    fill(disk, 44 * 1024);
    // 64 KiB of tensor data cannot fit in the 44 KiB left: the old writer renamed the torn file.
    const err = await saveCheckpoint(disk, header(6), [tensor(16384, 2)]).catch((e: unknown) => e);
    expect(checkWriteError(err, join(disk, 'checkpoint', 'model.ckpt')).message).toMatch(/previous file is intact$/);
    const ck = loadCheckpoint(findCheckpoint(disk));
    expect(ck.header.step).toBe(3);
    expect(ck.tensors.get('w')!.data[999]).toBe(1);
    expect(readdirSync(join(disk, 'checkpoint'))).toEqual(['model.ckpt']); // no temp file left
  });

  it('a metrics append that does not fit leaves no torn line', () => {
    const disk = smallDisk(64)!;
    const log = new MetricsLog(join(disk, 'metrics.jsonl'));
    log.reset();
    log.write({ type: 'step', step: 1 });
    fill(disk, 0);
    expect(freeOf(disk)).toBeLessThan(4096);
    expectWriteError(() => log.write({ type: 'std_hist', step: 2, std: Array.from({ length: 4000 }, (_, i) => i / 7) }), join(disk, 'metrics.jsonl'));
    expect(readFileSync(join(disk, 'metrics.jsonl'), 'utf8')).toBe('{"type":"step","step":1}\n');
    expect(() => appendLines(join(disk, 'metrics.jsonl'), 'x'.repeat(100_000) + '\n')).toThrow(WriteError);
    expect(readFileSync(join(disk, 'metrics.jsonl'), 'utf8')).toBe('{"type":"step","step":1}\n');
  });

  it('features that do not fit leave no truncated .npy; the error names the file', () => {
    const disk = smallDisk(128)!;
    fill(disk, 16 * 1024);
    const file = join(disk, 'train_repr.npy');
    expectWriteError(() => writeNpy(file, new Float32Array(64 * 256), [64, 256]), file);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(disk)).toEqual(['filler']);
  });

  it('training onto a full disk stops with one line, exit 2, and the last checkpoint resumes', async () => {
    // A run stopped after its first epoch (checkpoint at step 10 of 20) on a roomy disk ...
    const gpu = await testGpu();
    const cfg = resolveConfig('smoke', { epochs: 2 });
    const roomy = join(tmp, 'run-roomy');
    await train({ outDir: roomy, config: cfg, data: loadFashionMnist(dataDir), gpu, stderr: quiet, evaluate: false, stopAfterStep: 10 });
    // ... moved to a disk too full for its next checkpoint, then resumed there.
    const disk = smallDisk(1024)!;
    const dir = join(disk, 'run');
    cpSync(roomy, dir, { recursive: true });
    const ckBytes = readFileSync(join(dir, 'checkpoint', 'model.ckpt'));
    const size = (f: string) => readFileSync(join(dir, f)).length;
    // Room to rewrite the log and the config, not for the epoch's records and the checkpoint.
    fill(disk, size('metrics.jsonl') + size('config.json') + 8 * 1024);
    expect(ckBytes.length).toBeGreaterThan(16 * 1024);
    const r = spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', '--resume', dir, '--data', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
    expect(r.status, r.stderr).toBe(2);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^vicreg: error: cannot write .*\/run\/(checkpoint\/model\.ckpt|metrics\.jsonl|config\.json): no space left on the device \(needs/);
    expect(r.stderr).not.toMatch(/^\s+at .*:\d+|Unhandled|TypeError/m);
    // The checkpoint is the one from before, byte for byte, and the log has no torn line.
    expect(Buffer.compare(readFileSync(join(dir, 'checkpoint', 'model.ckpt')), ckBytes)).toBe(0);
    for (const l of readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    // Space made: the same command finishes the run from that checkpoint.
    rmSync(join(disk, 'filler'));
    const ok = spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', '--resume', dir, '--data', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(loadCheckpoint(findCheckpoint(dir)).header.step).toBe(20);
  });
});

// ---------------------------------------------------------------- one owner per directory

/** A live process that is not ours (its pid and kernel start time make a foreign lock). */
function sleeper(): { pid: number; kill: () => void } {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}
const startTime = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]!;
};
const hostName = () => execFileSync('hostname', { encoding: 'utf8' }).trim();

describe('run directory lock', () => {
  it('a second owner is refused with one line naming the first; a dead owner is taken over', () => {
    const dir = join(tmp, 'locked');
    mkdirSync(dir);
    const other = sleeper();
    try {
      writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: other.pid, host: hostName(), started: startTime(other.pid), since: 'then' }));
      let err: unknown;
      try {
        RunLock.acquire(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe('locked');
      expect((err as Error).message).toMatch(new RegExp(`in use by process ${other.pid} `));
      // The same pid with another start time is a recycled pid: stale.
      writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: other.pid, host: hostName(), started: '1', since: 'then' }));
      RunLock.acquire(dir).release();
    } finally {
      other.kill();
    }
    // An owner killed with -9 left its lock behind: taken over.
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: Number(dead), host: hostName(), started: null, since: 'then' }));
    const lock = RunLock.acquire(dir);
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    expect(() => RunLock.acquire(dir)).toThrow(/already in use by this process/);
    lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('a second training run on the same --out refuses with one line, exit 2, and writes nothing', () => {
    const dir = join(tmp, 'busy');
    mkdirSync(dir);
    const other = sleeper();
    try {
      writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: other.pid, host: hostName(), started: startTime(other.pid), since: 'then' }));
      const r = spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', '--out', dir, '--data', dataDir, '--preset', 'smoke', '--no-eval'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^vicreg: error: run directory .*busy is in use by process ${other.pid} `))]);
      expect(readdirSync(dir).sort()).toEqual(['.lock', 'checkpoint']);
    } finally {
      other.kill();
    }
  });
});

// ---------------------------------------------------------------- whose checkpoint

describe('resume', () => {
  const cfgOf = (over: ConfigOverrides): TrainConfig => resolveConfig('smoke', { epochs: 2, ...over });
  it('refuses a checkpoint from another run unless forced; keeps --no-eval; finished runs add no duplicate records', async () => {
    const gpu = await testGpu();
    const data = loadFashionMnist(dataDir);
    const a = join(tmp, 'run-a');
    const b = join(tmp, 'run-b');
    await train({ outDir: a, config: cfgOf({ seed: 1 }), data, gpu, stderr: quiet, evaluate: false, stopAfterStep: 10 });
    await train({ outDir: b, config: cfgOf({ seed: 2 }), data, gpu, stderr: quiet, evaluate: false, stopAfterStep: 10 });
    const idA = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).run_id;
    const idB = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')).run_id;
    expect(idA).toMatch(/^[0-9a-f-]{36}$/);
    expect(idB).not.toBe(idA);
    expect(loadCheckpoint(findCheckpoint(a)).header.runId).toBe(idA);
    // The --no-eval choice travels in the checkpoint.
    expect(loadCheckpoint(findCheckpoint(a)).header.extra?.evaluate).toBe(false);

    // B's checkpoint copied into A's directory.
    copyFileSync(join(b, 'checkpoint', 'model.ckpt'), join(a, 'checkpoint', 'model.ckpt'));
    const swapped = loadCheckpoint(findCheckpoint(a));
    const cfgB = resolveConfig('smoke', swapped.header.config as ConfigOverrides);
    await expect(train({ outDir: a, config: cfgB, data, gpu, stderr: quiet, resume: swapped })).rejects.toThrow(
      new RegExp(`belongs to run ${idB} \\(seed 2, step 10\\), not to the run in .*run-a \\(${idA}\\); pass --force-resume`),
    );
    // The refused resume touched nothing.
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).run_id).toBe(idA);

    // Forced: B continues in A's directory (and that directory now belongs to B).
    const res = await train({ outDir: a, config: cfgB, data, gpu, stderr: quiet, resume: swapped, forceResume: true, outputs: false });
    expect(res.status).toBe('done');
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).run_id).toBe(idB);
    // Evaluation stayed off (no eval records) although this call did not say so.
    const recs = () => readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs().filter((r) => r.type === 'eval')).toHaveLength(0);
    const count = (t: string) => recs().filter((r) => r.type === t && r.step === 20).length;
    const before = ['epoch', 'std_hist', 'corr', 'step'].map(count);
    expect(before).toEqual([1, 1, 1, 1]);
    // Resuming the finished run twice more writes the end-of-run records again, not beside the old ones.
    for (let k = 0; k < 2; k++) {
      const ck = loadCheckpoint(findCheckpoint(a));
      await train({ outDir: a, config: cfgB, data, gpu, stderr: quiet, resume: ck, outputs: false });
    }
    expect(['epoch', 'std_hist', 'corr', 'step'].map(count)).toEqual(before);
  });

  it('divergence stops with a message that says what works (a new run with a lower rate), exit 2', () => {
    const r = spawnSync(
      process.execPath,
      ['scripts/run.mjs', 'bench/train.ts', '--out', join(tmp, 'diverge'), '--data', dataDir, '--preset', 'smoke', '--no-eval', '--lr', '1e30', '--eta', '1e6'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/training diverged: the loss is not finite at step \d+\. .*resuming would diverge again.*start a new run with a lower learning rate \(--lr below 1e\+30\)/);
    // The last good checkpoint (if any was written) is intact and loadable.
    if (existsSync(join(tmp, 'diverge', 'checkpoint', 'model.ckpt'))) expect(() => loadCheckpoint(findCheckpoint(join(tmp, 'diverge')))).not.toThrow();
  });

  it('checkpoint headers with impossible fields are refused with one line', () => {
    const ok = header(3);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...ok, step: -5 }, /step -5: not a count/],
      [{ ...ok, step: 2.5 }, /step 2.5: not a count/],
      [{ ...ok, optimizer: undefined }, /no optimizer state/],
      [{ ...ok, optimizer: { kind: 'lars' } }, /no optimizer state/],
      [{ ...ok, elapsed: -1 }, /elapsed/],
      [{ ...ok, config: null }, /no configuration/],
      [{ ...ok, rng: {} }, /no RNG state/],
    ];
    for (const [h, re] of bad) {
      const bytes = encodeCheckpoint(h as unknown as Parameters<typeof encodeCheckpoint>[0], [tensor(4, 1)]);
      let err: unknown;
      try {
        decodeCheckpoint(bytes, 'f');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(h)).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(re);
    }
    expect(decodeCheckpoint(encodeCheckpoint(ok, [tensor(4, 1)]), 'f').header.step).toBe(3);
  });
});

// ---------------------------------------------------------------- inputs that never end

describe('vicreg loss inputs', () => {
  const vicreg = (...args: string[]) => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/vicreg.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    return { ...r, seconds: (Date.now() - t0) / 1000 };
  };
  const good = () => {
    const f = join(tmp, 'good.npy');
    if (!existsSync(f)) writeFileSync(f, encodeNpy(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [8, 4]));
    return f;
  };
  const expectRefused = (r: ReturnType<typeof vicreg>, re: RegExp) => {
    // A hang would hit spawnSync's timeout (status null); endless reads would too.
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(r.seconds).toBeLessThan(25);
  };

  it('a FIFO, /dev/zero, /dev/urandom and a directory are refused at once', () => {
    const fifo = join(tmp, 'pipe.npy');
    if (!existsSync(fifo)) execFileSync('mkfifo', [fifo]);
    expectRefused(vicreg('loss', fifo, good()), /pipe\.npy: is a pipe \(FIFO\); only regular \.npy files are read/);
    expectRefused(vicreg('loss', good(), '/dev/zero'), /\/dev\/zero: is a device/);
    expectRefused(vicreg('loss', '/dev/urandom', good()), /\/dev\/urandom: is a device/);
    expectRefused(vicreg('loss', tmp, good()), /is a directory/);
  });

  it('a header that promises more data than the file holds is refused before the data is read', () => {
    const big = join(tmp, 'huge-header.npy');
    const bytes = encodeNpy(new Float32Array(4), [2, 2]);
    const text = Buffer.from(bytes).toString('latin1').replace("'shape': (2, 2), ", "'shape': (400000000, 2), ").slice(0, bytes.length);
    writeFileSync(big, Buffer.from(text, 'latin1'));
    expectRefused(vicreg('loss', big, good()), /truncated data: shape \(400000000, 2\) of '<f4' needs 3200000000 bytes, file has 1\d/);
  });

  it('--grad-out under /proc or /sys is refused without spinning', () => {
    expectRefused(vicreg('loss', good(), good(), '--grad-out', '/proc/x'), /cannot write to --grad-out \/proc\/x: \/proc and \/sys hold no files of ours/);
    expectRefused(vicreg('loss', good(), good(), '--grad-out', '/sys/kernel/x/y'), /--grad-out \/sys\/kernel\/x\/y/);
    expect(() => makeDirs('/proc/1/x', '--out')).toThrow(/\/proc and \/sys/);
  });
});

describe('inputs over the device limit', () => {
  it('a view over one buffer binding is a typed too-large error, before any GPU work', async () => {
    const gpu = await testGpu();
    // The same device with a small binding limit (everything else is the real device).
    const small = Object.create(gpu, { maxBinding: { value: 4096 } }) as typeof gpu;
    const z = Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i));
    const before = gpu.dispatchCount;
    const err = await vicregLossHost(small, z, z.map((v) => -v), 64, 32).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('too-large');
    expect((err as Error).message).toMatch(/an \(64, 32\) float32 view is 8 KiB, over this device's 4 KiB limit for one buffer binding/);
    expect(gpu.dispatchCount).toBe(before);
  });
});

// ---------------------------------------------------------------- options out of range

describe('training options', () => {
  const trainCli = (...args: string[]) => spawnSync(process.execPath, ['scripts/run.mjs', 'bench/train.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const oneLine = (r: ReturnType<typeof trainCli>, re: RegExp) => {
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('vicreg:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
  };
  it('an absurd epoch count, a training set smaller than the batch and --grid on resume', () => {
    oneLine(trainCli('--out', join(tmp, 'e'), '--epochs', '1e20', '--data', dataDir), /--epochs must be <= 100000/);
    oneLine(trainCli('--out', join(tmp, 'tl'), '--train-limit', '5', '--data', dataDir), /batch size 96 is larger than the 5 training images; use --batch N with 2 <= N <= 5/);
    oneLine(trainCli('--out', join(tmp, 'tl1'), '--train-limit', '1', '--batch', '2', '--data', dataDir), /training needs at least 2 images/);
    const dir = join(tmp, 'grid');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    const cfg = resolveConfig('smoke', {});
    writeFileSync(join(dir, 'checkpoint', 'model.ckpt'), encodeCheckpoint({ ...header(3), config: cfg }, [tensor(4, 1)]));
    oneLine(trainCli('--resume', dir, '--grid', '2', '--data', dataDir), /--grid 2 differs from the checkpoint's \(1\)/);
  });
});
