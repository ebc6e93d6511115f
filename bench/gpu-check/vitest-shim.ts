/**
 * The part of vitest's API our GPU tests use (describe/it/each/skipIf, hooks, expect with the
 * matchers below, assert), so that scripts/gpu-check.mjs can bundle the tests with esbuild
 * (`vitest` aliased to this file) and run them on a bare GPU machine that has Node but no
 * node_modules. An unknown matcher throws: a test never passes by accident.
 */
type Fn = () => unknown | Promise<unknown>;
interface TestCase { name: string; file: string; fn: Fn; skip: boolean; hooks: Suite[] }
interface Suite { name: string; beforeAll: Fn[]; afterAll: Fn[]; beforeEach: Fn[]; afterEach: Fn[] }

const tests: TestCase[] = [];
const stack: Suite[] = [];
let currentFile = '';
const fileSuites = new Map<string, Suite>();

/** Called by the generated entry before each test file is imported. */
export function __setFile(file: string): void {
  currentFile = file;
  const s: Suite = { name: '', beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
  fileSuites.set(file, s);
  stack.length = 0;
  stack.push(s);
}

const fullName = (name: string) => [...stack.map((s) => s.name).filter(Boolean), name].join(' > ');
const fmtName = (name: string, args: unknown[]) => {
  let i = 0;
  return name.replace(/%[sdifjo%]/g, (m) => (m === '%%' ? '%' : String(args[i++])));
};

function addTest(name: string, fn: Fn, skip = false): void {
  tests.push({ name: fullName(name), file: currentFile, fn, skip, hooks: [...stack] });
}

interface ItFn {
  (name: string, fn: Fn, timeout?: number): void;
  skip(name: string, fn: Fn): void;
  only(name: string, fn: Fn): void;
  skipIf(cond: unknown): (name: string, fn: Fn) => void;
  runIf(cond: unknown): (name: string, fn: Fn) => void;
  each<T>(rows: readonly T[]): (name: string, fn: (...args: never[]) => unknown) => void;
}
const itImpl = ((name: string, fn: Fn) => addTest(name, fn)) as ItFn;
itImpl.skip = (name, fn) => addTest(name, fn, true);
itImpl.only = (name, fn) => addTest(name, fn);
itImpl.skipIf = (cond) => (name, fn) => addTest(name, fn, !!cond);
itImpl.runIf = (cond) => (name, fn) => addTest(name, fn, !cond);
itImpl.each = (rows) => (name, fn) => {
  for (const row of rows) {
    const args = Array.isArray(row) ? row : [row];
    addTest(fmtName(name, args), () => (fn as (...a: unknown[]) => unknown)(...args));
  }
};
export const it = itImpl;
export const test = itImpl;

interface DescribeFn {
  (name: string, fn: () => void): void;
  skip(name: string, fn: () => void): void;
  skipIf(cond: unknown): (name: string, fn: () => void) => void;
}
function describeImpl(name: string, fn: () => void, skip = false): void {
  const s: Suite = { name, beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
  const before = tests.length;
  stack.push(s);
  try {
    fn();
  } finally {
    stack.pop();
  }
  if (skip) for (let i = before; i < tests.length; i++) tests[i]!.skip = true;
}
export const describe = ((name: string, fn: () => void) => describeImpl(name, fn)) as DescribeFn;
describe.skip = (name, fn) => describeImpl(name, fn, true);
describe.skipIf = (cond) => (name, fn) => describeImpl(name, fn, !!cond);

const top = () => stack[stack.length - 1]!;
export const beforeAll = (fn: Fn) => void top().beforeAll.push(fn);
export const afterAll = (fn: Fn) => void top().afterAll.push(fn);
export const beforeEach = (fn: Fn) => void top().beforeEach.push(fn);
export const afterEach = (fn: Fn) => void top().afterEach.push(fn);

// ---------------------------------------------------------------- expect

class AssertionError extends Error {
  override name = 'AssertionError';
}
const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 200 ? s.slice(0, 200) + '…' : s;
  } catch {
    return String(v);
  }
};

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || Array.isArray(a) || Array.isArray(b)) {
    const x = a as ArrayLike<unknown>;
    const y = b as ArrayLike<unknown>;
    if (Array.isArray(a) !== Array.isArray(b) && !(ArrayBuffer.isView(a) && ArrayBuffer.isView(b))) return false;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && deepEqual(v, b.get(k)));
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function thrown(fn: unknown): { threw: boolean; error?: unknown } {
  try {
    (fn as () => unknown)();
    return { threw: false };
  } catch (error) {
    return { threw: true, error };
  }
}
function errorMatches(error: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  const msg = error instanceof Error ? error.message : String(error);
  if (typeof want === 'string') return msg.includes(want);
  if (want instanceof RegExp) return want.test(msg);
  if (typeof want === 'function') return error instanceof (want as new () => unknown);
  if (want instanceof Error) return msg === want.message;
  return false;
}

