#!/usr/bin/env node
// npm run gpu-check -- [--small] [--pack] [check options]
// Builds dist/gpu-check/ (self-contained bundles: the check, the GPU-family tests with a vitest
// shim, the benches with tfjs inside, the training job; only `webgpu` stays external) and a
// Fashion-MNIST subset for the training stage, then runs the check here. With --pack it runs
// ../shared/gpu/pack.sh (Node, dawn.node, the Vulkan loader into .gpu/) instead and prints the
// device-tool command for a bare GPU machine (docs/gpu-check.md).
import { build } from 'esbuild';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'gpu-check');
const args = process.argv.slice(2);
const pack = args.includes('--pack');
const rest = args.filter((a) => a !== '--pack');
mkdirSync(out, { recursive: true });

// The files the GPU machine runs as tests: every op test, the loss and the net.
const testFiles = [
  ...readdirSync(join(root, 'test/ops')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/ops/${f}`),
  'test/gpu/runtime.test.ts',
  'test/gpu/matmul-core.test.ts',
  'test/vicreg/loss.test.ts',
  'test/train/net.test.ts',
].filter((f) => existsSync(join(root, f)));

const shim = join(root, 'bench/gpu-check/vitest-shim.ts');
// tfjs-grads.ts bundles tfjs's gradients with esbuild at run time; here they go into the bundle.
const staticGrads = {
  name: 'static-tfjs-grads',
  setup(b) {
    b.onLoad({ filter: /bench[\\/]peer[\\/]tfjs-grads\.ts$/ }, () => ({
      contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';\nexport function registerTfjsGradients() { return Promise.resolve(); }\n",
      loader: 'ts',
      resolveDir: root,
    }));
  },
};
const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['webgpu'], loader: { '.wgsl': 'text' },
  logLevel: 'error', minifyWhitespace: true, absWorkingDir: root,
  // CommonJS inside an ESM bundle (tfjs) calls require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
const t0 = Date.now();
const entry = [
  `import { __setFile } from ${JSON.stringify(shim)};`,
  `import { runTests } from ${JSON.stringify(join(root, 'bench/gpu-check/tests-main.ts'))};`,
  ...testFiles.map((f) => `__setFile(${JSON.stringify(f)}); await import(${JSON.stringify('./' + f)});`),
  'await runTests(process.argv.slice(2));',
].join('\n');
await Promise.all([
  build({ ...common, entryPoints: ['bench/gpu-check/check.ts'], outfile: join(out, 'check.mjs') }),
  build({ ...common, stdin: { contents: entry, resolveDir: root, loader: 'ts', sourcefile: 'gpu-check-tests.ts' }, outfile: join(out, 'tests.mjs'), alias: { vitest: shim } }),
  build({ ...common, entryPoints: ['bench/bench.ts'], outfile: join(out, 'bench.mjs'), plugins: [staticGrads] }),
  build({ ...common, entryPoints: ['src/cli/train.ts'], outfile: join(out, 'train.mjs') }),
]);

// Training data: the first images of each split (the whole set would not fit the 64 MiB carry).
function subsetIdx(src, dst, n) {
  const buf = gunzipSync(readFileSync(src));
  const dims = buf[3];
  const count = Math.min(n, buf.readUInt32BE(4));
  const per = dims === 3 ? buf.readUInt32BE(8) * buf.readUInt32BE(12) : 1;
  const head = Buffer.from(buf.subarray(0, 4 + 4 * dims));
  head.writeUInt32BE(count, 4);
  writeFileSync(dst, gzipSync(Buffer.concat([head, buf.subarray(4 + 4 * dims, 4 + 4 * dims + count * per)])));
}
const fashion = process.env.VICREG_FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
const dataDir = join(out, 'data');
const counts = { train: 25600, t10k: 1000 };
if (existsSync(join(fashion, 'train-images-idx3-ubyte.gz')) && !existsSync(join(dataDir, 'train-labels-idx1-ubyte.gz'))) {
  mkdirSync(dataDir, { recursive: true });
  for (const [split, n] of Object.entries(counts))
    for (const kind of ['images-idx3', 'labels-idx1']) subsetIdx(join(fashion, `${split}-${kind}-ubyte.gz`), join(dataDir, `${split}-${kind}-ubyte.gz`), n);
}
const du = (p) => (statSync(p).isDirectory() ? readdirSync(p).reduce((s, f) => s + du(join(p, f)), 0) : statSync(p).size);
const mib = (b) => (b / 2 ** 20).toFixed(1);
console.error(`[gpu-check] built ${relative(root, out)}/ (${mib(du(out))} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

if (pack) {
  const packer = join(root, '..', 'shared', 'gpu', 'pack.sh');
  if (!existsSync(join(root, '.gpu', 'enter.sh'))) execFileSync('bash', [packer], { stdio: 'inherit', cwd: root });
  const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).toString().split('\0').filter((f) => f && existsSync(join(root, f)));
  const treeBytes = tracked.reduce((s, f) => s + statSync(join(root, f)).size, 0);
  const total = treeBytes + du(join(root, '.gpu')) + du(out);
  console.log(`travels: tree ${mib(treeBytes)} MiB + .gpu ${mib(du(join(root, '.gpu')))} MiB + dist/gpu-check ${mib(du(out))} MiB = ${mib(total)} MiB (limit 64)`);
  console.log('device run: carry [".gpu", "dist/gpu-check"], timeout_s 590, command:');
  console.log('  source .gpu/enter.sh && node dist/gpu-check/check.mjs');
  process.exit(total < 64 * 2 ** 20 ? 0 : 1);
}

const child = spawn(process.execPath, [join(out, 'check.mjs'), ...rest], { stdio: 'inherit', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
