/**
 * One rank of the data-parallel test (test/dist/data-parallel.test.ts), started by
 * `mpirun -np N node scripts/run.mjs test/dist/rank-main.ts OUT DATA EPOCHS BATCH [PRESET [TRAIN_LIMIT]]`:
 * trains (default: the smoke preset) with the library's train() and writes every step's loss
 * terms, time and communication seconds to OUT/losses.rankR.json (also the measurements of
 * docs/distributed.md).
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

const [out, data, epochs, batch, preset, limit] = process.argv.slice(2);
prepareRankEnvironment();
const c = await openCollective();
const gpu = await createGpu();
const losses: VicregTerms[] = [];
// Per step: wall-clock ms at its loss read-back and communication seconds so far.
const at: number[] = [];
const comm: number[] = [];
const res = await train({
  outDir: out!,
  config: resolveConfig(preset ?? 'smoke', { epochs: Number(epochs), batchSize: Number(batch), ...(limit ? { trainLimit: Number(limit), testLimit: 100 } : {}) }),
  data: loadFashionMnist(data!),
  gpu,
  collective: c,
  evaluate: false,
  outputs: false,
  stderr: process.env.VICREG_DEBUG ? process.stderr : { write: () => true },
  onLoss: (s, t) => {
    losses[s] = t;
    at[s] = performance.now();
    comm[s] = c.commSeconds;
  },
});
writeFileSync(join(out!, `losses.rank${c.rank}.json`), JSON.stringify({ status: res.status, step: res.step, ranks: c.size, commSeconds: c.commSeconds, calls: c.calls, at, comm, losses }));
c.finalize();
process.exit(0);
