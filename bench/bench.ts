/**
 * Kernel benchmarks: `npm run bench -- <name> [--json] [options]`.
 * With --json the results go to stdout as a JSON list and the table to stderr.
 */
import { InputError } from '../src/errors.js';

const BENCHES: Record<string, { about: string; options: string; run: (args: string[]) => Promise<void> }> = {
  matmul: { about: 'matmul core: 1024^3 and encoder/expander linear shapes, vs FMA peak and tfjs', options: '--json --quick --fast --no-peer', run: async (a) => (await import('./matmul.js')).runMatmulBench(a) },
  conv: { about: 'conv2d forward / input grad / weight grad vs the same-size matmul and tfjs', options: '--json --quick --fast --no-peer --algo implicit|im2col --vs-implicit', run: async (a) => (await import('./conv.js')).runConvBench(a) },
  peak: { about: "the adapter's reachable FMA throughput", options: '--json --fast', run: async (a) => (await import('./matmul.js')).runPeakBench(a) },
  loss: { about: 'VICReg loss and gradients', options: '--json --shapes NxD,... --form auto|cov|gram --samples N --no-peer', run: async (a) => (await import('./loss.js')).runLossBench(a) },
  step: { about: 'one training step, kernel by kernel, against its floor (and PyTorch when installed)', options: '--json --preset P --steps N --dispatches --no-peer', run: async (a) => (await import('./step.js')).runStepBench(a) },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHES[name] : undefined;
if (!bench) {
  console.error('usage: npm run bench -- <name> [--json] [options]\n');
  for (const [k, v] of Object.entries(BENCHES)) console.error(`  ${k.padEnd(8)} ${v.about}\n  ${''.padEnd(8)} options: ${v.options}`);
  process.exit(name && name !== '--help' && name !== '-h' ? 2 : 0);
}
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench -- ${name} [options]\n\n  ${bench.about}\n  options: ${bench.options}`);
  process.exit(0);
}
try {
  await bench.run(args);
} catch (e) {
  // Bad input (e.g. VICREG_TUNING=fast): one line and exit 2, like the vicreg CLI.
  if (e instanceof InputError) {
    console.error(`bench ${name}: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
process.exit(0);
