#!/usr/bin/env node
// Builds the package: dist/browser.mjs (the `browser` condition: self-contained, no Node
// built-ins, createGpu() on navigator.gpu), dist/node.mjs (the `node` condition: webgpu and
// other packages stay external, webgpu finds dawn.node relative to itself), their type
// declarations in dist/types (tsc), and the CLI/bench bundles.
// `--lib`: only the two library bundles (the browser test builds them this way).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (p) => join(root, p);
const loader = { '.wgsl': 'text' };
const node = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', loader, logLevel: 'warning' };
// '#platform-gpu' (package.json "imports") resolves by condition: navigator.ts here, dawn.ts for node.
const browser = { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', loader, logLevel: 'warning', metafile: true };

const b = await build({ ...browser, entryPoints: [at('src/index.ts')], outfile: at('dist/browser.mjs') });
const nodeBuiltins = Object.keys(b.metafile.inputs).filter((p) => p.startsWith('node:') || /node_modules\/webgpu\//.test(p));
if (nodeBuiltins.length) throw new Error(`dist/browser.mjs must not import Node modules: ${nodeBuiltins.join(', ')}`);
await build({ ...node, entryPoints: [at('src/node.ts')], outfile: at('dist/node.mjs') });

if (!process.argv.includes('--lib')) {
  execFileSync(process.execPath, [at('node_modules/typescript/bin/tsc'), '-p', at('tsconfig.build.json')], { stdio: 'inherit' });
  // The declarations use WebGPU's global types (GPUDevice, GPUBuffer, ...).
  for (const f of ['index.d.ts', 'node.d.ts']) {
    const p = at(`dist/types/${f}`);
    writeFileSync(p, `/// <reference types="@webgpu/types" />\n${readFileSync(p, 'utf8')}`);
  }
  await build({ ...node, entryPoints: [at('src/cli/vicreg.ts')], outfile: at('dist/vicreg.mjs') });
  await build({ ...node, entryPoints: [at('bench/bench.ts')], outfile: at('dist/bench.mjs') });
  await build({ ...node, entryPoints: [at('src/cli/train.ts')], outfile: at('dist/train.mjs') });
}
console.log('built dist/');
