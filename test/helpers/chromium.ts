/** Debian's chromium under playwright-core, headless, offline: for the report and browser tests. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// No background traffic: the tests block every request but their own server.
const QUIET = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `webgpu`: WebGPU on SwiftShader (the engine's browser tests); else no GPU at all (the report). */
export function launchChromium(o: { webgpu: boolean }): Promise<Browser> {
  const args = o.webgpu ? ['--headless=new', ...QUIET, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : ['--headless', ...QUIET, '--disable-gpu'];
  return chromium.launch({ executablePath: CHROMIUM, args });
}
