// The float64 reference itself: finite differences and the published fixed vector.
import { describe, expect, it } from 'vitest';
import { vicregRef, fixedVector } from '../ref/vicreg.js';
import { randn } from '../helpers/gpu.js';
import { expectClose, fdGrad } from '../helpers/check.js';

describe('VICReg float64 reference', () => {
  it('reproduces the fixed vector (official convention)', () => {
    const { a, b } = fixedVector();
    // The figures are for float64 inputs; ours are rounded to float32, hence 1e-6.
    const r = vicregRef(Float64Array.from(a), Float64Array.from(b), 8, 4);
    expect(r.loss).toBeCloseTo(9.231594724112, 5);
    expect(r.invariance).toBeCloseTo(0.046767574516, 6);
    expect(r.variance).toBeCloseTo(0.266035889544, 6);
    expect(r.covariance).toBeCloseTo(1.411508122613, 5);
  });

  for (const convention of ['official', 'paper'] as const)
    for (const [n, d] of [[2, 1], [3, 5], [6, 4]] as const)
      it(`gradients match central differences (${convention}, n=${n}, d=${d})`, () => {
        // Scale 0.6 keeps some columns below γ (hinge active) and some above.
        const z1 = Float64Array.from(randn(n * d, 11 + n, 0.9));
        const z2 = Float64Array.from(randn(n * d, 23 + d, 0.9));
        const r = vicregRef(z1, z2, n, d, { convention });
        const L = () => vicregRef(z1, z2, n, d, { convention }).loss;
        // abs 5e-6: what toBeCloseTo(v, 5) allowed per element
        expectClose(r.g1, fdGrad(z1, L), { abs: 5e-6 }, 'g1 vs central differences');
        expectClose(r.g2, fdGrad(z2, L), { abs: 5e-6 }, 'g2 vs central differences');
      });
});