type Matchers = Record<string, (actual: unknown, ...args: unknown[]) => [boolean, string]>;
const MATCHERS: Matchers = {
  toBe: (a, b) => [Object.is(a, b), `expected ${show(a)} to be ${show(b)}`],
  toEqual: (a, b) => [deepEqual(a, b), `expected ${show(a)} to equal ${show(b)}`],
  toStrictEqual: (a, b) => [deepEqual(a, b), `expected ${show(a)} to strictly equal ${show(b)}`],
  toBeCloseTo: (a, b, digits = 2) => [Math.abs((a as number) - (b as number)) < 10 ** -(digits as number) / 2, `expected ${show(a)} to be close to ${show(b)} (${digits} digits)`],
  toBeLessThan: (a, b) => [(a as number) < (b as number), `expected ${show(a)} < ${show(b)}`],
  toBeLessThanOrEqual: (a, b) => [(a as number) <= (b as number), `expected ${show(a)} <= ${show(b)}`],
  toBeGreaterThan: (a, b) => [(a as number) > (b as number), `expected ${show(a)} > ${show(b)}`],
  toBeGreaterThanOrEqual: (a, b) => [(a as number) >= (b as number), `expected ${show(a)} >= ${show(b)}`],
  toBeInstanceOf: (a, c) => [a instanceof (c as new () => unknown), `expected ${show(a)} to be an instance of ${(c as { name: string }).name}`],
  toBeNull: (a) => [a === null, `expected ${show(a)} to be null`],
  toBeUndefined: (a) => [a === undefined, `expected ${show(a)} to be undefined`],
  toBeDefined: (a) => [a !== undefined, `expected a defined value`],
  toBeTruthy: (a) => [!!a, `expected ${show(a)} to be truthy`],
  toBeFalsy: (a) => [!a, `expected ${show(a)} to be falsy`],
  toBeNaN: (a) => [Number.isNaN(a), `expected ${show(a)} to be NaN`],
  toContain: (a, b) => [typeof a === 'string' ? a.includes(b as string) : Array.from(a as ArrayLike<unknown>).includes(b), `expected ${show(a)} to contain ${show(b)}`],
  toHaveLength: (a, n) => [(a as { length: number }).length === n, `expected length ${(a as { length: number })?.length} to be ${n}`],
  toMatch: (a, re) => [typeof re === 'string' ? String(a).includes(re) : (re as RegExp).test(String(a)), `expected ${show(a)} to match ${String(re)}`],
  toHaveProperty: (a, k) => [a != null && (k as string) in (a as object), `expected ${show(a)} to have property ${String(k)}`],
  toThrow: (fn, want) => {
    const r = thrown(fn);
    return [r.threw && errorMatches(r.error, want), r.threw ? `expected the error ${show((r.error as Error)?.message ?? r.error)} to match ${show(String(want))}` : 'expected a throw'];
  },
};
MATCHERS.toThrowError = MATCHERS.toThrow!;

