/**
 * The browser example (examples/browser) for real: built with `npm run example:browser`'s script,
 * served by examples/browser/serve.mjs on 127.0.0.1, opened in Debian's headless chromium on
 * SwiftShader's WebGPU. Small synthetic Fashion-MNIST .gz files go in through the page's file
 * inputs; the page gunzips them (DecompressionStream), trains the smoke preset and shows the
 * loss terms and images/s. All requests but the local server are blocked; console errors fail
 * the test. `EXAMPLE_SCREENSHOT=path.png` saves a screenshot of the page after training.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, offlinePage } from '../helpers/chromium.js';
import { idxGz, synthSplit } from '../fixtures/synth-fashion.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Smoke preset: batch 32, 2 epochs; 480 images = 15 steps an epoch, 30 steps, 3 read-backs. */
const N = 480;

interface Reading {
  step: number;
  epoch: number;
  loss: number;
  invariance: number;
  variance: number;
  covariance: number;
  imagesPerSec: number;
}

describe('the browser example page (examples/browser) in headless Chromium', () => {
  let browser: Browser | undefined;
  let server: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'examples/browser/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/no Node modules/);
    server = spawn(process.execPath, [join(ROOT, 'examples/browser/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server!.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
        if (m) resolve(m[0]);
      });
      server!.on('exit', (code) => reject(new Error(`serve.mjs exited (${code}): ${text}`)));
    });
    if (!existsSync(CHROMIUM)) return;
    browser = await launchChromium({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  it('reads the picked .gz files and trains the smoke preset, showing the loss terms and images/s', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install -y chromium)`);
    if (!browser) throw new Error(`chromium at ${CHROMIUM} did not start (see the beforeAll error)`);
    const { page: tab, errors, blocked } = await offlinePage(browser, (u) => u.startsWith(url), { viewport: { width: 820, height: 720 } });
    const t0 = performance.now();
    await tab.goto(url);
    await tab.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 20_000 });

    const gz = idxGz(synthSplit(N, 1));
    await tab.setInputFiles('#images', { name: 'train-images-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: gz.images });
    await tab.setInputFiles('#labels', { name: 'train-labels-idx1-ubyte.gz', mimeType: 'application/gzip', buffer: gz.labels });
    await tab.selectOption('#preset', 'smoke');
    await tab.click('#start');
    await tab.waitForSelector('body[data-state="done"], body[data-state="error"]', { state: 'attached', timeout: 50_000 });
    const ex = await tab.evaluate(() => window.vicregExample);
    const shown = await tab.evaluate(() => ['step', 'loss', 'inv', 'var', 'cov', 'ips'].map((id) => document.getElementById(id)!.textContent));
    const status = await tab.textContent('#status');
    if (process.env.EXAMPLE_SCREENSHOT) await tab.screenshot({ path: process.env.EXAMPLE_SCREENSHOT, fullPage: true });
    const seconds = (performance.now() - t0) / 1000;
    await tab.context().close();

    expect(ex.error).toBe('');
    expect(ex.state).toBe('done');
    expect(ex.n).toBe(N);
    expect(ex.adapter).toMatch(/swiftshader/i);
    // Read back every 10 steps: 30 steps -> steps 10, 20, 30.
    const rs = ex.readings as Reading[];
    expect(rs.map((r) => r.step)).toEqual([10, 20, 30]);
    expect(rs.map((r) => r.epoch)).toEqual([1, 2, 2]);
    for (const r of rs) {
      for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) expect(Number.isFinite(r[k]), `step ${r.step} ${k}`).toBe(true);
      // The official weights: loss = 25 inv + 25 var + 1 cov.
      expect(Math.abs(r.loss - (25 * r.invariance + 25 * r.variance + r.covariance))).toBeLessThan(1e-3 * Math.abs(r.loss));
      expect(r.imagesPerSec).toBeGreaterThan(0);
    }
    expect(new Set(rs.map((r) => r.loss)).size).toBe(rs.length);
    // The page shows the last reading.
    const last = rs[rs.length - 1]!;
    expect(shown[0]).toBe('30 / 30');
    expect(Number(shown[1])).toBeCloseTo(last.loss, 3);
    expect(Number(shown[2])).toBeCloseTo(last.invariance, 3);
    expect(Number(shown[3])).toBeCloseTo(last.variance, 3);
    expect(Number(shown[4])).toBeCloseTo(last.covariance, 3);
    expect(Number(shown[5])).toBeGreaterThan(0);
    expect(status).toMatch(/^Finished at step 30: smoke preset on 480 images/);

    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    console.log(
      `browser example: ${ex.adapter}, page ${seconds.toFixed(1)} s; losses ${rs.map((r) => r.loss.toFixed(4)).join(' ')}; images/s ${rs.map((r) => r.imagesPerSec.toFixed(0)).join(' ')}`,
    );
  }, 90_000);
});
