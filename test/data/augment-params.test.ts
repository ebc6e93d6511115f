import { describe, expect, it } from 'vitest';
import { AUG_PARAMS, DEFAULT_AUGMENT, resolveAugment, sampleBatchParams, sampleViewParams } from '../../src/data/augment-params.js';
import { CounterRng, epochPermutation } from '../../src/data/rng.js';
import { InputError } from '../../src/errors.js';

describe('counter-based randomness', () => {
  it('is a pure function of its coordinates and roughly uniform', () => {
    const a = new CounterRng(7, 3, 2, 1);
    const first = [a.next(), a.next(), a.next()];
    expect(new CounterRng(7, 3, 2, 1).at(2)).toBe(first[2]);
    expect(new CounterRng(7, 4, 2, 1).at(0)).not.toBe(first[0]);
    expect(new CounterRng(8, 3, 2, 1).at(0)).not.toBe(first[0]);
    expect(new CounterRng(7, 3, 2, 0).at(0)).not.toBe(first[0]);
    // Moments and lag-1 correlation along each coordinate.
    for (const mk of [(i: number) => new CounterRng(1, 0, 0, 0).at(i), (i: number) => new CounterRng(1, i, 0, 0).at(0), (i: number) => new CounterRng(1, 0, i, 0).at(0), (i: number) => new CounterRng(i, 0, 0, 0).at(0)]) {
      const n = 20000;
      const u = Array.from({ length: n }, (_, i) => mk(i));
      const mean = u.reduce((s, v) => s + v, 0) / n;
      const varr = u.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
      let c = 0;
      for (let i = 1; i < n; i++) c += (u[i]! - mean) * (u[i - 1]! - mean);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
      expect(Math.abs(varr - 1 / 12)).toBeLessThan(0.003);
      expect(Math.abs(c / n / varr)).toBeLessThan(0.03);
      expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u)).toBeLessThan(1);
    }
  });

  it('makes a deterministic permutation per (seed, epoch)', () => {
    const p = epochPermutation(1000, 5, 2);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochPermutation(1000, 5, 2)).toEqual(p);
    expect(epochPermutation(1000, 5, 3)).not.toEqual(p);
    expect(epochPermutation(1000, 6, 2)).not.toEqual(p);
    // Not close to the identity.
    expect(p.filter((v, i) => v === i).length).toBeLessThan(10);
  });
});

describe('augmentation parameters', () => {
  it('follow the configured distributions', () => {
    const cfg = DEFAULT_AUGMENT;
    const n = 3000;
    const stat = [0, 1].map((view) => {
      const s = { flip: 0, jitter: 0, cfirst: 0, blur: 0, sol: 0 };
      for (let i = 0; i < n; i++) {
        const p = sampleViewParams(cfg, 28, 28, 11, i >> 4, i & 15, view as 0 | 1);
        expect(p.x0 >= 0 && p.y0 >= 0 && p.x0 + p.w <= 28 && p.y0 + p.h <= 28).toBe(true);
        expect(Number.isInteger(p.x0 + p.y0 + p.w + p.h)).toBe(true);
        // Integer rounding of the box widens the ranges slightly.
        const area = (p.w * p.h) / 784;
        expect(area).toBeGreaterThan(0.35 * 0.85);
        expect(area).toBeLessThanOrEqual(1);
        expect(p.w / p.h).toBeGreaterThan((3 / 4) * 0.85);
        expect(p.w / p.h).toBeLessThan((4 / 3) / 0.85);
        if (p.brightness !== 1 || p.contrast !== 1) {
          s.jitter++;
          expect(p.brightness).toBeGreaterThanOrEqual(0.6);
          expect(p.brightness).toBeLessThanOrEqual(1.4);
          expect(p.contrast).toBeGreaterThanOrEqual(0.6);
          expect(p.contrast).toBeLessThanOrEqual(1.4);
        }
        if (p.contrastFirst) s.cfirst++;
        if (p.flip) s.flip++;
        if (p.sigma > 0) {
          s.blur++;
          expect(p.sigma).toBeGreaterThanOrEqual(0.1);
          expect(p.sigma).toBeLessThanOrEqual(1);
        }
        if (p.solarize) s.sol++;
      }
      return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v / n]));
    });
    const near = (x: number, want: number) => expect(Math.abs(x - want)).toBeLessThan(0.035);
    for (const s of stat) {
      near(s.flip!, 0.5);
      near(s.jitter!, 0.8);
      near(s.cfirst!, 0.4);
    }
    expect(stat[0]!.blur).toBe(1);
    near(stat[1]!.blur!, 0.1);
    expect(stat[0]!.sol).toBe(0);
    near(stat[1]!.sol!, 0.2);
  });

  it('are deterministic in (seed, step) and differ between steps and views', () => {
    const a = sampleBatchParams(DEFAULT_AUGMENT, 28, 28, 3, 17, 32);
    expect(a.length).toBe(2 * 32 * AUG_PARAMS);
    expect(sampleBatchParams(DEFAULT_AUGMENT, 28, 28, 3, 17, 32)).toEqual(a);
    expect(sampleBatchParams(DEFAULT_AUGMENT, 28, 28, 3, 18, 32)).not.toEqual(a);
    expect(sampleBatchParams(DEFAULT_AUGMENT, 28, 28, 4, 17, 32)).not.toEqual(a);
    expect(a.subarray(0, 32 * AUG_PARAMS)).not.toEqual(a.subarray(32 * AUG_PARAMS));
    // A slot's draws do not depend on the batch size.
    expect(sampleBatchParams(DEFAULT_AUGMENT, 28, 28, 3, 17, 8).subarray(0, 8 * AUG_PARAMS)).toEqual(a.subarray(0, 8 * AUG_PARAMS));
  });

  it('rejects invalid options', () => {
    expect(() => resolveAugment({ scale: [0, 1] })).toThrow(InputError);
    expect(() => resolveAugment({ flipP: 1.5 })).toThrow(/flipP/);
    expect(() => resolveAugment({ size: 0 })).toThrow(/size/);
    expect(() => resolveAugment({ blurRadius: 28 })).toThrow(/blurRadius/);
    expect(resolveAugment({ size: 32 }).size).toBe(32);
  });
});
