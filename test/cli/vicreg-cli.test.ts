/**
 * The `vicreg` CLI as a user runs it: bundled once with esbuild (as scripts/run.mjs does), then
 * spawned as a child process per case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy, readNpy, writeNpy } from '../../src/io/npy.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let buildDir = '';
let cli = '';
let data = '';

const N = 8;
const D = 4;
const EXPECTED = { loss: 9.231594724112, invariance: 0.046767574516, variance: 0.266035889544, covariance: 1.411508122613 };

function fixture(): { a: Float32Array; b: Float32Array } {
  const a = new Float32Array(N * D);
  const b = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < D; j++) {
      const x = (0.5 + 0.5 * j) * Math.sin(1 + 0.7 * i + 1.3 * j);
      a[i * D + j] = x;
      b[i * D + j] = x + 0.3 * Math.cos(2 + 0.9 * i + 0.4 * j);
    }
  }
  return { a, b };
}

/** Float64 official-convention VICReg (lambda 25, mu 25, nu 1, gamma 1, eps 1e-4), straight from the definition. */
function refLoss(z1: ArrayLike<number>, z2: ArrayLike<number>, n: number, d: number) {
  let inv = 0;
  for (let k = 0; k < n * d; k++) inv += (z1[k]! - z2[k]!) ** 2;
  inv /= n * d;
  const view = (z: ArrayLike<number>) => {
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += z[i * d + j]! / n;
    const C = new Float64Array(d * d);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) C[a * d + b]! += ((z[i * d + a]! - mean[a]!) * (z[i * d + b]! - mean[b]!)) / (n - 1);
    let v = 0;
    let c = 0;
    for (let a = 0; a < d; a++) {
      v += Math.max(0, 1 - Math.sqrt(C[a * d + a]! + 1e-4)) / d;
      for (let b = 0; b < d; b++) if (a !== b) c += C[a * d + b]! ** 2 / d;
    }
    return { v, c };
  };
  const p = view(z1);
  const q = view(z2);
  const variance = (p.v + q.v) / 2;
  const covariance = p.c + q.c;
  return { loss: 25 * inv + 25 * variance + covariance, invariance: inv, variance, covariance };
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(...args: string[]): Run {
  return runWith({}, ...args);
}

function runWith(env: Record<string, string>, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', VICREG_DEBUG: '', ...env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const f = (name: string) => join(data, name);

beforeAll(async () => {
  // Inside the repo so that the external 'webgpu' package resolves from node_modules.
  mkdirSync(join(root, '.cache'), { recursive: true });
  buildDir = mkdtempSync(join(root, '.cache', 'test-cli-'));
  cli = join(buildDir, 'vicreg.mjs');
  await build({
    entryPoints: [join(root, 'src/cli/vicreg.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    logLevel: 'error',
  });

  data = mkdtempSync(join(tmpdir(), 'vicreg-cli-'));
  const { a, b } = fixture();
  writeNpy(f('a.npy'), a, [N, D]);
  writeNpy(f('b.npy'), b, [N, D]);
  writeNpy(f('c.npy'), b.slice(0, 7 * D), [7, D]); // (7, 4)
  writeNpy(f('wide.npy'), a, [D, N]); // (4, 8)
  writeNpy(f('one-row.npy'), a.slice(0, D), [1, D]);
  writeNpy(f('rank1.npy'), a, [N * D]);
  writeNpy(f('rank3.npy'), a, [2, 4, 4]);
  const nan = b.slice();
  nan[3 * D + 1] = NaN;
  writeNpy(f('nan.npy'), nan, [N, D]);
  const inf = a.slice();
  inf[5 * D + 2] = -Infinity;
  writeNpy(f('inf.npy'), inf, [N, D]);
  const good = readFileSync(f('a.npy'));
  writeFileSync(f('truncated.npy'), good.subarray(0, good.length - 6));
  writeFileSync(f('empty.npy'), '');
  writeFileSync(f('text.npy'), 'i,j,value\n0,0,1.5\n');
  // an int32 (8, 4) file: a float32 file with the descr swapped (same length header)
  writeFileSync(f('int.npy'), Buffer.from(Buffer.from(encodeNpy(new Float32Array(N * D), [N, D])).toString('latin1').replace("'<f4'", "'<i4'"), 'latin1'));
  // float64 copies, and a Fortran-order copy (numpy writes these for transposed arrays)
  const f64 = (x: Float32Array | Float64Array) => {
    const head = Buffer.from(encodeNpy(new Float32Array(N * D), [N, D])).subarray(0, 128);
    const hdr = Buffer.from(head.toString('latin1').replace("'<f4'", "'<f8'"), 'latin1');
    return Buffer.concat([hdr, Buffer.from(new Float64Array(x).buffer)]);
  };
  writeFileSync(f('a64.npy'), f64(a));
  const over = Float64Array.from(a);
  over[2 * D + 3] = -1e300;
  writeFileSync(f('overflow64.npy'), f64(over));
  const fort = new Float32Array(N * D);
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) fort[j * N + i] = b[i * D + j]!;
  const fhead = Buffer.from(Buffer.from(encodeNpy(new Float32Array(N * D), [N, D])).toString('latin1').replace('False', 'True '), 'latin1');
  writeFileSync(f('b-fortran.npy'), Buffer.concat([fhead.subarray(0, 128), Buffer.from(fort.buffer)]));
}, 120_000);

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (data) rmSync(data, { recursive: true, force: true });
});

