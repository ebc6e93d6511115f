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

export { randn } from './rand.js';

// The comparison helpers live in check.ts (the shared op-test harness).
export { relMaxErr } from './check.js';
