/** `vicreg report RUN_DIR`: (re)writes RUN_DIR/report.html from the run's metrics and prints its path. */
import { writeReport } from '../report/index.js';
import { parseArgs, type ArgSpec } from './args.js';
import type { CliCommand } from './command.js';

const USAGE = `usage: vicreg report RUN_DIR

Writes RUN_DIR/report.html: one self-contained page (no network access needed) with the loss and
its three terms, learning rate, throughput, kNN / linear-probe accuracy, embedding std and
effective rank, correlation heatmaps and a PCA of the test representations, read from
RUN_DIR/metrics.jsonl, config.json and summary.json (see docs/RUN-FORMAT.md). Prints the path.

exit status: 0 ok, 2 bad input or usage (missing run directory or metrics.jsonl), 1 internal error`;

const SPEC: ArgSpec = { positionals: ['RUN_DIR'], options: {} };

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'report RUN_DIR       write RUN_DIR/report.html (training curves, accuracy, collapse, PCA)',
  usage: USAGE,
  async run(argv, io) {
    const { positionals } = parseArgs(argv, SPEC);
    const path = await writeReport(positionals[0]!);
    io.out(`${path}\n`);
    return 0;
  },
};
