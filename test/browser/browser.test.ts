/**
 * The engine in a web page: the package's browser build (resolved by name through
 * package.json "exports", browser condition) bundled with esbuild into a page, served from
 * 127.0.0.1 and run in Debian's headless chromium on SwiftShader's WebGPU, on a device with
 * WebGPU's default limits. Checks the fixed VICReg vector, the loss and both gradients against
 * the float64 reference (both forms), a matmul and a conv forward/backward against their
 * references, and training steps of the smoke net against the same steps in Node. All network
 * requests but the local server are blocked; console errors fail the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, offlinePage } from '../helpers/chromium.js';
import { testGpu } from '../helpers/gpu.js';
import { expectClose, relErr } from '../helpers/check.js';
import { vicregRef, fixedVector } from '../ref/vicreg.js';
import { matmulRef } from '../ref/linear.js';
import { convBackwardRef, convForwardRef } from '../ref/conv.js';
import * as engine from '../../src/index.js';
import { resolveConfig } from '../../src/train/config.js';
import { CONV, LOSS_SHAPES, MATMUL, rand, smokeSteps, views, type SmokeConfig } from './cases.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STEPS = 4;
const cfg = resolveConfig('smoke');
const SMOKE: SmokeConfig = {
  model: cfg.model,
  batchSize: cfg.batchSize,
  seed: cfg.seed,
  baseLr: cfg.baseLr,
  weightDecay: cfg.weightDecay,
  larsEta: cfg.larsEta,
  lambda: cfg.lambda,
  mu: cfg.mu,
  nu: cfg.nu,
  size: cfg.augment.size ?? 16,
};

interface Terms {
  form: string;
  loss: number;
  invariance: number;
  variance: number;
  covariance: number;
}
interface PageResult {
  own: { name: string; maxStorageBuffersPerShaderStage: number };
  adapter: Record<string, string>;
  tuning: string;
  limits: Record<string, number>;
  loss: { fixed: Terms[]; shapes: Array<Terms & { n: number; d: number; g1: number[]; g2: number[] }> };
  matmul: number[];
  conv: { y: number[]; dx: number[]; dw: number[]; db: number[] };
  train: number[][];
  ms: number;
}

/** The page bundle: 'vicreg-webgpu' by name, browser condition, and the metafile that proves it. */
async function bundlePage(): Promise<{ js: string; metafile: Metafile; warnings: number }> {
  const r = await build({
    entryPoints: [join(ROOT, 'test/browser/page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['browser'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    // Not tsconfig.json: its `paths` maps the package name to src/ for type-checking only.
    tsconfigRaw: {},
  });
  return { js: r.outputFiles[0]!.text, metafile: r.metafile, warnings: r.warnings.length };
}

describe('the engine in headless Chromium (WebGPU on SwiftShader)', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let page: { js: string; metafile: Metafile; warnings: number };
  let url = '';

  beforeAll(async () => {
    // dist/browser.mjs and dist/node.mjs as `npm run build` makes them (esbuild, ~1 s).
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--lib'], { cwd: ROOT, stdio: 'pipe' });
    page = await bundlePage();
    const html = '<!doctype html><meta charset="utf-8"><title>vicreg-webgpu</title><body><script type="module" src="/page.js"></script></body>';
    server = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(page.js);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    if (!existsSync(CHROMIUM)) return;
    browser = await launchChromium({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(null)));
  });

  it('bundles the package by name from its browser build, with no Node modules and no warnings', () => {
    const inputs = Object.keys(page.metafile.inputs).map((p) => relative(ROOT, join(ROOT, p)));
    expect(inputs).toContain('dist/browser.mjs');
    // Nothing of the engine from src/ (the package's build only), no Node built-ins, no Dawn.
    expect(inputs.filter((p) => p.startsWith('src/'))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/webgpu'))).toEqual([]);
    expect(page.js).not.toMatch(/from\s*["']node:|import\(["']webgpu["']\)/);
    expect(page.warnings).toBe(0);
  });

  it('computes the loss, ops and training steps on a default-limits device as Node does', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install -y chromium)`);
    if (!browser) throw new Error(`chromium at ${CHROMIUM} did not start (see the beforeAll error)`);
    const node = await testGpu();
    const { page: tab, errors, blocked } = await offlinePage(browser, (u) => u.startsWith(url));
    const t0 = performance.now();
    await tab.goto(url);
    await tab.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 20_000 });
    const r = (await tab.evaluate((o) => window.runChecks(o), { tuning: node.tuning, smoke: SMOKE, steps: STEPS })) as PageResult;
    const pageSeconds = (performance.now() - t0) / 1000;
    await tab.context().close();

    // The page's device really has WebGPU's defaults, and the engine ran in Node's kernel family.
    expect(r.limits).toEqual({
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupStorageSize: 16384,
      maxStorageBuffersPerShaderStage: 8,
      maxStorageBufferBindingSize: 128 * 2 ** 20,
    });
    expect(r.tuning).toBe(node.tuning);
    expect(r.own.name).toMatch(/swiftshader/i);

    const errs: Record<string, number> = {};
    const note = (k: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < want.length; i++) {
        num = Math.max(num, Math.abs(got[i]! - want[i]!));
        den = Math.max(den, Math.abs(want[i]!));
      }
      errs[k] = Math.max(errs[k] ?? 0, den ? num / den : num);
    };

    // The fixed vector (test/vicreg/loss.test.ts), both forms.
    const FIXED = { loss: 9.231594724112, invariance: 0.046767574516, variance: 0.266035889544, covariance: 1.411508122613 };
    expect(r.loss.fixed.map((t) => t.form)).toEqual(['cov', 'gram']);
    const { a, b } = fixedVector();
    expect(relErr(vicregRef(a, b, 8, 4).loss, FIXED.loss)).toBeLessThan(1e-7); // the constants are the reference's
    for (const t of r.loss.fixed)
      for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) {
        errs.fixed = Math.max(errs.fixed ?? 0, relErr(t[k], FIXED[k]));
        expect(relErr(t[k], FIXED[k]), `fixed ${t.form} ${k}: ${t[k]}`).toBeLessThan(1e-5);
      }

    // Loss and both gradients against the float64 reference.
    expect(r.loss.shapes.map((s) => `${s.n}x${s.d} ${s.form}`)).toEqual(LOSS_SHAPES.flatMap(([n, d]) => [`${n}x${d} cov`, `${n}x${d} gram`]));
    for (const s of r.loss.shapes) {
      const { z1, z2 } = views(s.n, s.d, s.n * 31 + s.d);
      const ref = vicregRef(z1, z2, s.n, s.d);
      const what = `${s.n}x${s.d} ${s.form}`;
      for (const k of ['loss', 'invariance', 'covariance'] as const) {
        errs.terms = Math.max(errs.terms ?? 0, relErr(s[k], ref[k]));
        expect(relErr(s[k], ref[k]), `${what} ${k}`).toBeLessThan(1e-4);
      }
      expect(Math.abs(s.variance - ref.variance)).toBeLessThan(1e-4 * Math.max(1, ref.variance));
      note('grad', s.g1, ref.g1);
      note('grad', s.g2, ref.g2);
      expectClose(s.g1, ref.g1, 1e-3, `${what} gradZ1`);
      expectClose(s.g2, ref.g2, 1e-3, `${what} gradZ2`);
    }

    // A matmul and a conv forward/backward.
    const { M, N, K } = MATMUL;
    const mm = matmulRef(rand(M * K, 11), rand(K * N, 12), M, N, K);
    note('matmul', r.matmul, mm);
    expectClose(r.matmul, mm, 1e-5, 'matmul');
    const s = CONV;
    const x = rand(s.nb * s.cin * s.h * s.w, 21);
    const w = rand(s.cout * s.cin * s.k * s.k, 22);
    const bias = rand(s.cout, 23);
    const yRef = convForwardRef(s, x, w, bias);
    const back = convBackwardRef(s, x, w, rand(yRef.length, 24));
    for (const [k, got, want] of [['conv y', r.conv.y, yRef], ['conv dx', r.conv.dx, back.dx], ['conv dw', r.conv.dw, back.dw], ['conv db', r.conv.db, back.db]] as const) {
      note(k, got, want);
      expectClose(got, want, 1e-4, k);
    }

    // The smoke net's training steps: the same calls in Node (lavapipe) and in the page.
    const nodeTrain = await smokeSteps(engine, node, SMOKE, STEPS);
    expect(r.train).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) {
      note('train', r.train[i]!, nodeTrain[i]!);
      expectClose(r.train[i]!, nodeTrain[i]!, 1e-5, `training step ${i + 1} terms`);
    }
    // The steps train: the loss moves (a frozen net would give the same loss for each batch).
    expect(new Set(r.train.map((t) => t[0])).size).toBe(STEPS);

    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    console.log(
      `browser test: adapter ${r.own.name}, tuning ${r.tuning}, page ${pageSeconds.toFixed(1)} s (checks ${(r.ms / 1000).toFixed(1)} s); ` +
        `max relative errors ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}; ` +
        `losses ${r.train.map((t) => t[0]!.toFixed(6)).join(' ')}`,
    );
  }, 300_000);
});
