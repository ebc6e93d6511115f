/**
 * Export to PyTorch, end to end: a short real training run (tiny net, 20 px eval input so the
 * bilinear resize is exercised, a 2x2 grid of overlapping average pools, BN running statistics
 * moved by 20 steps), then `exportRun`, then
 *   - in TypeScript: the files' names, shapes and values against the checkpoint; --init-from
 *     (loadInitWeights + applyInitWeights) reproduces the engine's features; mismatches are
 *     one-line errors; the `vicreg export` CLI;
 *   - in real PyTorch (Debian's python3-torch, /usr/bin/python3; skipped with a message when
 *     torch is not importable): build_encoder().load_state_dict(strict=True) in eval mode
 *     reproduces features/test_repr.npy, preprocess() the engine's eval input, and
 *     build_expander() the engine's embeddings; and a state_dict written by encoder.py's
 *     pure-Python writer starts an engine model (--init-from) with the same features.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { testGpu, relMaxErr } from '../helpers/gpu.js';
import type { Gpu } from '../../src/gpu/device.js';
import type { FashionMnist, Split } from '../../src/data/fashion.js';
import { GpuDataset } from '../../src/data/gpu-dataset.js';
import { VicregModel } from '../../src/nn/model.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import { loadCheckpoint, findCheckpoint, type Checkpoint } from '../../src/train/checkpoint.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { InputError } from '../../src/errors.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/export/files.js';
import { applyInitWeights, encoderLayout, expanderLayout, exportRun, loadInitWeights, torchName } from '../../src/export/torch.js';

const ROOT = resolve(__dirname, '../..');
const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 60_000 });
const HAVE_TORCH = probe.status === 0;
if (!HAVE_TORCH) {
  console.warn(`test/export/torch.test.ts: skipping the PyTorch comparison: ${PY} cannot import torch and numpy (apt-get install python3-torch; scripts/setup.sh installs it)`);
}

let tmp: string;
let runDir: string;
let gpu: Gpu;
let cfg: TrainConfig;
let ck: Checkpoint;
let files: string[];
let data: FashionMnist;

/** Garment-like blobs: a class-dependent box and stripe, random placement and brightness. */
function synth(n: number, seed: number): Split {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels[i] = c;
    const cx = 14 + Math.floor(u() * 7) - 3;
    const cy = 14 + Math.floor(u() * 7) - 3;
    const w = 5 + c;
    const h = 17 - c;
    const level = 120 + u() * 130;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const box = Math.abs(x - cx) < w / 2 && Math.abs(y - cy) < h / 2;
        const stripe = c % 2 ? (x + y + c) % 5 === 0 : (y * (c + 1)) % 7 === 0;
        images[i * 784 + y * 28 + x] = Math.min(255, (box ? level : 0) + (box && stripe ? 60 : 0) + u() * 25);
      }
    }
  }
  return { images, labels, n };
}

