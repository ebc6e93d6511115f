/**
 * tfjs-core's Node (CommonJS) bundle ships without gradient functions, and its ESM build
 * uses extensionless imports that Node cannot load. We bundle the ESM side-effect module
 * `register_all_gradients` once with esbuild and import it: tfjs keeps its gradient registry
 * on a process-wide global, so the registrations reach the CommonJS engine the peer uses.
 */
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let done: Promise<void> | null = null;

export function registerTfjsGradients(): Promise<void> {
  return (done ??= (async () => {
    const dir = join(process.cwd(), '.cache', 'peer');
    mkdirSync(dir, { recursive: true });
    const outfile = join(dir, 'tfjs-gradients.mjs');
    await build({
      stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';", resolveDir: process.cwd() },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      logLevel: 'error',
    });
    await import(pathToFileURL(outfile).href);
  })());
}
