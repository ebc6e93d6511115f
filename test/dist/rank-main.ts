/**
 * One rank of the data-parallel test (test/dist/data-parallel.test.ts), started by
 * `mpirun -np N node scripts/run.mjs test/dist/rank-main.ts OUT DATA EPOCHS BATCH`: trains the
 * smoke preset with the library's train() and writes every step's loss terms to OUT/losses.rankR.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCollective } from '../../src/dist/collective.js';
import { prepareRankEnvironment } from '../../src/dist/launch.js';
import { createGpu } from '../../src/gpu/device.js';
import { loadFashionMnist } from '../../src/data/fashion.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import type { VicregTerms } from '../../src/vicreg/loss.js';

const [out, data, epochs, batch] = process.argv.slice(2);
prepareRankEnvironment();
const c = await openCollective();
const gpu = await createGpu();
const losses: VicregTerms[] = [];
const res = await train({
  outDir: out!,
  config: resolveConfig('smoke', { epochs: Number(epochs), batchSize: Number(batch) }),
  data: loadFashionMnist(data!),
  gpu,
  collective: c,
  evaluate: false,
  outputs: false,
  stderr: process.env.VICREG_DEBUG ? process.stderr : { write: () => true },
  onLoss: (s, t) => (losses[s] = t),
});
writeFileSync(join(out!, `losses.rank${c.rank}.json`), JSON.stringify({ status: res.status, step: res.step, ranks: c.size, commSeconds: c.commSeconds, calls: c.calls, losses }));
c.finalize();
process.exit(0);
