/** The package's `vicreg` bin: `vicreg train ...` reaches the training job, the rest the vicreg CLI. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const bin = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.vicreg as string;
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, bin), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('vicreg bin', () => {
  it('dispatches train to the training job and other commands to the vicreg CLI', () => {
    const train = run('train', '--help');
    expect(train.status).toBe(0);
    expect(train.stdout).toMatch(/^usage: npm run train -- --out DIR/);
    const help = run('--help');
    expect(help.status).toBe(0);
    for (const c of ['loss', 'report', 'export', 'train']) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const bad = run('train', '--epochs', 'x', '--out', '/tmp/x');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("vicreg: error: --epochs needs a finite number (got 'x')");
    expect(run('nope').status).toBe(2);
  });
});
