#!/usr/bin/env node
// `npm test [-- vitest args]`: the suite once per kernel family, VICREG_TUNING=cpu then
// VICREG_TUNING=gpu (src/gpu/device.ts), so the GPU family's kernels (shared-memory matmul
// loop, implicit-GEMM conv, GPU tiles) run against the float64 references on lavapipe too.
// With VICREG_TUNING already set, one run in that family. Exit status: nonzero if either failed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const vitest = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const families = process.env.VICREG_TUNING ? [process.env.VICREG_TUNING] : ['cpu', 'gpu'];
const failed = [];
for (const tuning of families) {
  console.log(`\n=== kernel family: VICREG_TUNING=${tuning} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run', ...args], { stdio: 'inherit', env: { ...process.env, VICREG_TUNING: tuning } });
  const code = r.status ?? 1;
  console.log(`=== VICREG_TUNING=${tuning}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s ===`);
  if (code !== 0) failed.push(tuning);
}
if (failed.length) console.log(`\nfailed in: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
