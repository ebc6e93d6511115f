#!/usr/bin/env node
// The `vicreg` command of the package's "bin": `npx vicreg train ...` (the main job,
// src/cli/train.ts) or `npx vicreg loss|report|export ...` (src/cli/vicreg.ts). The npm
// scripts (`npm run train`, `npm run vicreg`) run the same entry points.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const entry = argv[0] === 'train' ? ['src/cli/train.ts', ...argv.slice(1)] : ['src/cli/vicreg.ts', ...argv];
// Ctrl-C reaches the whole process group: the child checkpoints and exits; this wrapper waits.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {});
const r = spawnSync(process.execPath, [join(root, 'scripts', 'run.mjs'), ...entry], { stdio: 'inherit' });
process.exit(r.status ?? (r.signal ? 128 + 2 : 1));
