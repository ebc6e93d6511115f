/** Builds the self-contained report page: bundled client script (uPlot included) + CSS + inline JSON. */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportData } from './types.js';

/** Finds src/report/client.ts from wherever this module runs (source under vitest, or a bundle in
 *  .cache/run/ or dist/): walk up from this file to the package root. */
function clientEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const cand of [join(dir, 'client.ts'), join(dir, 'src', 'report', 'client.ts')]) {
      if (existsSync(cand) && existsSync(join(dirname(cand), 'types.ts'))) return cand;
    }
    const up = resolve(dir, '..');
    if (up === dir) break;
    dir = up;
  }
  throw new Error('report: cannot find src/report/client.ts (the page script)');
}

let cached: Promise<{ js: string; css: string }> | null = null;

/** The page script and stylesheet, bundled once per process with esbuild (uPlot inlined). */
export function clientBundle(): Promise<{ js: string; css: string }> {
  cached ??= (async () => {
    const { build } = await import('esbuild');
    const r = await build({
      entryPoints: [clientEntry()],
      bundle: true,
      write: false,
      outdir: 'out',
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    let js = '';
    let css = '';
    for (const f of r.outputFiles) {
      if (f.path.endsWith('.js')) js = f.text;
      else if (f.path.endsWith('.css')) css = f.text;
    }
    return { js, css };
  })();
  cached.catch(() => (cached = null));
  return cached;
}

const PAGE_CSS = `
:root { --fg:#222; --muted:#666; --line:#e3e3e3; --bg:#fff; --panel:#fafafa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
#report { max-width: 1240px; margin: 0 auto; padding: 16px 24px 40px; }
header h1 { margin: 0 0 2px; font-size: 22px; }
.meta { margin: 0; color: var(--muted); font-size: 12px; word-break: break-all; }
h2 { font-size: 17px; margin: 26px 0 4px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 6px; }
.intro { color: var(--muted); margin: 4px 0 10px; max-width: 980px; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: 8px 8px 8px 28px; margin: 12px 0 0; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
.chart { margin: 0; padding: 10px 10px 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); min-width: 0; }
.chart.wide { grid-column: 1 / -1; }
.chart figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
.plot { min-height: 40px; }
.missing { color: #9a6700; background: #fff8e1; border: 1px dashed #e0c060; border-radius: 4px; padding: 18px; text-align: center; font-size: 13px; }
.facts .cols { display: grid; grid-template-columns: 1.25fr 1fr 1fr; gap: 16px; }
@media (max-width: 1000px) { .facts .cols { grid-template-columns: 1fr; } }
.facts .cols > div:first-child td { font-family: inherit; font-weight: 600; }
.kv { border-collapse: collapse; width: 100%; font-size: 12.5px; }
.kv th, .kv td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.kv th { font-weight: 600; color: #444; white-space: nowrap; width: 1%; }
.kv td { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-word; }
.uplot { font-family: inherit; }
.u-legend { font-size: 12px; }
.u-legend .u-marker { width: 1.2em; }
`;

/** JSON safe inside <script>: no "</script", no "<!--". */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderHtml(data: ReportData): Promise<string> {
  const { js, css } = await clientBundle();
  const script = js.replace(/<\/(script)/gi, '<\\/$1');
  // The page loads nothing: the CSP forbids every fetch; script and style are inline.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)} — VICReg report</title>
<style>${css.replace(/<\//g, '<\\/')}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<main id="report"></main>
<noscript>This report draws its charts with JavaScript; please enable it.</noscript>
<script type="application/json" id="report-data">${inlineJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}
