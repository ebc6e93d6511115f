/**
 * The one command for a bare GPU machine (docs/gpu-check.md): adapter report, the GPU-family
 * tests, the loss/matmul/conv benchmarks beside TF.js on the same adapter, a short training run
 * of the `full` preset; everything into one JSON file. Runs from dist/gpu-check/ (built by
 * scripts/gpu-check.mjs) with nothing but Node and node_modules/webgpu: each stage is a bundle
 * run as a child process with a time cap, so one hung or crashed stage costs only its own slot.
 *
 *   node dist/gpu-check/check.mjs [--small] [--out FILE] [--peak-tflops X] [--budget S] [--skip tests,bench,train]
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const has = (k: string) => argv.includes(k);
const val = (k: string) => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : undefined;
};
const small = has('--small');
const here = dirname(fileURLToPath(import.meta.url));
const outFile = val('--out') ?? (process.env.OUT ? join(process.env.OUT, 'gpu-check.json') : 'gpu-check.json');
const logFile = outFile.replace(/\.json$/, '') + '.log';
const skipStages = new Set((val('--skip') ?? '').split(',').filter(Boolean));
const t0 = Date.now();
// Full: fits the device tool's 10-minute command with margin; small: lavapipe on 2 busy cores.
const budget = Number(val('--budget') ?? (small ? 1500 : 470)) * 1000;
const elapsed = () => (Date.now() - t0) / 1000;

const result: Record<string, unknown> = {
  tool: 'vicreg-webgpu gpu-check',
  mode: small ? 'small' : 'full',
  started: new Date().toISOString(),
  node: process.version,
  host: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) },
  stages: {} as Record<string, unknown>,
};
const stages = result.stages as Record<string, unknown>;
writeFileSync(logFile, '');
const say = (s: string) => {
  process.stdout.write(s + '\n');
  appendFileSync(logFile, s + '\n');
};
const save = () => {
  result.wall_s = Math.round(elapsed());
  writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
};

// ---------------------------------------------------------------- stages as child processes

interface Run { code: number | null; signal: string | null; timed_out: boolean; wall_s: number; stdout: string; stderr: string }

function runChild(name: string, file: string, args: string[], capS: number, env: Record<string, string> = {}): Promise<Run> {
  const cap = Math.max(5, Math.min(capS, (budget - (Date.now() - t0)) / 1000 - 5));
  say(`\n== ${name}: node ${file} ${args.join(' ')}  (cap ${Math.round(cap)} s)`);
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(process.execPath, [join(here, file), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const tee = (chunk: Buffer, which: 'out' | 'err') => {
      const s = chunk.toString();
      if (which === 'out') stdout += s;
      else stderr += s;
      appendFileSync(logFile, s);
      // On screen: test lines and the benches' tables (stderr with --json); not the JSON, not Dawn's limit warnings.
      if (which === 'err' || !s.trimStart().startsWith('[')) process.stdout.write(s.split('\n').filter((l) => !l.startsWith('Warning: maxDynamic')).join('\n'));
    };
    child.stdout.on('data', (c: Buffer) => tee(c, 'out'));
    child.stderr.on('data', (c: Buffer) => tee(c, 'err'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM'); // the training run checkpoints and exits 143
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }, cap * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timed_out: timedOut, wall_s: (Date.now() - start) / 1000, stdout, stderr });
    });
  });
}
const tail = (s: string, n = 3000) => (s.length > n ? '…' + s.slice(-n) : s);
const childSummary = (r: Run) => ({ exit: r.code, signal: r.signal, timed_out: r.timed_out, wall_s: Math.round(r.wall_s * 10) / 10 });

// ---------------------------------------------------------------- adapter

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}
const pinned: GPU[] = ((globalThis as Record<string, unknown>).__gpuCheckDawn ??= []) as GPU[]; // NOTES-dawn.md: keep instances reachable

function plain(o: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o as object) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v === 'function') continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? (Symbol.iterator in (v as object) ? [...(v as Iterable<unknown>)] : plain(v)) : v;
  }
  return out;
}

async function adapterReport(): Promise<Record<string, unknown>> {
  const dawn = (await import('webgpu')) as unknown as Dawn;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const report: Record<string, unknown> = {};
  // With the toggles an NVIDIA adapter exposes the tensor-core path (subgroup matrices) and f16.
  for (const [key, flags] of [
    ['default', []],
    ['unsafe_f16', ['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia']],
  ] as Array<[string, string[]]>) {
    const gpu = dawn.create(flags);
    pinned.push(gpu);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      report[key] = { flags, adapter: null };
      continue;
    }
    const features = [...adapter.features].sort();
    const info = plain(adapter.info);
    const entry: Record<string, unknown> = { flags, info, features };
    if (key === 'default') entry.limits = plain(adapter.limits);
    // Which of the interesting features a device really gets.
    const want = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'].filter((f) => adapter.features.has(f as GPUFeatureName));
    try {
      const device = await adapter.requestDevice({ requiredFeatures: want as GPUFeatureName[] });
      entry.device_features = [...device.features].sort();
      const dinfo = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
      if (dinfo) entry.device_info = plain(dinfo);
      device.destroy();
    } catch (e) {
      entry.device_error = (e as Error).message;
    }
    report[key] = entry;
  }
  try {
    report.nvidia_smi = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit', '--format=csv'], { encoding: 'utf8', timeout: 20_000 }).trim();
  } catch {
    /* not an NVIDIA machine, or no nvidia-smi */
  }
  return report;
}

