// The harness itself: a comparison that cannot fail would make every op test vacuous.
import { describe, expect, it } from 'vitest';
import { centralDiff, expectClose, expectRel, fdGrad } from './check.js';

describe('op-test harness', () => {
  it('expectClose passes within tolerance and fails outside it, naming the worst element', () => {
    expectClose([1, 2, 3], [1, 2, 3], 0);
    expectClose([1, 2, 3.0002], [1, 2, 3], 1e-4); // 2e-4 / 3 < 1e-4
    expect(() => expectClose([1, 2, 3.0004], [1, 2, 3], 1e-4, 'dW')).toThrow(/^dW: max \|got - want\| = 4\.000e-4 at \[2\] \(got 3\.0004, want 3\)/);
    expect(() => expectClose([1, 2 + 1e-12, 3], [1, 2, 3], 0)).toThrow(/at \[1\]/);
    expect(() => expectClose([1, NaN, 3], [1, 2, 3], 1)).toThrow(/at \[1\] \(got NaN/);
    expect(() => expectClose([1, 2], [1, 2, 3], 1)).toThrow(/2 values, reference has 3/);
    // abs for references at zero; floor for exact-zero gradients.
    expectClose([1e-7, -1e-7], [0, 0], { abs: 2e-7 });
    expect(() => expectClose([3e-7], [0], { abs: 2e-7 })).toThrow();
    expectClose([1e-5], [0], { rel: 2e-3, floor: 1e-2 });
    expect(() => expectClose([1e-4], [0], { rel: 2e-3, floor: 1e-2 })).toThrow();
  });

  it('expectRel and finite differences', () => {
    expectRel(1.00001, 1, 1e-4);
    expect(() => expectRel(1.001, 1, 1e-4, 'loss')).toThrow(/^loss: got 1\.001, want 1/);
    const x = [0.5, -1.25, 2];
    const f = () => x[0]! ** 3 + x[1]! * x[2]!;
    expect(centralDiff(x, 0, f)).toBeCloseTo(3 * 0.25, 6);
    expect(fdGrad(x, f).map((v) => +v.toFixed(6))).toEqual([0.75, 2, -1.25]);
    expect(x).toEqual([0.5, -1.25, 2]); // restored
  });
});
