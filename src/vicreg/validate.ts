/**
 * Input validation shared by the library API (vicregLossHost) and the CLI. Pure functions:
 * no GPU, no I/O. Everything wrong with the user's input becomes an InputError.
 */
import { InputError } from '../errors.js';
import type { VicregOptions } from './loss.js';

function fmtShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Checks a pair of views for the VICReg loss: both 2-D (n, d) with d >= 1, the data lengths
 * match the shapes, identical shapes, n >= 2, and every value finite. Returns { n, d }.
 * `names` label the two inputs in messages (the CLI passes the file names).
 *
 * Codes: 'bad-rank' (not 2-D, or d = 0), 'shape-mismatch' (shapes differ, or a data length
 * disagrees with its shape), 'too-few-rows' (n < 2), 'non-finite' (NaN/Inf; names the input and
 * the first bad [row, column]).
 */
export function validatePair(
  z1: Float32Array,
  shape1: readonly number[],
  z2: Float32Array,
  shape2: readonly number[],
  names: readonly [string, string] = ['z1', 'z2'],
): { n: number; d: number } {
  const views: Array<[Float32Array, readonly number[], string]> = [
    [z1, shape1, names[0]],
    [z2, shape2, names[1]],
  ];
  for (const [, shape, name] of views) {
    if (shape.length !== 2) {
      throw new InputError(
        'bad-rank',
        `${name}: expected a 2-D (n, d) array, got ${shape.length}-D shape ${fmtShape(shape)}`,
      );
    }
    if (!shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new InputError('bad-rank', `${name}: shape ${fmtShape(shape)} is not a pair of non-negative integers`);
    }
    if (shape[1] === 0) throw new InputError('bad-rank', `${name}: shape ${fmtShape(shape)} has no features (d = 0)`);
  }
  for (const [data, shape, name] of views) {
    const want = shape[0]! * shape[1]!;
    if (data.length !== want) {
      throw new InputError('shape-mismatch', `${name}: has ${data.length} values but shape ${fmtShape(shape)} needs ${want}`);
    }
  }
  if (shape1[0] !== shape2[0] || shape1[1] !== shape2[1]) {
    throw new InputError(
      'shape-mismatch',
      `the two views differ in shape: ${names[0]} is ${fmtShape(shape1)}, ${names[1]} is ${fmtShape(shape2)}`,
    );
  }
  const n = shape1[0]!;
  const d = shape1[1]!;
  if (n < 2) {
    throw new InputError('too-few-rows', `need at least 2 rows (samples) for the variance, got n = ${n} (shape ${fmtShape(shape1)})`);
  }
  for (const [data, , name] of views) {
    const k = firstNonFinite(data);
    if (k >= 0) {
      const v = data[k]!;
      const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
      throw new InputError('non-finite', `${name}: ${what} at index [${Math.floor(k / d)}, ${k % d}] (flat ${k}); inputs must be finite`);
    }
  }
  return { n, d };
}

/** Index of the first NaN/Inf, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    // v - v is 0 for finite v and NaN for NaN/±Inf: one comparison per element.
    if (v - v !== 0) return k;
  }
  return -1;
}

/**
 * Checks the numeric options: lambda, mu, nu, gamma finite and >= 0; eps finite and > 0; convention and
 * form from their sets. Throws InputError('bad-option').
 */
export function validateOptions(opts: VicregOptions): void {
  const bad = (msg: string): never => {
    throw new InputError('bad-option', msg);
  };
  if (opts.convention !== undefined && opts.convention !== 'official' && opts.convention !== 'paper') {
    bad(`convention must be 'official' or 'paper', got '${String(opts.convention)}'`);
  }
  if (opts.form !== undefined && !['auto', 'cov', 'gram'].includes(opts.form)) {
    bad(`form must be 'auto', 'cov' or 'gram', got '${String(opts.form)}'`);
  }
  for (const k of ['lambda', 'mu', 'nu', 'gamma'] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad(`${k} must be a finite number >= 0, got ${v}`);
  }
  const eps = opts.eps;
  if (eps !== undefined && !(typeof eps === 'number' && Number.isFinite(eps) && eps > 0)) bad(`eps must be a finite number > 0, got ${eps}`);
}