beforeAll(async () => {
  gpu = await testGpu();
  tmp = mkdtempSync(join(tmpdir(), 'vicreg-export-'));
  runDir = join(tmp, 'run');
  data = { train: synth(320, 1), test: synth(300, 2), height: 28, width: 28 };
  // 20 px: 20 -(5x5/2)-> 10 -(pool)-> 5 -> 5, grid 2 = two overlapping 3x3 windows (stride 2),
  // max-pooled as in the quick preset.
  cfg = resolveConfig('smoke', {
    epochs: 2,
    baseLr: 16,
    augment: { size: 20 },
    model: { inChannels: 1, conv: [[8, 5, 2, true], [16, 3, 1, false]], reprGrid: 2, reprPool: 'max', expander: [32, 32] },
  });
  const res = await train({ outDir: runDir, config: cfg, data, gpu, stderr: { write: () => true, isTTY: false } });
  expect(res.status).toBe('done');
  ck = loadCheckpoint(findCheckpoint(runDir));
  files = await exportRun(runDir);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function testInput(): { ds: GpuDataset; x: ReturnType<GpuDataset['evalBatch']> } {
  const ds = new GpuDataset(gpu, data.test, 28, 28, { seed: 0, batchSize: 32, augment: cfg.augment });
  return { ds, x: ds.evalBatch(0, data.test.n) };
}

describe('exportRun', () => {
  it('writes encoder.safetensors, expander.safetensors and encoder.py into the run directory', () => {
    expect(files).toEqual(['encoder.safetensors', 'expander.safetensors', 'encoder.py'].map((f) => join(runDir, f)));
    for (const f of files) expect(existsSync(f)).toBe(true);
    const py = readFileSync(files[2]!, 'utf8');
    expect(py).toContain('def build_encoder():');
    expect(py).toContain('REPR_POOL = (3, 2)');
    expect(py).toContain('SIZE = 20');
  });

  it('holds the checkpoint tensors under state_dict names, with num_batches_tracked = 2 x steps', () => {
    const steps = ck.header.step;
    expect(steps).toBe(20);
    for (const [file, layout] of [[files[0]!, encoderLayout(cfg.model)], [files[1]!, expanderLayout(cfg.model)]] as const) {
      const st = readSafetensorsFile(file);
      expect([...st.tensors.keys()]).toEqual(layout.map((s) => s.torch));
      expect(st.metadata.preset).toBe('smoke');
      expect(st.metadata.step).toBe('20');
      expect(st.metadata.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$|^unknown$/);
      for (const s of layout) {
        const t = st.tensors.get(s.torch)!;
        if (s.engine === null) {
          expect(t).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(2 * steps)) });
          continue;
        }
        expect(t.dtype).toBe('F32');
        expect(t.shape).toEqual(ck.tensors.get(s.engine)!.shape);
        expect(t.data).toEqual(ck.tensors.get(s.engine)!.data);
      }
    }
    // Trained: the running statistics moved away from their init (0 mean, 1 variance).
    const rv = ck.tensors.get('encoder.1.bn.running_var')!.data;
    expect(Math.max(...rv.map((v) => Math.abs(v - 1)))).toBeGreaterThan(0.05);
  });

  it('every tensor of VicregModel.named() has a state_dict name in exactly one file', () => {
    const model = new VicregModel(gpu, cfg.model, 0);
    const names = model.named().map((n) => n.name);
    model.dispose();
    const inFiles = [...encoderLayout(cfg.model), ...expanderLayout(cfg.model)].filter((s) => s.engine).map((s) => s.engine);
    expect(inFiles.sort()).toEqual([...names].sort());
    for (const n of names) expect(torchName(n)).not.toBeNull();
  });

  it('fails with one line on a directory without a checkpoint', async () => {
    const err = await exportRun(join(tmp, 'nothing-here')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^\S*nothing-here does not exist$/);
  });
});

