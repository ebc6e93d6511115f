#!/usr/bin/env node
// Runs a TypeScript entry point: bundles it with esbuild (WGSL imported as text,
// node_modules left external so that webgpu finds its dawn.node), then runs it
// in this process's Node with the remaining arguments.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dawnLogFilter } from './dawn-log-filter.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs ENTRY.ts [args...]');
  process.exit(2);
}
const outDir = join(root, '.cache', 'run');
mkdirSync(outDir, { recursive: true });
// Under plain `mpirun -np N node scripts/run.mjs ...` every rank bundles: one file each, not one written N times at once.
const rank = process.env.OMPI_COMM_WORLD_RANK;
const outfile = join(outDir, basename(entry).replace(/\.ts$/, rank === undefined ? '.mjs' : `.rank${rank}.mjs`));
try {
  await build({
    entryPoints: [resolve(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    sourcemap: 'inline',
    logLevel: 'error',
  });
} catch {
  process.exit(1);
}
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
// stderr through a filter that drops Dawn's two start-up warnings (dawn-log-filter.mjs).
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: ['inherit', 'inherit', 'pipe'], env });
const filter = dawnLogFilter((t) => process.stderr.write(t));
child.stderr.setEncoding('utf8');
child.stderr.on('data', (t) => filter.push(t));
const stderrDone = new Promise((resolve) => child.stderr.on('end', resolve));
// Forward termination signals, so `kill`/Ctrl-C reach the entry point (it may checkpoint and
// exit with its own code) instead of killing this wrapper and orphaning it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', async (code, signal) => {
  await stderrDone;
  filter.end();
  process.exit(code ?? (signal ? 1 : 0));
});
