#!/usr/bin/env node
// `npm test`: everything CI checks, in one command (the README's test command; .ci/run runs it):
//   1. the whole suite with VICREG_TUNING=cpu, then with VICREG_TUNING=gpu (src/gpu/device.ts),
//      so the GPU family's kernels (shared-memory matmul loop, implicit-GEMM conv, GPU tiles)
//      run against the float64 references on lavapipe too;
//   2. a subset under the Khronos Vulkan validation layer, asserted silent (scripts/validate.sh);
//   3. the loss and net tests on Dawn's OpenGL ES backend (compatibility mode).
// `npm test -- ARGS` (vitest arguments, e.g. a file) runs step 1 only; with VICREG_TUNING set,
// one family only. Exit status: nonzero if any step failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const families = process.env.VICREG_TUNING ? [process.env.VICREG_TUNING] : ['cpu', 'gpu'];
const steps = families.map((tuning) => ({ name: `suite, VICREG_TUNING=${tuning}`, cmd: process.execPath, argv: [vitest, 'run', ...args], env: { VICREG_TUNING: tuning } }));
if (args.length === 0 && !process.env.VICREG_TUNING) {
  if (existsSync('/usr/lib/chromium/libVkLayer_khronos_validation.so')) {
    steps.push({ name: 'Vulkan validation layer subset', cmd: 'bash', argv: [join(root, 'scripts/validate.sh')], env: {} });
  } else {
    console.log('(no Khronos validation layer: install chromium (scripts/setup.sh) to run the validation subset)');
  }
  steps.push({
    name: 'OpenGL ES backend',
    cmd: process.execPath,
    argv: [vitest, 'run', 'test/gpu/backend.test.ts', 'test/vicreg/loss.test.ts', 'test/train/net.test.ts'],
    env: { VICREG_BACKEND: 'opengles' },
  });
}
// Each vitest step also writes a JSON report, summed into the closing 'N passed, N failed' line.
const reports = mkdtempSync(join(tmpdir(), 'vicreg-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failed = [];
for (const [i, s] of steps.entries()) {
  console.log(`\n=== ${s.name} ===`);
  const t0 = Date.now();
  const json = join(reports, `${i}.json`);
  const argv = s.argv[0] === vitest ? [...s.argv, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`] : s.argv;
  const r = spawnSync(s.cmd, argv, { stdio: 'inherit', cwd: root, env: { ...process.env, ...s.env } });
  if (existsSync(json)) {
    const j = JSON.parse(readFileSync(json, 'utf8'));
    totals.passed += j.numPassedTests ?? 0;
    totals.failed += j.numFailedTests ?? 0;
    totals.skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  }
  const code = r.status ?? 1;
  console.log(`=== ${s.name}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s ===`);
  if (code !== 0) failed.push(s.name);
}
rmSync(reports, { recursive: true, force: true });
if (failed.length) console.log(`\nfailed: ${failed.join('; ')}`);
// A failed step with no failed test (a crash, the validation script) still counts as a failure.
console.log(`\n${totals.passed} passed, ${Math.max(totals.failed, failed.length ? 1 : 0)} failed, ${totals.skipped} skipped`);
process.exit(failed.length ? 1 : 0);
