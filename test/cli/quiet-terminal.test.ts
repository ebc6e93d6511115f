/**
 * Issue 12 item 6: `npm run vicreg -- loss A.npy B.npy` shows only the engine's own lines.
 * Dawn prints two "artificially reduced" warnings at adapter enumeration whatever limits are
 * asked (docs/gpu-notes.md); the launcher (scripts/run.mjs) drops exactly those.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dawnLogFilter } from '../../scripts/dawn-log-filter.mjs';
import { encodeNpy } from '../../src/io/npy.js';
import { fixedVector } from '../ref/vicreg.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DAWN =
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n' +
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';

function filtered(text: string, chunk: number): string {
  let out = '';
  const f = dawnLogFilter((t) => (out += t));
  for (let i = 0; i < text.length; i += chunk) f.push(text.slice(i, i + chunk));
  f.end();
  return out;
}

describe("Dawn's start-up warnings", () => {
  it('the filter drops exactly those two lines, in any chunking, and passes partial lines at once', () => {
    for (const chunk of [1, 5, 64, 10_000]) {
      expect(filtered(`${DAWN}vicreg: error: x\n`, chunk)).toBe('vicreg: error: x\n');
      expect(filtered('Warning: something else\nWarning: maxDynamicUniform\n', chunk)).toBe('Warning: something else\nWarning: maxDynamicUniform\n');
      expect(filtered('step 1/9\rstep 2/9\r', chunk)).toBe('step 1/9\rstep 2/9\r');
    }
    let seen = '';
    const f = dawnLogFilter((t) => (seen += t));
    f.push('step 3/9\r'); // a progress line must not wait for a newline
    expect(seen).toBe('step 3/9\r');
  });

  it('npm run vicreg -- loss prints no Warning: lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vicreg-quiet-'));
    try {
      const { a, b } = fixedVector();
      writeFileSync(join(dir, 'A.npy'), encodeNpy(a, [8, 4]));
      writeFileSync(join(dir, 'B.npy'), encodeNpy(b, [8, 4]));
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/run.mjs'), 'src/cli/vicreg.ts', 'loss', join(dir, 'A.npy'), join(dir, 'B.npy')], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/loss\s+9\.2315/);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toMatch(/Warning:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
