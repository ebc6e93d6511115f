/**
 * The one command-line parser of the vicreg subcommands, `npm run train` and the benchmarks:
 * node:util's parseArgs splits the arguments (`--name value`, `--name=value`, boolean
 * `--flag`, `--` ends options); this module checks them against a spec. Unknown options,
 * missing or malformed values, and wrong positional counts throw InputError('bad-option')
 * with a one-line message (node's own errors are multi-line and name no spec types).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
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

export type OptionValues = Record<string, string | number | boolean>;

export interface ParsedArgs {
  positionals: string[];
  options: OptionValues;
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
  // Non-strict: node tokenizes, unknown options included, and the checks below word the errors.
  const nodeOptions = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, { type: o.type === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  const { tokens } = nodeParseArgs({ args: [...argv], options: nodeOptions, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const options: OptionValues = {};
  // A short-option group (-abc) is several tokens of one argument: look at each argument once.
  let lastIndex = -1;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    const arg = argv[t.index]!;
    if (t.index === lastIndex) continue;
    lastIndex = t.index;
    // A negative number is a positional argument, not a short option.
    if (NUMBER_RE.test(arg)) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) badOption(`unknown option '${arg}' (options are spelt --name)`);
    const { name } = t;
    const opt = spec.options[name];
    if (!opt) badOption(`unknown option '--${name}'`);
    if (opt.type === 'boolean') {
      if (t.inlineValue) badOption(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    // node takes the next argument whatever it is; another option there means this one has no value.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--') && t.value.length > 2)) badOption(`--${name} needs a value`);
    options[name] = parseValue(name, opt, t.value);
  }
  const need = spec.positionals.length;
  const max = need + (spec.optionalPositionals?.length ?? 0);
  if (positionals.length < need) {
    badOption(`missing ${spec.positionals.slice(positionals.length).join(' and ')}`);
  }
  if (positionals.length > max) badOption(`unexpected argument '${positionals[max]}'`);
  return { positionals, options };
}

/** Options only (the benchmarks): the same checks, no positional arguments. */
export function parseOptions(argv: readonly string[], options: Record<string, OptionSpec>): OptionValues {
  return parseArgs(argv, { positionals: [], options }).options;
}
