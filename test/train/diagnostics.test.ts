/** CPU pieces of the training job: diagnostics (symmetric eigenvalues, effective rank), progress lines. */
import { describe, expect, it } from 'vitest';
import { columnStd, correlationMatrix, diagnose, effectiveRank, symmetricEigenvalues } from '../../src/train/diagnostics.js';
import { Progress, formatDuration } from '../../src/train/progress.js';
import { randn } from '../helpers/gpu.js';

describe('diagnostics', () => {
  it('eigenvalues of a known symmetric matrix', () => {
    // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 1, 3, 5.
    const ev = Array.from(symmetricEigenvalues([2, 1, 0, 1, 2, 0, 0, 0, 5], 3)).sort((a, b) => a - b);
    expect(ev[0]).toBeCloseTo(1, 12);
    expect(ev[1]).toBeCloseTo(3, 12);
    expect(ev[2]).toBeCloseTo(5, 12);
    // A random 12 x 12 symmetric matrix: the eigenvalues sum to the trace and their squares to ||A||_F^2.
    const n = 12;
    const r = randn(n * n, 5);
    const a = Array.from({ length: n * n }, (_, k) => r[k]! + r[(k % n) * n + Math.floor(k / n)]!);
    const e = symmetricEigenvalues(a, n);
    const trace = Array.from({ length: n }, (_, i) => a[i * n + i]!).reduce((x, y) => x + y, 0);
    expect(e.reduce((x, y) => x + y, 0)).toBeCloseTo(trace, 9);
    expect(e.reduce((x, y) => x + y * y, 0)).toBeCloseTo(a.reduce((x, y) => x + y * y, 0), 9);
  });

  it('eigenvalues of Q diag(l) Q^T with clustered and repeated zero eigenvalues (a rank-deficient covariance)', () => {
    // Q: a product of 3 random Householder reflections (orthogonal); l: 40 zeros, a cluster near 1, spread values.
    const n = 120;
    const lambda = Array.from({ length: n }, (_, i) => (i < 40 ? 0 : i < 60 ? 1 + i * 1e-9 : 0.01 * i * i));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = lambda[i]!;
    for (let h = 0; h < 3; h++) {
      const v = Float64Array.from(randn(n, 20 + h));
      const nv = Math.sqrt(v.reduce((x, y) => x + y * y, 0));
      v.forEach((x, i) => (v[i] = x / nv));
      // A <- H A H, H = I - 2 v v^T
      const av = Array.from({ length: n }, (_, i) => v.reduce((s, x, j) => s + a[i * n + j]! * x, 0));
      const vav = av.reduce((s, x, i) => s + x * v[i]!, 0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = a[i * n + j]! - 2 * v[i]! * av[j]! - 2 * av[i]! * v[j]! + 4 * vav * v[i]! * v[j]!;
    }
    const e = Array.from(symmetricEigenvalues(a, n)).sort((x, y) => x - y);
    const want = [...lambda].sort((x, y) => x - y);
    e.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThan(1e-11 * want[n - 1]!));
  });

  it('effective rank: d for isotropic data, 1 for rank-one data', () => {
    const n = 4000;
    const d = 6;
    const iso = randn(n * d, 3);
    expect(effectiveRank(iso, n, d)).toBeGreaterThan(5.8);
    const u = randn(n, 4);
    const one = Float32Array.from({ length: n * d }, (_, k) => u[Math.floor(k / d)]! * (1 + (k % d)));
    expect(effectiveRank(one, n, d)).toBeCloseTo(1, 6);
  });

  it('std, correlation and the epoch record', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // 4 rows x 2 columns
    expect(Array.from(columnStd(x, 4, 2)).map((v) => v.toFixed(6))).toEqual([Math.sqrt(20 / 3), Math.sqrt(20 / 3)].map((v) => v.toFixed(6)));
    expect(correlationMatrix(x, 4, 2, 2)).toEqual([1, 1, 1, 1]);
    const d = diagnose(x, x, 4, 2, 2, 3);
    expect(d.emb_std_frac_below_gamma).toBe(1);
    expect(d.std).toHaveLength(2);
  });
});

describe('progress', () => {
  it('plain lines off a TTY: step, ETA, images/s and the three terms', () => {
    const lines: string[] = [];
    const p = new Progress(100, 0, 2, { isTTY: false, write: (s: string) => void lines.push(s) }, 0);
    const terms = { loss: 20.5, invariance: 0.1, variance: 0.6, covariance: 1.2 };
    p.update({ step: 10, epoch: 0, imagesPerSec: 123, lr: 0.5, terms });
    p.update({ step: 20, epoch: 0, imagesPerSec: 130, lr: 0.5, terms }, true);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^step 20\/100 ep 1\/2 ETA \S+ 130 img\/s lr 0\.500 loss 20\.500 inv 0\.1000 var 0\.6000 cov 1\.2000\n$/);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
  });

  it('redraws one line in place on a TTY', () => {
    let out = '';
    const p = new Progress(10, 0, 1, { isTTY: true, columns: 200, write: (s: string) => ((out += s), true) });
    p.update({ step: 1, epoch: 0, imagesPerSec: 1, lr: 0.1, terms: null }, true);
    p.log('message');
    p.finish();
    expect(out.startsWith('\r\x1b[2K[')).toBe(true);
    expect(out).toContain('message\n');
  });
});
