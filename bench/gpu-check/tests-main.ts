/**
 * Runs the test files bundled with the vitest shim (scripts/gpu-check.mjs generates the entry
 * that imports them, then calls this). One device for all files (test/helpers/gpu.ts caches it).
 *   node dist/gpu-check/tests.mjs [--jsonl FILE] [--grep RE] [--skip RE]
 * Exit 0 when every selected test passed, 1 otherwise.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { __run, type TestResult } from './vitest-shim.js';

export async function runTests(argv: string[]): Promise<void> {
  const val = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const jsonl = val('--jsonl');
  const grep = val('--grep');
  const skip = val('--skip');
  if (jsonl) writeFileSync(jsonl, '');
  const t0 = performance.now();
  const onResult = (r: TestResult) => {
    if (jsonl) appendFileSync(jsonl, JSON.stringify(r) + '\n');
    if (r.status === 'skip') return;
    const mark = r.status === 'pass' ? 'ok  ' : 'FAIL';
    process.stdout.write(`${mark} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.file} > ${r.name}\n`);
    if (r.error) process.stdout.write(r.error.split('\n').slice(0, 6).map((l) => `       ${l}`).join('\n') + '\n');
  };
  const results = await __run({ grep: grep ? new RegExp(grep) : undefined, skip: skip ? new RegExp(skip) : undefined, onResult });
  const n = (s: string) => results.filter((r) => r.status === s).length;
  process.stdout.write(`tests: ${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  process.exit(n('fail') ? 1 : 0);
}
