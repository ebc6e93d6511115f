/**
 * `npm run bench -- step [--preset quick|full|smoke] [--steps N] [--json] [--no-peer] [--dispatches]`
 *
 * `--dispatches` also lists the last profiled step dispatch by dispatch, in order.
 *
 * Where one training step's time goes: every kernel of the step timed with timestamp queries
 * (each dispatch in its own pass), grouped by kernel, with its FLOPs (declared by the GEMM
 * ops) and bytes bound, against the FMA peak and the copy bandwidth measured in the same run;
 * plus the step's wall time, the host's share (recording and submitting) and the step's floor
 * (its FLOPs at the FMA peak plus its bytes at the copy bandwidth). With Debian's python3-torch
 * installed, the same network, loss and LARS run in PyTorch on the same CPU in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import type { DispatchTiming } from '../src/gpu/profiler.js';
import { Tensor } from '../src/tensor.js';
import { InputError } from '../src/errors.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../src/data/fashion.js';
import { GpuDataset } from '../src/data/gpu-dataset.js';
import { VicregModel } from '../src/nn/model.js';
import { Lars } from '../src/optim/lars.js';
import { learningRate } from '../src/optim/schedule.js';
import { PRESETS, resolveConfig, type TrainConfig } from '../src/train/config.js';
import { TrainStep, stepsInFlight } from '../src/train/step.js';
import { encoderPy } from '../src/export/torch.js';
import { parseOptions } from '../src/cli/args.js';
import { fmt, median, table, timeGpu } from './common.js';
import { measureFmaPeak } from './fma-peak.js';
import { describeMachine, machineInfo } from './machine.js';

export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
  share: number;
  gflop: number;
  mbytes: number;
  gflops: number;
  gbps: number;
  /** Of the FMA peak (GEMM kernels) or of the copy bandwidth (the rest). */
  peak_fraction: number;
}

/** Groups one step's dispatch timings by kernel name (`steps` steps were timed). */
export function kernelTable(timings: DispatchTiming[], steps: number, peak: { gflops: number; gbps: number }): KernelRow[] {
  const by = new Map<string, { calls: number; ns: number; flops: number; bytes: number }>();
  for (const t of timings) {
    const r = by.get(t.kernel) ?? { calls: 0, ns: 0, flops: 0, bytes: 0 };
    r.calls++;
    r.ns += t.ns;
    r.flops += t.flops;
    r.bytes += t.bytes;
    by.set(t.kernel, r);
  }
  const total = [...by.values()].reduce((a, r) => a + r.ns, 0);
  return [...by.entries()]
    .map(([kernel, r]) => {
      const s = r.ns / 1e9;
      const gflops = r.flops / 1e9 / Math.max(s, 1e-12);
      const gbps = r.bytes / 1e9 / Math.max(s, 1e-12);
      return {
        kernel,
        calls: r.calls / steps,
        ms: r.ns / 1e6 / steps,
        share: r.ns / Math.max(total, 1),
        gflop: r.flops / 1e9 / steps,
        mbytes: r.bytes / 1e6 / steps,
        gflops,
        gbps,
        peak_fraction: r.flops > 0 ? gflops / peak.gflops : gbps / peak.gbps,
      };
    })
    .sort((a, b) => b.ms - a.ms);
}

/** The adapter's copy bandwidth (read + write bytes per second), GB/s. */
async function measureCopyBandwidth(gpu: Gpu): Promise<number> {
  const n = 8 << 20; // 32 MiB per buffer: past every CPU cache
  const a = Tensor.zeros(gpu, [n]);
  const b = Tensor.empty(gpu, [n]);
  const ms = await timeGpu(gpu, () => gpu.copy(a.buffer, 0, b.buffer, 0, n * 4), { samples: 5 });
  a.release();
  b.release();
  return (2 * n * 4) / (ms * 1e6);
}

interface StepSetup {
  step: TrainStep;
  lr: (s: number) => number;
  dispose: () => void;
}