describe('--init-from: loadInitWeights + applyInitWeights', () => {
  it('a fresh model given encoder.safetensors reproduces the engine features', async () => {
    const w = loadInitWeights(files[0]!);
    const model = new VicregModel(gpu, cfg.model, 12345, false);
    const { ds, x } = testInput();
    const before = model.encode(null, x, false);
    const b = await before.read();
    before.release();
    applyInitWeights(model, w, files[0]!);
    const r = model.encode(null, x, false);
    const got = await r.read();
    r.release();
    x.release();
    ds.release();
    model.dispose();
    const ref = readNpy(join(runDir, 'features', 'test_repr.npy'));
    expect(ref.shape).toEqual([300, 64]);
    expect(relMaxErr(b, ref.data)).toBeGreaterThan(0.1); // the seed-12345 init is another encoder
    expect(relMaxErr(got, ref.data)).toBeLessThan(1e-6);
  });

  it('names the first mismatch in one line and uploads nothing', async () => {
    const w = loadInitWeights(files[0]!);
    const model = new VicregModel(gpu, cfg.model, 3, false);
    const orig = await model.convs[0]!.weight.read();
    const expectBad = (weights: Map<string, { shape: number[]; data: Float32Array }>, pattern: RegExp) => {
      let err: unknown;
      try {
        applyInitWeights(model, weights, 'w.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(pattern);
      expect((err as Error).message).not.toContain('\n');
    };
    const shaped = new Map(w);
    shaped.set('1.conv.weight', { shape: [16, 8, 1, 9], data: w.get('1.conv.weight')!.data });
    expectBad(shaped, /^w\.safetensors: tensor '1\.conv\.weight' is \[16,8,1,9\], this model's is \[16,8,3,3\]$/);
    const missing = new Map(w);
    missing.delete('1.bn.running_var');
    expectBad(missing, /^w\.safetensors: no tensor '1\.bn\.running_var'/);
    const extra = new Map(w);
    extra.set('2.conv.weight', { shape: [4], data: new Float32Array(4) });
    expectBad(extra, /^w\.safetensors: unexpected tensor '2\.conv\.weight' \[4\]/);
    // The expander file is not an encoder.
    expectBad(loadInitWeights(files[1]!), /no tensor '0\.conv\.weight'/);
    // Nothing was uploaded by the failed attempts.
    expect(await model.convs[0]!.weight.read()).toEqual(orig);
    model.dispose();
  });

  it('rejects a non-float tensor and a corrupt file in one line', () => {
    const f = join(tmp, 'ints.safetensors');
    writeSafetensorsFile(f, [['0.conv.weight', { dtype: 'I32', shape: [1], data: Int32Array.of(1) }]]);
    expect(() => loadInitWeights(f)).toThrow(/ints\.safetensors: tensor '0\.conv\.weight' is I32, want a floating-point dtype/);
    const cut = join(tmp, 'cut.safetensors');
    writeFileSync(cut, readFileSync(files[0]!).subarray(0, 100));
    expect(() => loadInitWeights(cut)).toThrow(InputError);
  });
});

describe('vicreg export (CLI)', () => {
  it('writes the files to --out and prints their paths; a bad run directory is one line, exit 2', async () => {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    const buildDir = mkdtempSync(join(ROOT, '.cache', 'test-export-'));
    try {
      const cli = join(buildDir, 'vicreg.mjs');
      await build({
        entryPoints: [join(ROOT, 'src/cli/vicreg.ts')],
        outfile: cli,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        loader: { '.wgsl': 'text' },
        logLevel: 'error',
      });
      const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
      const out = join(tmp, 'cli-out');
      const ok = run('export', runDir, '--out', out);
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(ok.stdout.trim().split('\n')).toEqual(['encoder.safetensors', 'expander.safetensors', 'encoder.py'].map((f) => join(out, f)));
      expect(readFileSync(join(out, 'encoder.safetensors'))).toEqual(readFileSync(files[0]!));
      const bad = run('export', join(tmp, 'missing'));
      expect(bad.status).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/^vicreg: error: \S*missing does not exist\n$/);
      const unwritable = run('export', runDir, '--out', '/proc/vicreg-export');
      expect(unwritable.status).toBe(2);
      expect(unwritable.stderr).toMatch(/^vicreg: error: cannot write to the export directory \/proc\/vicreg-export: [^\n]*\n$/);
    } finally {
      rmSync(buildDir, { recursive: true, force: true });
    }
  });
});

/** torch_check.py's report; each *_rel is [max per-row relative error, max error / max value]. */
interface TorchCheck {
  reader: string;
  reader_agrees: boolean;
  state_dict_names: string[];
  input_shape: number[];
  repr_shape: number[];
  input_rel: [number, number];
  repr_rel: [number, number];
  emb_rel: [number, number];
  engine_vs_f64: [number, number];
  torch_vs_f64: [number, number];
  train_mode_rel: [number, number];
}

/** Runs torch_check.py on an exported run (engine input and embeddings computed here). */
async function torchCheck(dir: string, c: TrainConfig, ckpt: Checkpoint): Promise<TorchCheck> {
  const work = join(dir, 'torch-work');
  mkdirSync(work);
  writeFileSync(join(work, 'test_images.u8'), data.test.images);
  const model = new VicregModel(gpu, c.model, 7);
  for (const n of model.named()) gpu.upload(n.t.buffer, ckpt.tensors.get(n.name)!.data);
  const ds = new GpuDataset(gpu, data.test, 28, 28, { seed: 0, batchSize: 32, augment: c.augment });
  const x = ds.evalBatch(0, data.test.n);
  writeNpy(join(work, 'engine_input.npy'), await x.read(), x.shape);
  const z = model.expand(null, model.encode(null, x, false), false);
  writeNpy(join(work, 'engine_embeddings.npy'), await z.read(), z.shape);
  z.release();
  x.release();
  ds.release();
  model.dispose();
  const py = spawnSync(PY, [join(__dirname, 'torch_check.py'), dir, work], { encoding: 'utf8', timeout: 120_000 });
  expect(py.status, py.stderr).toBe(0);
  const r = JSON.parse(py.stdout) as TorchCheck;
  const e = (k: keyof TorchCheck) => (r[k] as number[])[0]!.toExponential(2);
  console.log(
    `${c.augment.size} px, grid ${c.model.reprGrid ?? 1}: torch vs engine repr per-row rel ${e('repr_rel')} (all ${r.repr_rel[1].toExponential(2)}), ` +
      `emb ${e('emb_rel')}, input ${e('input_rel')}; vs float64 torch: engine ${e('engine_vs_f64')}, torch f32 ${e('torch_vs_f64')}; ` +
      `BN in train mode ${e('train_mode_rel')}; reader ${r.reader}`,
  );
  expect(r.reader_agrees).toBe(true);
  expect(r.state_dict_names).toEqual(encoderLayout(c.model).map((s) => s.torch));
  expect(r.input_shape).toEqual([data.test.n, 1, c.augment.size, c.augment.size]);
  expect(r.repr_shape).toEqual([data.test.n, 16 * (c.model.reprGrid ?? 1) ** 2]);
  return r;
}

describe.skipIf(!HAVE_TORCH)('PyTorch (python3-torch) loads the export', () => {
  it('20 px, overlapping grid pooling: reproduces the engine representation and embeddings to 1e-4 relative', async () => {
    const r = await torchCheck(runDir, cfg, ck);
    expect(r.input_rel[0]).toBeLessThan(1e-5);
    expect(r.repr_rel[0]).toBeLessThan(1e-4);
    expect(r.emb_rel[0]).toBeLessThan(1e-4);
    // The comparison is sensitive to the BN statistics: batch statistics give another representation.
    expect(r.train_mode_rel[0]).toBeGreaterThan(1e-2);

    // The way back: the state_dict written by encoder.py's writer starts a fresh engine model.
    const model = new VicregModel(gpu, cfg.model, 99, false);
    applyInitWeights(model, loadInitWeights(join(runDir, 'torch-work', 'from_torch.safetensors')));
    const { ds, x } = testInput();
    const rep = model.encode(null, x, false);
    const got = await rep.read();
    rep.release();
    x.release();
    ds.release();
    model.dispose();
    expect(relMaxErr(got, readNpy(join(runDir, 'features', 'test_repr.npy')).data)).toBeLessThan(1e-6);
  });

  it('28 px (no resize), global average pool: the same', async () => {
    const dir = join(tmp, 'run-global');
    const c = resolveConfig('smoke', { epochs: 1, baseLr: 16, augment: { size: 28 } });
    const res = await train({ outDir: dir, config: c, data, gpu, stderr: { write: () => true, isTTY: false } });
    expect(res.status).toBe('done');
    await exportRun(dir);
    expect(readFileSync(join(dir, 'encoder.py'), 'utf8')).toContain('REPR_POOL = None');
    const r = await torchCheck(dir, c, loadCheckpoint(findCheckpoint(dir)));
    expect(r.input_rel[0]).toBeLessThan(1e-6);
    expect(r.repr_rel[0]).toBeLessThan(1e-4);
    expect(r.emb_rel[0]).toBeLessThan(1e-4);
    expect(r.train_mode_rel[0]).toBeGreaterThan(1e-2);
  });
});
