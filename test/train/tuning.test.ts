/**
 * The two kernel families train the same model: a few steps of the smoke preset with a
 * CPU-tuned and a GPU-tuned device (explicit `tuning` options win over VICREG_TUNING, so this
 * compares the two families in either CI run) give the same losses to float32 tolerance.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu } from '../../src/gpu/device.js';
import { resolveConfig } from '../../src/train/config.js';
import { train } from '../../src/train/loop.js';
import type { FashionMnist, Split } from '../../src/data/fashion.js';
import type { VicregTerms } from '../../src/vicreg/loss.js';
import { expectRel } from '../helpers/check.js';
import { randn } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'vicreg-tuning-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** n 28x28 images: a bright box per class on a noisy background (in memory, no idx files). */
function split(n: number, seed: number): Split {
  const noise = randn(n * 784, seed);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels[i] = c;
    for (let p = 0; p < 784; p++) {
      const [y, x] = [Math.floor(p / 28), p % 28];
      const box = Math.abs(x - 14) < 3 + c / 2 && Math.abs(y - 14) < 12 - c;
      images[i * 784 + p] = Math.max(0, Math.min(255, (box ? 160 + 8 * c : 20) + 40 * noise[i * 784 + p]!));
    }
  }
  return { images, labels, n };
}
const data: FashionMnist = { train: split(320, 1), test: split(100, 2), height: 28, width: 28 };

const STEPS = 6;
async function losses(tuning: 'cpu' | 'gpu'): Promise<VicregTerms[]> {
  const gpu = await createGpu({ tuning });
  expect(gpu.tuning).toBe(tuning);
  const out: VicregTerms[] = [];
  const quiet = { write: () => true, isTTY: false };
  const res = await train({
    outDir: join(tmp, tuning),
    config: resolveConfig('smoke'),
    data,
    gpu,
    stderr: quiet,
    evaluate: false,
    outputs: false,
    stopAfterStep: STEPS,
    onLoss: (s, t) => void (out[s] = t),
  });
  expect(res.step).toBe(STEPS);
  return out;
}

describe('training in both kernel families', () => {
  it(`the first ${STEPS} steps' losses agree to float32 tolerance`, async () => {
    const cpu = await losses('cpu');
    const gpu = await losses('gpu');
    expect(cpu).toHaveLength(STEPS);
    expect(gpu).toHaveLength(STEPS);
    // Same data, augmentations and initial weights; only the summation order of the
    // kernels differs, and its float32 rounding grows a little with every update.
    for (let s = 0; s < STEPS; s++)
      for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) {
        if (Math.abs(cpu[s]![k]) < 1e-6) expect(Math.abs(gpu[s]![k]), `step ${s} ${k}`).toBeLessThan(1e-6);
        else expectRel(gpu[s]![k], cpu[s]![k], 1e-4, `step ${s} ${k}`);
      }
    // Not a vacuous comparison: the run moves (the loss changes between steps).
    expect(cpu[STEPS - 1]!.loss).not.toBe(cpu[0]!.loss);
  });
});
