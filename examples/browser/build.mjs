#!/usr/bin/env node
// Builds the browser example: the package's browser build (scripts/build.mjs --lib), then
// examples/browser/main.ts bundled with esbuild, 'vicreg-webgpu' resolved by name through
// package.json "exports" (browser condition), into examples/browser/dist/main.js. Fails if the
// bundle pulls in a Node module. `npm run example:browser` runs this.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--lib'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const r = await build({
  entryPoints: [join(here, 'main.ts')],
  outfile: join(here, 'dist/main.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  conditions: ['browser'],
  metafile: true,
  logLevel: 'warning',
  // Not tsconfig.json: its `paths` maps the package name to src/ for type-checking only.
  tsconfigRaw: {},
});
const inputs = Object.keys(r.metafile.inputs).map((p) => relative(root, join(root, p)));
const bad = inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/webgpu/') || p.startsWith('src/'));
if (bad.length) throw new Error(`examples/browser/dist/main.js must use the package's browser build only, with no Node modules: ${bad.join(', ')}`);
if (!inputs.includes('dist/browser.mjs')) throw new Error(`examples/browser/dist/main.js does not use dist/browser.mjs (inputs: ${inputs.join(', ')})`);
if (r.warnings.length) throw new Error(`esbuild warnings: ${r.warnings.length}`);
console.log(`built examples/browser/dist/main.js (${inputs.length} inputs, no Node modules)
serve it:  node examples/browser/serve.mjs          (or: python3 -m http.server -d examples/browser 8080)
then open  http://127.0.0.1:8080/ in Chromium or Chrome with WebGPU, and pick
           /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz`);
