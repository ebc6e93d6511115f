/** Typed errors for bad user input, shared by the library API and the CLI. */

export type InputErrorCode =
  | 'too-few-rows' // n < 2: the unbiased variance is undefined
  | 'shape-mismatch' // the two views differ in shape
  | 'bad-rank' // not a 2-D (n, d) array
  | 'non-finite' // NaN or Inf in the input
  | 'bad-file' // missing, empty, truncated or not the expected format
  | 'bad-dtype' // a numpy dtype we cannot read
  | 'bad-option' // an option out of its domain
  | 'too-large' // exceeds a device limit
  | 'write-failed' // a file could not be written completely (full disk, I/O error, permissions)
  | 'locked'; // the run directory is in use by another process

export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
  }
}
