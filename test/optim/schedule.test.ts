import { describe, expect, it } from 'vitest';
import { learningRate, peakLr } from '../../src/optim/schedule.js';

describe('VICReg lr schedule', () => {
  const o = { baseLr: 0.2, batchSize: 512, warmupSteps: 10, totalSteps: 110 };
  const peak = 0.4; // 0.2 * 512 / 256

  it('peak scales with the batch', () => {
    expect(peakLr(0.2, 512)).toBeCloseTo(peak, 15);
    expect(peakLr(0.3, 2048)).toBeCloseTo(2.4, 15);
  });
  it('warms up linearly from 0', () => {
    expect(learningRate(0, o)).toBe(0);
    expect(learningRate(1, o)).toBeCloseTo(peak / 10, 15);
    expect(learningRate(5, o)).toBeCloseTo(peak / 2, 15);
  });
  it('decays by a cosine to 0.001 x peak', () => {
    const end = peak * 0.001;
    expect(learningRate(10, o)).toBeCloseTo(peak, 15);
    expect(learningRate(60, o)).toBeCloseTo((peak + end) / 2, 15);
    // a quarter of the way: q = (1 + cos(pi/4)) / 2
    const q = (1 + Math.SQRT1_2) / 2;
    expect(learningRate(35, o)).toBeCloseTo(peak * q + end * (1 - q), 15);
    expect(learningRate(110, o)).toBeCloseTo(end, 15);
    expect(learningRate(500, o)).toBeCloseTo(end, 15); // held after the end
  });
  it('is monotone after warmup', () => {
    for (let s = 11; s <= 110; s++) expect(learningRate(s, o)).toBeLessThanOrEqual(learningRate(s - 1, o));
  });
});
