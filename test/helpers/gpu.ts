import { createGpu, type Gpu, type Tuning } from '../../src/gpu/device.js';

let gpu: Promise<Gpu> | null = null;
/** One device per test file (vitest forks a process per file), in VICREG_TUNING's family. */
export function testGpu(): Promise<Gpu> {
  return (gpu ??= createGpu());
}

const tuned = new Map<Tuning, Promise<Gpu>>();
/** A device pinned to one kernel family whatever VICREG_TUNING says (tests of one family). */
export function tunedGpu(tuning: Tuning): Promise<Gpu> {
  let g = tuned.get(tuning);
  // The file's own device when it already has this tuning (one device instead of two).
  if (!g) tuned.set(tuning, (g = testGpu().then((base) => (base.tuning === tuning ? base : createGpu({ tuning })))));
  return g;
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), for test inputs. */
export function randn(n: number, seed = 1, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

// The comparison helpers live in check.ts (the shared op-test harness).
export { relMaxErr } from './check.js';
