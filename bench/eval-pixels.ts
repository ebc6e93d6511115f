/**
 * Evaluation protocols on raw Fashion-MNIST pixels in [0,1] (R = 784), as a check of
 * src/eval against published figures: weighted kNN (k=20, T=0.07) ~85.4%, logistic
 * regression ~84.2%.
 *
 *   node scripts/run.mjs bench/eval-pixels.ts [--test N] [--train N] [--skip-knn] [--skip-probe] [--epochs E]
 *       [--synthetic R]   (timing only: random features of width R with the real labels)
 */
import { createGpu } from '../src/gpu/device.js';
import { loadFashionMnist } from '../src/data/fashion.js';
import { knnTop1 } from '../src/eval/knn.js';
import { linearProbe } from '../src/eval/linear-probe.js';
import { releaseFeatures, uploadFeatures } from '../src/eval/features.js';
import { parseOptions, type OptionValues } from '../src/cli/args.js';

const count = { type: 'number', integer: true, min: 1 } as const;
let o: OptionValues;
try {
  o = parseOptions(process.argv.slice(2), { test: count, train: count, epochs: count, synthetic: count, 'skip-knn': { type: 'boolean' }, 'skip-probe': { type: 'boolean' } });
} catch (e) {
  console.error(`eval-pixels: ${(e as Error).message}`);
  process.exit(2);
}
const arg = (name: string) => o[name] as number | undefined;
const has = (name: string) => !!o[name];

const t0 = performance.now();
const ds = loadFashionMnist();
const synth = arg('synthetic') ?? 0;
const R = synth || ds.height * ds.width;
const ntr = Math.min(arg('train') ?? ds.train.n, ds.train.n);
const nte = Math.min(arg('test') ?? ds.test.n, ds.test.n);
let seed = 1;
const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
const toF32 = (u8: Uint8Array, n: number) =>
  synth ? Float32Array.from({ length: n * R }, () => uniform() - 0.5) : Float32Array.from(u8.subarray(0, n * R), (v) => v / 255);
const xtr = toF32(ds.train.images, ntr);
const xte = toF32(ds.test.images, nte);
const ytr = ds.train.labels.subarray(0, ntr);
const yte = ds.test.labels.subarray(0, nte);
console.log(`data: ${synth ? 'RANDOM features (timing only)' : 'raw pixels in [0,1]'}, ${ntr} train, ${nte} test, R=${R} (${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);

const gpu = await createGpu();
console.log(`adapter: ${gpu.adapterName}`);
const tr = uploadFeatures(gpu, xtr, ntr, R);
const te = uploadFeatures(gpu, xte, nte, R);
await gpu.sync();

if (!has('skip-knn')) {
  const t = performance.now();
  const acc = await knnTop1(gpu, tr, ytr, te, yte, { k: 20, temperature: 0.07 });
  console.log(`kNN k=20 T=0.07: top-1 ${(acc * 100).toFixed(2)}%  (${((performance.now() - t) / 1000).toFixed(1)} s)  [published ~85.4%]`);
}
if (!has('skip-probe')) {
  const t = performance.now();
  const epochs = arg('epochs');
  const res = await linearProbe(gpu, tr, ytr, te, yte, { epochs });
  const dt = (performance.now() - t) / 1000;
  console.log(`linear probe (${res.epochs} epochs, batch ${res.batch}, lr ${res.lr}): top-1 ${(res.top1 * 100).toFixed(2)}%  (${dt.toFixed(1)} s)  [published ~84.2%]`);
  console.log(`  train loss per epoch: ${res.losses.map((l) => l.toFixed(4)).join(' ')}`);
}
releaseFeatures(tr);
releaseFeatures(te);
process.exit(0);