function makeExpect(actual: unknown, message: string | undefined, negate: boolean, mode: '' | 'rejects' | 'resolves'): Record<string, unknown> {
  const fail = (msg: string) => {
    throw new AssertionError(message ? `${message}: ${msg}` : msg);
  };
  return new Proxy({} as Record<string, unknown>, {
    get(_t, prop: string) {
      if (prop === 'not') return makeExpect(actual, message, !negate, mode);
      if (prop === 'rejects' || prop === 'resolves') return makeExpect(actual, message, negate, prop);
      if (prop === 'then') return undefined; // not a thenable
      const m = MATCHERS[prop];
      if (!m) throw new Error(`vitest shim: matcher '${prop}' is not implemented (bench/gpu-check/vitest-shim.ts)`);
      return (...args: unknown[]) => {
        const check = (value: unknown) => {
          const [ok, msg] = m(value, ...args);
          if (ok === negate) fail(negate ? `not: ${msg}` : msg);
        };
        if (mode === 'rejects')
          return Promise.resolve(actual).then(
            () => fail('expected the promise to reject'),
            (e) => check(prop.startsWith('toThrow') ? () => { throw e; } : e),
          );
        if (mode === 'resolves') return Promise.resolve(actual).then(check);
        check(actual);
        return undefined;
      };
    },
  });
}

export const expect = Object.assign((actual: unknown, message?: string) => makeExpect(actual, message, false, '') as never, {
  soft: (actual: unknown, message?: string) => makeExpect(actual, message, false, '') as never,
});

export const assert = Object.assign(
  (cond: unknown, message?: string) => {
    if (!cond) throw new AssertionError(message ?? 'assertion failed');
  },
  {
    fail: (message?: string): never => {
      throw new AssertionError(message ?? 'assert.fail');
    },
    ok: (cond: unknown, message?: string) => {
      if (!cond) throw new AssertionError(message ?? 'assertion failed');
    },
    equal: (a: unknown, b: unknown, message?: string) => {
      if (a != b) throw new AssertionError(message ?? `expected ${show(a)} == ${show(b)}`);
    },
    isBelow: (a: number, b: number, message?: string) => {
      if (!(a < b)) throw new AssertionError(message ?? `expected ${a} < ${b}`);
    },
  },
);

export const vi = {
  fn: () => {
    throw new Error('vitest shim: vi.fn is not implemented');
  },
};

// ---------------------------------------------------------------- runner

export interface TestResult { file: string; name: string; status: 'pass' | 'fail' | 'skip'; ms: number; error?: string }

/** Runs every registered test in order; `onResult` sees each as it finishes. */
export async function __run(o: { grep?: RegExp; skip?: RegExp; onResult: (r: TestResult) => void }): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const started = new Set<Suite>();
  const emit = (r: TestResult) => {
    results.push(r);
    o.onResult(r);
  };
  const runHooks = async (fns: Fn[]) => {
    for (const f of fns) await f();
  };
  // afterAll of a file's suites once its last test ran.
  const lastIndex = new Map<Suite, number>();
  tests.forEach((t, i) => t.hooks.forEach((s) => lastIndex.set(s, i)));
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i]!;
    const selected = !t.skip && (!o.grep || o.grep.test(t.name)) && !(o.skip && o.skip.test(t.name));
    const t0 = performance.now();
    if (!selected) emit({ file: t.file, name: t.name, status: 'skip', ms: 0 });
    else {
      try {
        for (const s of t.hooks)
          if (!started.has(s)) {
            started.add(s);
            await runHooks(s.beforeAll);
          }
        for (const s of t.hooks) await runHooks(s.beforeEach);
        await t.fn();
        for (const s of [...t.hooks].reverse()) await runHooks(s.afterEach);
        emit({ file: t.file, name: t.name, status: 'pass', ms: performance.now() - t0 });
      } catch (e) {
        emit({ file: t.file, name: t.name, status: 'fail', ms: performance.now() - t0, error: (e as Error)?.stack ?? String(e) });
      }
    }
    for (const s of [...t.hooks].reverse())
      if (lastIndex.get(s) === i && started.has(s))
        try {
          await runHooks(s.afterAll);
        } catch {
          /* cleanup only */
        }
  }
  return results;
}
