/** What a vicreg subcommand looks like (registered in src/cli/vicreg.ts). */

export interface CliIO {
  /** Writes to the real stdout (the only way a command should reach it: stray logs go to stderr). */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
}

export interface CliCommand {
  name: string;
  /** One line for the command list in `vicreg --help`. */
  summary: string;
  /** Full usage text for `vicreg NAME --help`. */
  usage: string;
  /**
   * Runs the command; resolves to the exit code. Throw InputError for bad input (exit 2, one
   * line on stderr); anything else is reported as an internal error (exit 1).
   */
  run(argv: string[], io: CliIO): Promise<number>;
}
