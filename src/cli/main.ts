/**
 * The `vicreg` command line (entry point: src/cli/vicreg.ts; `npm run vicreg -- COMMAND ...`).
 *
 * Contract for every command: results go to stdout (nothing else does: stray console output is
 * routed to stderr while a command runs); an input/usage error is ONE line
 * `vicreg: error: <message>` on stderr and exit 2; an unexpected error is one line
 * `vicreg: internal error: <message>` and exit 1 (with the stack only when VICREG_DEBUG=1).
 *
 * To add a subcommand, implement CliCommand (src/cli/command.ts) and add it to COMMANDS.
 */
import { InputError } from '../errors.js';
import { GpuUnavailableError } from '../gpu/errors.js';
import type { CliCommand, CliIO } from './command.js';
import { exportCommand } from './export.js';
import { lossCommand } from './loss.js';
import { reportCommand } from './report.js';

export const COMMANDS: CliCommand[] = [
  lossCommand,
  reportCommand,
  exportCommand,
];

const debug = () => process.env.VICREG_DEBUG === '1';

function usage(): string {
  return [
    'usage: vicreg COMMAND [args] [options]      (npm run vicreg -- COMMAND ...)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.summary}`),
    '  train --out DIR ...  VICReg pre-training and evaluation (npx vicreg train, or npm run train --)',
    '',
    "run 'vicreg COMMAND --help' for a command's options.",
  ].join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export const realStdoutWrite = process.stdout.write.bind(process.stdout);
export const stderrWrite = process.stderr.write.bind(process.stderr);

const io: CliIO = {
  out: (text) => void realStdoutWrite(text),
  err: (text) => void process.stderr.write(text),
};

/** Anything but a command's own results goes to stderr (library logs, warnings). */
function guardStdout(): void {
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (stderrWrite as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  const toErr = (...a: unknown[]) => console.error(...a);
  console.log = toErr;
  console.info = toErr;
  console.debug = toErr;
}

/** Prints an error as one stderr line and returns the exit code (2 input, 1 otherwise). */
export function reportError(e: unknown): number {
  if (e instanceof InputError) {
    io.err(`vicreg: error: ${oneLine(e.message)}\n`);
    if (debug()) io.err(`${e.stack}\n`);
    return 2;
  }
  if (e instanceof GpuUnavailableError) {
    io.err(`vicreg: error: ${oneLine(e.message)}\n`);
    if (debug()) io.err(`${e.stack}\n`);
    return 1;
  }
  const msg = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  io.err(`vicreg: internal error: ${oneLine(msg) || 'unknown error'}${debug() ? '' : ' (set VICREG_DEBUG=1 for details, and please report it with that output)'}\n`);
  if (debug() && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(`vicreg: error: missing command (try 'vicreg --help')\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const sub = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    io.out((sub ? sub.usage : usage()) + '\n');
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`vicreg: error: unknown command '${oneLine(name)}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  // --help anywhere before a `--` shows the command's usage.
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    io.out(cmd.usage + '\n');
    return 0;
  }
  guardStdout();
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(e);
  }
}