/** The error contract: exit 2, exactly one `vicreg: error:` line on stderr, no stack, nothing on stdout. */
function expectInputFailure(r: Run, message: RegExp): void {
  expect(r.signal, 'killed (hang?)').toBeNull();
  expect(r.status).not.toBe(0);
  expect(r.status).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^vicreg: error: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s*at /m);
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  expect(r.stdout).toBe('');
  expect(r.stdout).not.toMatch(/nan/i);
}

describe('vicreg CLI: bad input', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['missing file', () => ['loss', f('a.npy'), f('missing.npy')], /missing\.npy: no such file/],
    ['truncated file', () => ['loss', f('truncated.npy'), f('b.npy')], /truncated\.npy: truncated data/],
    ['empty file', () => ['loss', f('a.npy'), f('empty.npy')], /empty\.npy: empty file/],
    ['not an npy file', () => ['loss', f('text.npy'), f('b.npy')], /text\.npy: not a numpy \.npy file/],
    ['int dtype', () => ['loss', f('a.npy'), f('int.npy')], /int\.npy: unsupported dtype '<i4'/],
    ['1-D array (bad-rank)', () => ['loss', f('rank1.npy'), f('b.npy')], /rank1\.npy: expected a 2-D \(n, d\) array, got 1-D/],
    ['3-D array (bad-rank)', () => ['loss', f('a.npy'), f('rank3.npy')], /rank3\.npy: expected a 2-D \(n, d\) array, got 3-D/],
    ['shape mismatch (rows)', () => ['loss', f('a.npy'), f('c.npy')], /differ in shape: .*\(8, 4\).*\(7, 4\)/],
    ['shape mismatch (transposed)', () => ['loss', f('a.npy'), f('wide.npy')], /differ in shape/],
    ['n < 2', () => ['loss', f('one-row.npy'), f('one-row.npy')], /at least 2 rows.*n = 1/],
    ['NaN', () => ['loss', f('a.npy'), f('nan.npy')], /nan\.npy: NaN at index \[3, 1\]/],
    ['Inf', () => ['loss', f('inf.npy'), f('b.npy')], /inf\.npy: -Inf at index \[5, 2\]/],
    ['float64 beyond the float32 range', () => ['loss', f('a.npy'), f('overflow64.npy')], /overflow64\.npy: float64 value -1e\+300 at index \[2, 3\] is beyond the float32 range/],
    ['unknown option', () => ['loss', f('a.npy'), f('b.npy'), '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown short option', () => ['loss', f('a.npy'), f('b.npy'), '-x'], /unknown option '-x'/],
    ['bad --form', () => ['loss', f('a.npy'), f('b.npy'), '--form', 'dense'], /--form must be one of auto, cov, gram/],
    ['bad --convention', () => ['loss', f('a.npy'), f('b.npy'), '--convention=pytorch'], /--convention must be one of official, paper/],
    ['non-numeric --lambda', () => ['loss', f('a.npy'), f('b.npy'), '--lambda', 'abc'], /--lambda needs a finite number/],
    ['NaN --mu', () => ['loss', f('a.npy'), f('b.npy'), '--mu', 'NaN'], /--mu needs a finite number/],
    ['negative --nu', () => ['loss', f('a.npy'), f('b.npy'), '--nu', '-1'], /--nu must be >= 0/],
    ['zero --eps', () => ['loss', f('a.npy'), f('b.npy'), '--eps', '0'], /--eps must be > 0/],
    ['--gamma without value', () => ['loss', f('a.npy'), f('b.npy'), '--gamma'], /--gamma needs a value/],
    ['--json with a value', () => ['loss', f('a.npy'), f('b.npy'), '--json=yes'], /--json takes no value/],
    ['missing second file', () => ['loss', f('a.npy')], /missing Z2\.npy/],
    ['extra argument', () => ['loss', f('a.npy'), f('b.npy'), f('c.npy')], /unexpected argument/],
    ['--grad-out is a file', () => ['loss', f('a.npy'), f('b.npy'), '--grad-out', f('a.npy')], /--grad-out .*not a directory/],
    ['unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
    ['no command', () => [], /missing command/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => expectInputFailure(run(...args()), message));
  }

  it('with --json, errors still go to stderr and stdout stays empty', () => {
    expectInputFailure(run('loss', f('a.npy'), f('nan.npy'), '--json'), /NaN at index \[3, 1\]/);
  });

  it('--help prints usage on stdout and exits 0', () => {
    const top = run('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/usage: vicreg COMMAND/);
    expect(top.stdout).toMatch(/loss Z1\.npy Z2\.npy/);
    const sub = run('loss', '--help');
    expect(sub.status).toBe(0);
    for (const opt of ['--convention', '--form', '--grad-out', '--json', '--lambda', '--mu', '--nu', '--gamma', '--eps']) {
      expect(sub.stdout).toContain(opt);
    }
  });
});

describe('vicreg CLI: good path (needs the GPU implementation of vicregLossHost)', () => {
  const KEYS = ['adapter', 'convention', 'covariance', 'd', 'form', 'invariance', 'loss', 'n', 'tuning', 'variance'];

  it('the float64 reference in this file reproduces the expected constants', () => {
    const { a, b } = fixture();
    const r = refLoss(a, b, N, D);
    for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) {
      expect(Math.abs(r[k] - EXPECTED[k]) / EXPECTED[k]).toBeLessThan(1e-6);
    }
  });

  function expectGoodJson(r: Run, form: 'cov' | 'gram' | null): Record<string, unknown> {
    expect(r.signal, 'killed (hang?)').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/nan|infinity/i);
    // exactly one JSON object and nothing else on stdout
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j).sort()).toEqual(KEYS);
    for (const k of ['loss', 'invariance', 'variance', 'covariance'] as const) {
      const v = j[k] as number;
      expect(typeof v).toBe('number');
      expect(Math.abs(v - EXPECTED[k]) / EXPECTED[k], `${k} = ${v}, expected ${EXPECTED[k]}`).toBeLessThanOrEqual(1e-4);
    }
    expect(j.n).toBe(N);
    expect(j.d).toBe(D);
    expect(j.convention).toBe('official');
    if (form) expect(j.form).toBe(form);
    else expect(['cov', 'gram']).toContain(j.form);
    expect(typeof j.adapter).toBe('string');
    expect((j.adapter as string).length).toBeGreaterThan(0);
    return j;
  }

  it('--json --form cov', () => {
    expectGoodJson(run('loss', f('a.npy'), f('b.npy'), '--form', 'cov', '--convention', 'official', '--json'), 'cov');
  });

  it('--json --form gram', () => {
    expectGoodJson(run('loss', f('a.npy'), f('b.npy'), '--form=gram', '--convention=official', '--json'), 'gram');
  });

  it('--json with default options; float64 and Fortran-order inputs give the same result', () => {
    expectGoodJson(run('loss', f('a.npy'), f('b.npy'), '--json'), null);
    expectGoodJson(run('loss', f('a64.npy'), f('b-fortran.npy'), '--json', '--lambda', '25', '--mu=25', '--nu', '1', '--gamma', '1', '--eps', '1e-4'), null);
  });

  it('both kernel families (VICREG_TUNING) give the same numbers to fp32 precision and say which ran', () => {
    for (const form of ['cov', 'gram']) {
      const [g, c] = ['gpu', 'cpu'].map((tuning) => {
        const j = expectGoodJson(runWith({ VICREG_TUNING: tuning }, 'loss', f('a.npy'), f('b.npy'), '--form', form, '--json'), form as 'cov' | 'gram');
        expect(j.tuning).toBe(tuning);
        return j;
      });
      for (const k of ['loss', 'invariance', 'variance', 'covariance']) {
        expect(Math.abs((g![k] as number) - (c![k] as number)) / Math.abs(c![k] as number), `${form} ${k}`).toBeLessThanOrEqual(2e-6);
      }
    }
    const bad = runWith({ VICREG_TUNING: 'fast' }, 'loss', f('a.npy'), f('b.npy'));
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('vicreg:'))).toEqual([expect.stringMatching(/VICREG_TUNING/)]);
  });

  it('human-readable output names the adapter, form and convention and every term', () => {
    const r = run('loss', f('a.npy'), f('b.npy'), '--form', 'cov');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/nan/i);
    for (const word of ['loss', 'invariance', 'variance', 'covariance', 'official', 'cov', 'adapter']) expect(r.stdout).toContain(word);
    const loss = Number(/loss\s+([-0-9.e+]+)/.exec(r.stdout)?.[1]);
    expect(Math.abs(loss - EXPECTED.loss) / EXPECTED.loss).toBeLessThanOrEqual(1e-4);
  });

  it('--grad-out writes two (8, 4) float32 gradient files (created directory) matching finite differences', () => {
    const out = join(data, 'grads', 'nested');
    expect(existsSync(out)).toBe(false);
    const r = run('loss', f('a.npy'), f('b.npy'), '--grad-out', out, '--json');
    expectGoodJson(r, null);
    const g1 = readNpy(join(out, 'grad_z1.npy'));
    const g2 = readNpy(join(out, 'grad_z2.npy'));
    for (const g of [g1, g2]) {
      expect(g.shape).toEqual([N, D]);
      expect(g.descr).toBe('<f4');
      expect(g.data.every(Number.isFinite)).toBe(true);
    }
    // central differences of the float64 reference at the float32 inputs
    const { a, b } = fixture();
    const x1 = Float64Array.from(a);
    const x2 = Float64Array.from(b);
    const h = 1e-6;
    for (const [x, g] of [
      [x1, g1.data],
      [x2, g2.data],
    ] as const) {
      let num = 0;
      let den = 0;
      for (let k = 0; k < N * D; k++) {
        const keep = x[k]!;
        x[k] = keep + h;
        const up = refLoss(x1, x2, N, D).loss;
        x[k] = keep - h;
        const dn = refLoss(x1, x2, N, D).loss;
        x[k] = keep;
        const fd = (up - dn) / (2 * h);
        num = Math.max(num, Math.abs(g[k]! - fd));
        den = Math.max(den, Math.abs(fd));
      }
      expect(num / den).toBeLessThan(1e-3);
    }
  });
});
