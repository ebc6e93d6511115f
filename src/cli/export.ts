/** `vicreg export RUN_DIR [--out DIR]`: the run's encoder and expander as PyTorch loads them. */
import { exportRun } from '../export/torch.js';
import { parseArgs, type ArgSpec } from './args.js';
import type { CliCommand } from './command.js';

const USAGE = `usage: vicreg export RUN_DIR [--out DIR]

Writes, from the latest checkpoint of RUN_DIR (RUN_DIR/checkpoint/model.ckpt, or a checkpoint
file), into the run directory (or DIR):
  encoder.safetensors    the encoder's state_dict (conv weights, BN parameters, running
                         statistics, num_batches_tracked)
  expander.safetensors   the expander's (main_vicreg.py's Projector layout)
  encoder.py             build_encoder(), build_expander(), preprocess(images), load_weights(path)
Each file is written atomically. Prints the paths, one a line. See docs/pytorch.md.

options:
  --out DIR   write the files into DIR instead of the run directory (created if needed)
  --help      this text

exit status: 0 ok, 2 bad input or usage (no or corrupt checkpoint, unwritable DIR), 1 internal error`;

const SPEC: ArgSpec = { positionals: ['RUN_DIR'], options: { out: { type: 'string', metavar: 'DIR' } } };

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'export RUN_DIR       write encoder.safetensors, expander.safetensors, encoder.py (PyTorch)',
  usage: USAGE,
  async run(argv, io) {
    const { positionals, options } = parseArgs(argv, SPEC);
    const files = await exportRun(positionals[0]!, options.out as string | undefined);
    io.out(files.map((f) => `${f}\n`).join(''));
    return 0;
  },
};
