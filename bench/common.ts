/** Shared benchmark helpers: wall-clock timing around gpu.sync(), medians, tables. */
import type { Gpu } from '../src/gpu/device.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface TimeOptions {
  /** Samples to take (median reported). */
  samples?: number;
  /** Target wall time per sample, ms: small kernels are repeated inside one submit. */
  minSampleMs?: number;
}

/**
 * Median milliseconds of one `record()` call (which records dispatches on `gpu`),
 * measured as wall time of repeated calls in one submit followed by sync.
 * The first call (compilation, pool warm-up) is excluded.
 */
export async function timeGpu(gpu: Gpu, record: () => void, o: TimeOptions = {}): Promise<number> {
  const samples = o.samples ?? 5;
  const minMs = o.minSampleMs ?? 150;
  record();
  await gpu.sync();
  let t0 = performance.now();
  record();
  await gpu.sync();
  const once = Math.max(performance.now() - t0, 0.01);
  const reps = Math.max(1, Math.min(1000, Math.round(minMs / once)));
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    t0 = performance.now();
    for (let r = 0; r < reps; r++) record();
    await gpu.sync();
    out.push((performance.now() - t0) / reps);
  }
  return median(out);
}

/** Same protocol for an async-synchronised peer (e.g. tfjs). */
export async function timeAsync(run: () => void, sync: () => Promise<void>, o: TimeOptions = {}): Promise<number> {
  const samples = o.samples ?? 5;
  const minMs = o.minSampleMs ?? 150;
  run();
  await sync();
  let t0 = performance.now();
  run();
  await sync();
  const once = Math.max(performance.now() - t0, 0.01);
  const reps = Math.max(1, Math.min(1000, Math.round(minMs / once)));
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    await sync();
    out.push((performance.now() - t0) / reps);
  }
  return median(out);
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** Fixed-width table for human output (stderr when --json owns stdout). */
export function table(rows: Array<Record<string, string | number>>, out: (s: string) => void): void {
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]!);
  const w = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k] ?? '').length)));
  out(keys.map((k, i) => k.padStart(w[i]!)).join('  '));
  for (const r of rows) out(keys.map((k, i) => String(r[k] ?? '').padStart(w[i]!)).join('  '));
}

/** Deterministic inputs in [-0.5, 0.5) (an LCG): the same data for ours and the peer. */
export function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}