function setUp(gpu: Gpu, cfg: TrainConfig): StepSetup {
  const dir = FASHION_MNIST_DIR;
  if (!existsSync(dir)) throw new InputError('bad-file', `data directory not found: ${dir} (install dataset-fashion-mnist)`);
  const data = loadFashionMnist(dir);
  const ds = new GpuDataset(gpu, data.train, data.height, data.width, { seed: cfg.seed, batchSize: cfg.batchSize, augment: cfg.augment });
  const model = new VicregModel(gpu, cfg.model, cfg.seed);
  const optim = new Lars(gpu, model.parameters(), { weightDecay: cfg.weightDecay, eta: cfg.larsEta });
  const step = new TrainStep(gpu, model, optim, ds, { lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, convention: 'official' });
  const spe = ds.stepsPerEpoch;
  const sched = { baseLr: cfg.baseLr, batchSize: cfg.batchSize, warmupSteps: Math.round(cfg.warmupEpochs * spe), totalSteps: spe * cfg.epochs };
  return {
    step,
    lr: (s) => learningRate(s, sched),
    dispose: () => {
      step.release();
      optim.dispose();
      model.dispose();
      ds.release();
    },
  };
}

/** The same network, loss and LARS in PyTorch on this CPU (Debian's python3-torch), or null. */
function torchPeer(cfg: TrainConfig, steps: number, threads: number): { pairs_per_sec: number; ms_per_step: number; torch: string } | { skipped: string } {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return { skipped: '/usr/bin/python3 not found' };
  const probe = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'python3-torch is not installed (apt-get install python3-torch)' };
  const dir = mkdtempSync(join(tmpdir(), 'vicreg-torch-step-'));
  try {
    writeFileSync(join(dir, 'encoder.py'), encoderPy(cfg, { source: 'bench step' }));
    const r = spawnSync(
      py,
      [join(process.cwd(), 'bench', 'peer', 'torch_step.py'), dir, JSON.stringify({ batch: cfg.batchSize, steps, threads, lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, eta: cfg.larsEta, wd: cfg.weightDecay, size: cfg.augment?.size ?? 28 })],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (r.status !== 0) return { skipped: `PyTorch peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { pairs_per_sec: number; ms_per_step: number; torch: string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStepBench(args: string[]): Promise<void> {
  // --preset and --steps are checked below, with their own messages.
  const o = parseOptions(args, { json: { type: 'boolean' }, preset: { type: 'string' }, steps: { type: 'string' }, dispatches: { type: 'boolean' }, 'no-peer': { type: 'boolean' } });
  const json = !!o.json;
  const out = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const preset = (o.preset as string | undefined) ?? 'quick';
  if (!PRESETS[preset]) throw new InputError('bad-option', `--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const steps = Number(o.steps ?? 20);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1000) throw new InputError('bad-option', '--steps must be an integer in [1, 1000]');
  const cfg = resolveConfig(preset, {});
  const gpu = await createGpu();
  const machine = machineInfo(gpu);
  out(`bench step: ${preset} preset, batch ${cfg.batchSize} pairs; ${describeMachine(machine)}`);

  const { step, lr, dispose } = setUp(gpu, cfg);
  let s = 0;
  const run = async () => {
    step.run(s, lr(s), false);
    s++;
    await gpu.sync();
  };
  for (let k = 0; k < 3; k++) await run(); // compile every kernel, fill the pool

  // Wall time of a synced step, and the host's part of it (recording + submit).
  const wall: number[] = [];
  const host: number[] = [];
  for (let k = 0; k < steps; k++) {
    const t0 = performance.now();
    step.run(s, lr(s), false);
    const t1 = performance.now();
    s++;
    await gpu.sync();
    wall.push(performance.now() - t0);
    host.push(t1 - t0);
  }
  // As the training loop runs: stepsInFlight steps in flight (one on a software adapter, two on
  // a GPU). CPU time over wall time says how busy the cores were (on a software adapter, idle
  // cores are the adapter's lost time: gpu-notes.md).
  const inFlight = stepsInFlight(gpu);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < steps; k++) {
    step.run(s, lr(s), false);
    s++;
    pending.push(gpu.sync());
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  const pipelinedMs = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(cpu0);
  const coresBusy = (cpu.user + cpu.system) / 1000 / (pipelinedMs * steps);

  let rows: KernelRow[] = [];
  let lastStep: DispatchTiming[] = [];
  let gpuMs = NaN;
  let flops = 0;
  let bytes = 0;
  const profiled = Math.min(steps, 3);
  const fma = await measureFmaPeak(gpu, { samples: 3 });
  const gbps = await measureCopyBandwidth(gpu);
  if (gpu.startProfiling()) {
    for (let k = 0; k < profiled; k++) await run();
    const timings = await gpu.stopProfiling();
    rows = kernelTable(timings, profiled, { gflops: fma.gflops, gbps });
    if (o.dispatches) lastStep = timings.slice(timings.length - timings.length / profiled);
    gpuMs = rows.reduce((a, r) => a + r.ms, 0);
    flops = rows.reduce((a, r) => a + r.gflop, 0) * 1e9;
    bytes = rows.reduce((a, r) => a + r.mbytes, 0) * 1e6;
  } else {
    out('  (this adapter has no timestamp queries: no per-kernel table)');
  }
  dispose();

  const wallMs = median(wall);
  const hostMs = median(host);
  const floorMs = (flops / (fma.gflops * 1e9) + bytes / (gbps * 1e9)) * 1e3;
  const threads = Math.max(1, machine.cores);
  const peer = o['no-peer'] ? { skipped: '--no-peer' } : torchPeer(cfg, Math.max(steps, 10), threads);

  if (rows.length) {
    table(
      rows.map((r) => ({
        kernel: r.kernel,
        calls: fmt(r.calls, 1),
        ms: fmt(r.ms, 2),
        share: `${fmt(100 * r.share, 1)}%`,
        GFLOP: r.gflop ? fmt(r.gflop, 3) : '',
        MB: fmt(r.mbytes, 1),
        'GFLOP/s': r.gflop ? fmt(r.gflops, 1) : '',
        'GB/s': fmt(r.gbps, 1),
        'of peak': `${fmt(100 * r.peak_fraction, 1)}%${r.gflop ? ' fma' : ' bw'}`,
      })),
      out,
    );
  }
  if (lastStep.length) {
    table(
      lastStep.map((t, i) => ({
        '#': String(i),
        kernel: t.kernel,
        ms: fmt(t.ns / 1e6, 3),
        GFLOP: t.flops ? fmt(t.flops / 1e9, 4) : '',
        MB: fmt(t.bytes / 1e6, 2),
        'GFLOP/s': t.flops ? fmt(t.flops / t.ns, 1) : '',
      })),
      out,
    );
  }
  const pairs = (ms: number) => (cfg.batchSize * 1000) / ms;
  out(
    `step: ${fmt(wallMs, 1)} ms synced (${fmt(pairs(wallMs), 0)} pairs/s), ${fmt(pipelinedMs, 1)} ms as training runs, ${inFlight} in flight (${fmt(pairs(pipelinedMs), 0)} pairs/s); ` +
      `host recording + submit ${fmt(hostMs, 1)} ms; kernels ${fmt(gpuMs, 1)} ms (profiled, one pass each); ` +
      `${rows.reduce((a, r) => a + r.calls, 0).toFixed(0)} dispatches; ${fmt(coresBusy, 2)} of ${machine.cores} cores busy (as training runs)`,
  );
  out(
    `floor: ${fmt(flops / 1e9, 2)} GFLOP at the ${fmt(fma.gflops, 1)} GFLOP/s FMA peak + ${fmt(bytes / 1e6, 0)} MB at the ${fmt(gbps, 1)} GB/s copy bandwidth = ${fmt(floorMs, 1)} ms; ` +
      `the step takes ${fmt(wallMs / floorMs, 1)}x its floor`,
  );
  if ('skipped' in peer) out(`PyTorch: skipped (${peer.skipped})`);
  else out(`PyTorch ${peer.torch} (${threads} threads, same network, loss and LARS, random inputs, no augmentation): ${fmt(peer.ms_per_step, 1)} ms/step, ${fmt(peer.pairs_per_sec, 0)} pairs/s; ours / PyTorch = ${fmt(pairs(pipelinedMs) / peer.pairs_per_sec, 2)}x`);

  if (json) {
    process.stdout.write(
      JSON.stringify({
        bench: 'step',
        preset,
        batch: cfg.batchSize,
        ...machine,
        step_ms: wallMs,
        step_ms_pipelined: pipelinedMs,
        steps_in_flight: inFlight,
        pairs_per_sec: pairs(pipelinedMs),
        host_ms: hostMs,
        cores_busy: coresBusy,
        kernels_ms: gpuMs,
        floor_ms: floorMs,
        flops,
        bytes,
        fma_peak_gflops: fma.gflops,
        copy_gbps: gbps,
        kernels: rows,
        torch: peer,
      }) + '\n',
    );
  }
}
