/**
 * report.html: built from a fixture run directory, then opened in headless Chromium with the
 * network blocked. Every chart must draw (coloured pixels on its canvas), with no console errors
 * and no network request. Screenshots go to test/out/.
 *
 * Needs Debian's chromium at /usr/bin/chromium (the project's setup installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, offlinePage } from '../helpers/chromium.js';
import { InputError } from '../../src/errors.js';
import { buildReportData, writeReport } from '../../src/report/index.js';
import { MAX_STEP_POINTS } from '../../src/report/data.js';
import { makeRunFiles } from '../fixtures/make-run.js';
import { reportCommand } from '../../src/cli/report.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/run-small', import.meta.url));
const OUT = fileURLToPath(new URL('../out', import.meta.url));
const CHARTS = [
  'loss',
  'invariance',
  'variance',
  'covariance',
  'lr',
  'throughput',
  'accuracy',
  'std',
  'std-profile',
  'effective-rank',
  'corr-start',
  'corr-end',
  'pca',
];

const tmp: string[] = [];
function tempRun(files?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vicreg-report-'));
  tmp.push(dir);
  if (files) for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
  else cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('writeReport (node side)', () => {
  it('rejects a missing run directory or metrics.jsonl with InputError bad-file', async () => {
    const err = await writeReport(join(tmpdir(), 'no-such-run-dir-xyz')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('bad-file');
    expect((err as Error).message).not.toContain('\n');
    const empty = tempRun({ 'config.json': '{}' });
    const err2 = await writeReport(empty).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(InputError);
    expect((err2 as InputError).code).toBe('bad-file');
    expect((err2 as Error).message).toMatch(/metrics\.jsonl/);
  });

  it('tolerates a truncated last line, bad lines and missing record types', () => {
    const text = [
      '{"type":"step","step":1,"epoch":1,"loss":3,"invariance":0.1,"variance":0.05,"covariance":0.3,"lr":0.1}',
      'not json',
      '{"type":"step","step":2,"epoch":1,"loss":2.5}',
      '{"type":"step","st',
    ].join('\n');
    const d = buildReportData({ runDir: 'x', metricsText: text, config: null, summary: null });
    expect(d.steps?.step).toEqual([1, 2]);
    expect(d.steps?.invariance).toEqual([0.1, null]);
    expect(d.evals).toBeNull();
    expect(d.pca).toBeNull();
    expect(d.corrStart).toBeNull();
    expect(d.notes.join(' ')).toMatch(/last line is incomplete/);
    expect(d.notes.join(' ')).toMatch(/1 unreadable line/);
  });

  it('keeps a long run (20k steps) under 2 MB by downsampling', async () => {
    const dir = tempRun(makeRunFiles({ epochs: 50, stepsPerEpoch: 400, embDim: 512, corrDim: 64, pcaPoints: 2000 }));
    expect(statSync(join(dir, 'metrics.jsonl')).size).toBeGreaterThan(3e6);
    const path = await writeReport(dir);
    const html = readFileSync(path, 'utf8');
    expect(html.length).toBeLessThan(2e6);
    const json = html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/)![1]!;
    const d = JSON.parse(json) as ReturnType<typeof buildReportData>;
    expect(d.steps!.recorded).toBe(20000);
    expect(d.steps!.step.length).toBeLessThanOrEqual(MAX_STEP_POINTS);
    expect(d.steps!.step[d.steps!.step.length - 1]).toBe(20000);
  });

  it('vicreg report RUN_DIR prints the path written; bad input throws InputError', async () => {
    const dir = tempRun();
    let out = '';
    const io = { out: (t: string) => void (out += t), err: () => undefined };
    expect(await reportCommand.run([dir], io)).toBe(0);
    expect(out).toBe(`${join(dir, 'report.html')}\n`);
    expect(statSync(join(dir, 'report.html')).size).toBeGreaterThan(10_000);
    await expect(reportCommand.run([], io)).rejects.toBeInstanceOf(InputError);
    await expect(reportCommand.run([join(dir, 'nope')], io)).rejects.toMatchObject({ code: 'bad-file' });
  });

  it('writes one self-contained file: no external URLs, inline data escaped', async () => {
    const dir = tempRun();
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    cfg.note = '</script><script>window.__pwned = 1</script>';
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const html = readFileSync(await writeReport(dir), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/[a-z0-9.-]+\.(com|org|net|io)\//i);
    expect(html).not.toContain('</script><script>window.__pwned');
    expect(html).toContain("default-src 'none'");
  });
});

describe('report page in headless Chromium (offline)', () => {
  let browser: Browser | undefined;

  /** Each browser test FAILS (never skips) when chromium is not installed. */
  function needBrowser(): Browser {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: the report test needs Debian's chromium. Run the project's setup (apt-get install -y chromium).`,
      );
    }
    if (!browser) throw new Error(`chromium at ${CHROMIUM} did not start (see the beforeAll error)`);
    return browser;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    browser = await launchChromium({ webgpu: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report with every non-file request aborted; collects console errors and requests. */
  async function open(file: string): Promise<{ page: Page; errors: string[]; network: string[] }> {
    const { page, errors, blocked: network } = await offlinePage(needBrowser(), (u) => u.startsWith('file:') || u.startsWith('data:'), { viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    return { page, errors, network };
  }

  /** For each chart: its status and how many coloured (non-grey) pixels its canvases/SVGs hold. */
  function inspect(page: Page) {
    return page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-chart]')].map((fig) => {
        let coloured = 0;
        let drawn = 0;
        for (const cv of fig.querySelectorAll('canvas')) {
          if (!cv.width || !cv.height) continue;
          const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          for (let i = 0; i < px.length; i += 4) {
            if (px[i + 3]! === 0) continue;
            drawn++;
            const r = px[i]!;
            const g = px[i + 1]!;
            const b = px[i + 2]!;
            if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
          }
        }
        const svgShapes = fig.querySelectorAll('svg path, svg rect, svg circle, svg line').length;
        return {
          name: fig.dataset.chart!,
          status: fig.dataset.status ?? '',
          canvases: fig.querySelectorAll('canvas').length,
          drawn,
          coloured,
          svgShapes,
          text: fig.textContent ?? '',
        };
      }),
    );
  }

  it('draws every chart of the fixture run with no console errors and no network', async () => {
    const dir = tempRun();
    const file = await writeReport(dir);
    const { page, errors, network } = await open(file);
    const charts = await inspect(page);
    expect(charts.map((c) => c.name)).toEqual(CHARTS);
    for (const c of charts) {
      expect(c.status, `${c.name}: ${c.text}`).toBe('ok');
      expect(c.canvases + (c.svgShapes ? 1 : 0), c.name).toBeGreaterThan(0);
      expect(c.coloured + c.svgShapes, `chart ${c.name} drew nothing`).toBeGreaterThan(150);
    }
    const body = await page.innerText('body');
    expect(body).toContain('kNN raw pixels 85.4%');
    expect(body).toContain('logistic reg. raw pixels 84.2%');
    for (const cls of ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'])
      expect(body).toContain(cls);
    expect(body).toContain('llvmpipe'); // adapter, from summary.json
    expect(body).toContain('images/s'); // throughput
    expect(body).not.toContain('not recorded');
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'report-fixture.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.context().close();
  });

  it('shows "not recorded" for what a partial run lacks, without errors', async () => {
    const lines = readFileSync(join(FIXTURE, 'metrics.jsonl'), 'utf8').split('\n');
    const steps = lines.filter((l) => l.includes('"type":"step"')).slice(0, 60);
    const dir = tempRun({
      'config.json': readFileSync(join(FIXTURE, 'config.json'), 'utf8'),
      'metrics.jsonl': `${steps.join('\n')}\n{"type":"step","step":61,"epo`,
    });
    const { page, errors, network } = await open(await writeReport(dir));
    const charts = await inspect(page);
    expect(charts.map((c) => c.name)).toEqual(CHARTS);
    const byName = Object.fromEntries(charts.map((c) => [c.name, c]));
    for (const n of ['loss', 'invariance', 'variance', 'covariance', 'lr', 'throughput']) {
      expect(byName[n]!.status, n).toBe('ok');
      expect(byName[n]!.coloured, n).toBeGreaterThan(150);
    }
    for (const n of ['accuracy', 'std', 'std-profile', 'effective-rank', 'corr-start', 'corr-end', 'pca']) {
      expect(byName[n]!.status, n).toBe('missing');
      expect(byName[n]!.text, n).toContain('not recorded');
    }
    expect(await page.innerText('body')).toMatch(/last line is incomplete/);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'report-partial.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.context().close();
  });
});
