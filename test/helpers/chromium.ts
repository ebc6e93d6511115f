/** Debian's chromium under playwright-core, headless, offline: for the report and browser tests. */
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// No background traffic: the tests block every request but their own server.
const QUIET = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `webgpu`: WebGPU on SwiftShader (the engine's browser tests); else no GPU at all (the report). */
export function launchChromium(o: { webgpu: boolean }): Promise<Browser> {
  const args = o.webgpu ? ['--headless=new', ...QUIET, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : ['--headless', ...QUIET, '--disable-gpu'];
  return chromium.launch({ executablePath: CHROMIUM, args });
}

/**
 * A page in a new context that aborts every request `allow` refuses (recorded in `blocked`) and
 * records console and page errors in `errors`: what the tests assert empty.
 */
export async function offlinePage(browser: Browser, allow: (url: string) => boolean, options: BrowserContextOptions = {}): Promise<{ page: Page; errors: string[]; blocked: string[] }> {
  const ctx = await browser.newContext(options);
  const blocked: string[] = [];
  const errors: string[] = [];
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (allow(u)) return route.continue();
    blocked.push(u);
    return route.abort();
  });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors, blocked };
}