// ---------------------------------------------------------------- main

function describeAdapter(a: Record<string, unknown>): string {
  const d = a.default as { info?: Record<string, unknown> } | undefined;
  const i = d?.info ?? {};
  return String(i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ') || 'none');
}

async function main(): Promise<number> {
  say(`gpu-check (${small ? 'small' : 'full'}), budget ${budget / 1000} s, results to ${outFile}`);
  const adapter = await adapterReport();
  result.adapter = adapter;
  const name = describeAdapter(adapter);
  const def = adapter.default as { info?: Record<string, unknown>; features?: string[]; limits?: Record<string, number> } | undefined;
  const uf = adapter.unsafe_f16 as { features?: string[]; info?: Record<string, unknown> } | undefined;
  say(`adapter: ${name}`);
  say(`  subgroup sizes ${def?.info?.subgroupMinSize}-${def?.info?.subgroupMaxSize}; features: ${(def?.features ?? []).join(', ')}`);
  say(`  with allow_unsafe_apis,vulkan_enable_f16_on_nvidia: ${(uf?.features ?? []).filter((f) => !(def?.features ?? []).includes(f)).join(', ') || '(nothing more)'}`);
  say(`  subgroupMatrixConfigs: ${JSON.stringify(uf?.info?.subgroupMatrixConfigs ?? null)}`);
  const L = def?.limits ?? {};
  say(`  limits: ${['maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage'].map((k) => `${k}=${L[k]}`).join(' ')}`);
  save();

  // GPU-family tests (VICREG_TUNING=gpu): ops, loss, net.
  if (!skipStages.has('tests')) {
    const jsonl = join(mkdtempSync(join(tmpdir(), 'gpu-check-')), 'tests.jsonl');
    const args = ['--jsonl', jsonl];
    // Small: lavapipe compiles the GPU-family kernels slowly; skip the biggest loss shapes.
    if (small) args.push('--skip', '\\((1024, 256|1000, 300|256, 2048)\\)');
    const r = await runChild('tests (VICREG_TUNING=gpu)', 'tests.mjs', args, small ? 900 : 150, { VICREG_TUNING: 'gpu' });
    const rows = existsSync(jsonl) ? readFileSync(jsonl, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status: string; name: string; file: string; ms: number; error?: string }) : [];
    const count = (s: string) => rows.filter((x) => x.status === s).length;
    stages.tests = {
      ...childSummary(r),
      tuning: 'gpu',
      passed: count('pass'),
      failed: count('fail'),
      skipped: count('skip'),
      failures: rows.filter((x) => x.status === 'fail').map((x) => ({ test: `${x.file} > ${x.name}`, error: x.error?.split('\n').slice(0, 8).join('\n') })),
      slowest: [...rows].sort((a, b) => b.ms - a.ms).slice(0, 8).map((x) => ({ test: `${x.file} > ${x.name}`, s: Math.round(x.ms / 100) / 10 })),
      output_tail: r.code === 0 ? undefined : tail(r.stdout + r.stderr),
    };
    save();
  }

  // Benchmarks beside tfjs, each kernel as a fraction of the fp32 peak.
  if (!skipStages.has('bench')) {
    const bench: Record<string, unknown> = {};
    stages.bench = bench;
    // Benches print their JSON list on stdout, on one line or pretty-printed over many.
    const parseRows = (s: string): Array<Record<string, unknown>> | null => {
      const candidates = [s.trim(), ...s.trim().split('\n').reverse().filter((l) => l.startsWith('[{')), s.slice(Math.max(0, s.indexOf('[\n')))];
      for (const c of candidates) {
        try {
          const v = JSON.parse(c);
          if (Array.isArray(v)) return v as Array<Record<string, unknown>>;
        } catch {
          /* next candidate */
        }
      }
      return null;
    };
    const peakRun = await runChild('bench peak', 'bench.mjs', ['peak', '--json'], small ? 120 : 30);
    const measured = (parseRows(peakRun.stdout)?.[0]?.gflops as number | undefined) ?? null;
    const nominalTflops = Number(val('--peak-tflops') ?? (/H100|H200/i.test(JSON.stringify(def?.info ?? {}) + String(adapter.nvidia_smi ?? '')) ? 67 : NaN));
    const peakGflops = Number.isFinite(nominalTflops) ? nominalTflops * 1000 : measured;
    result.fp32_peak = { gflops: peakGflops, source: Number.isFinite(nominalTflops) ? `nominal ${nominalTflops} TFLOP/s (no tensor cores)` : 'measured FMA peak (bench peak)', measured_fma_gflops: measured };
    bench.peak = { ...childSummary(peakRun), gflops: measured };
    say(`fp32 peak for fractions: ${peakGflops} GFLOP/s (${(result.fp32_peak as { source: string }).source}); measured FMA peak ${measured}`);
    const benches: Array<[string, string[], number]> = small
      ? [['loss', ['--shapes', '128x256,256x1024', '--samples', '2'], 300], ['matmul', ['--quick'], 400], ['conv', ['--quick'], 500]]
      : [['loss', [], 50], ['matmul', [], 60], ['conv', [], 75]];
    for (const [b, extra, cap] of benches) {
      const r = await runChild(`bench ${b}`, 'bench.mjs', [b, '--json', ...extra], cap);
      const rows = parseRows(r.stdout);
      for (const row of rows ?? []) {
        if (typeof row.gflops === 'number' && peakGflops) row.fp32_peak_fraction = row.gflops / peakGflops;
        if (typeof row.peer_gflops === 'number' && peakGflops) row.peer_fp32_peak_fraction = row.peer_gflops / peakGflops;
      }
      bench[b] = { ...childSummary(r), rows, stderr_tail: rows ? undefined : tail(r.stderr) };
      save();
    }
  }

  // A few hundred steps of the full preset: images/s and the loss falling.
  if (!skipStages.has('train')) {
    const out = mkdtempSync(join(tmpdir(), 'gpu-check-train-'));
    const data = val('--data') ?? (existsSync(join(here, 'data', 'train-images-idx3-ubyte.gz')) ? join(here, 'data') : undefined);
    const args = ['--preset', 'full', '--out', out, '--no-eval', ...(data ? ['--data', data] : [])];
    // Full: 300 steps, a step record every 20 (the preset's logEvery). Small: the full model is
    // ~60 s per step on a loaded lavapipe, so 4 steps; only the last one is logged (no loss trend).
    args.push(...(small ? ['--batch', '16', '--train-limit', '64', '--epochs', '1'] : ['--train-limit', '25600', '--epochs', '3']));
    const r = await runChild('train (full preset)', 'train.mjs', args, small ? 600 : 150);
    const metrics = join(out, 'metrics.jsonl');
    const recs = existsSync(metrics) ? readFileSync(metrics, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number | string>) : [];
    const steps = recs.filter((x) => x.type === 'step');
    const losses = steps.map((x) => x.loss as number);
    const q = Math.max(1, Math.floor(losses.length / 4));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(a.length, 1);
    const ips = steps.slice(1).map((x) => x.images_per_sec as number).filter((v) => v > 0).sort((a, b) => a - b);
    const summaryPath = join(out, 'summary.json');
    const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Record<string, unknown>) : null;
    stages.train = {
      ...childSummary(r),
      args,
      steps: steps.length ? steps[steps.length - 1]!.step : 0,
      loss_first: losses[0],
      loss_last: losses[losses.length - 1],
      loss_fell: losses.length >= 2 ? mean(losses.slice(-q)) < mean(losses.slice(0, q)) : null,
      images_per_sec_median: ips.length ? ips[Math.floor(ips.length / 2)] : null,
      images_per_sec_summary: summary?.images_per_sec ?? null,
      tuning: summary?.tuning ?? null,
      curve: steps.map((x) => ({ step: x.step, loss: x.loss, ips: x.images_per_sec })),
      output_tail: r.code === 0 ? undefined : tail(r.stdout + r.stderr),
    };
    say(`train: ${(stages.train as { steps: number }).steps} steps, loss ${losses[0]} -> ${losses[losses.length - 1]}, ${(stages.train as { images_per_sec_median: number }).images_per_sec_median} img/s (median)`);
    save();
  }

  const tests = stages.tests as { failed?: number; exit?: number } | undefined;
  result.ok = !!tests && tests.failed === 0 && tests.exit === 0;
  save();
  say(`\ngpu-check done in ${Math.round(elapsed())} s: ${outFile} (log ${logFile})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    result.error = (e as Error).stack ?? String(e);
    save();
    console.error(e);
    process.exit(1);
  },
);
