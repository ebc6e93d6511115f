#!/usr/bin/env node
// Builds the library bundle dist/index.mjs (webgpu stays external: it finds dawn.node
// relative to itself) and the CLI/bench bundles.
import { build } from 'esbuild';
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', loader: { '.wgsl': 'text' } };
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.mjs' });
await build({ ...common, entryPoints: ['src/cli/vicreg.ts'], outfile: 'dist/vicreg.mjs' });
await build({ ...common, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.mjs' });
await build({ ...common, entryPoints: ['bench/train.ts'], outfile: 'dist/train.mjs' });
console.log('built dist/');
