/**
 * A small, strict command-line parser shared by the vicreg subcommands.
 * `--name value`, `--name=value`, boolean `--flag`, `--` ends options.
 * Unknown options, missing or malformed values, and wrong positional counts throw
 * InputError('bad-option') with a one-line message.
 */
import { InputError } from '../errors.js';

export type OptionSpec =
  | { type: 'boolean' }
  | { type: 'string'; metavar?: string }
  | { type: 'number'; min?: number; minExclusive?: boolean; max?: number; integer?: boolean }
  | { type: 'choice'; choices: readonly string[] };

export interface ArgSpec {
  options: Record<string, OptionSpec>;
  /** Names of the required positional arguments, in order. */
  positionals: readonly string[];
  /** Optional positionals after the required ones. */
  optionalPositionals?: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean>;
}

const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function badOption(msg: string): never {
  throw new InputError('bad-option', msg);
}

function parseValue(name: string, spec: OptionSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case 'boolean':
      return badOption(`--${name} takes no value`);
    case 'string':
      if (raw === '') badOption(`--${name} needs a non-empty value`);
      return raw;
    case 'choice':
      if (!spec.choices.includes(raw)) badOption(`--${name} must be one of ${spec.choices.join(', ')} (got '${raw}')`);
      return raw;
    case 'number': {
      const v = NUMBER_RE.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isFinite(v)) badOption(`--${name} needs a finite number (got '${raw}')`);
      if (spec.integer && !Number.isInteger(v)) badOption(`--${name} needs an integer (got '${raw}')`);
      if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) {
        badOption(`--${name} must be ${spec.minExclusive ? '>' : '>='} ${spec.min} (got '${raw}')`);
      }
      if (spec.max !== undefined && v > spec.max) badOption(`--${name} must be <= ${spec.max} (got '${raw}')`);
      return v;
    }
  }
}

/** Parses `argv` (after the subcommand name) against `spec`. `--help` must be handled before. */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | number | boolean> = {};
  let onlyPositionals = false;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (onlyPositionals || !a.startsWith('-') || a === '-' || NUMBER_RE.test(a)) {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    if (!a.startsWith('--')) badOption(`unknown option '${a}' (options are spelt --name)`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const opt = spec.options[name];
    if (!opt) badOption(`unknown option '--${name}'`);
    if (opt.type === 'boolean') {
      if (eq >= 0) badOption(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = a.slice(eq + 1);
    else {
      const next = argv[k + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) badOption(`--${name} needs a value`);
      raw = next;
      k++;
    }
    options[name] = parseValue(name, opt, raw);
  }
  const need = spec.positionals.length;
  const max = need + (spec.optionalPositionals?.length ?? 0);
  if (positionals.length < need) {
    badOption(`missing ${spec.positionals.slice(positionals.length).join(' and ')}`);
  }
  if (positionals.length > max) badOption(`unexpected argument '${positionals[max]}'`);
  return { positionals, options };
}
