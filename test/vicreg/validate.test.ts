import { describe, expect, it } from 'vitest';
import { InputError, type InputErrorCode } from '../../src/errors.js';
import { firstNonFinite, validateOptions, validatePair } from '../../src/vicreg/validate.js';
import { resolveOptions } from '../../src/vicreg/loss.js';

function code(fn: () => unknown): { code: InputErrorCode; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return { code: (e as InputError).code, message: (e as InputError).message };
  }
  throw new Error('expected an InputError');
}

const z = (n: number) => new Float32Array(n).map((_, k) => Math.sin(k));

describe('validatePair', () => {
  it('returns n and d for a good pair', () => {
    expect(validatePair(z(12), [4, 3], z(12), [4, 3])).toEqual({ n: 4, d: 3 });
    expect(validatePair(z(2), [2, 1], z(2), [2, 1])).toEqual({ n: 2, d: 1 });
  });

  it('bad-rank for 1-D, 3-D and d = 0', () => {
    expect(code(() => validatePair(z(12), [12], z(12), [4, 3]))).toMatchObject({ code: 'bad-rank', message: expect.stringMatching(/^z1: .*1-D shape \(12,\)/) });
    expect(code(() => validatePair(z(12), [4, 3], z(12), [2, 2, 3], ['a.npy', 'b.npy']))).toMatchObject({
      code: 'bad-rank',
      message: expect.stringMatching(/^b\.npy: .*3-D shape \(2, 2, 3\)/),
    });
    expect(code(() => validatePair(z(0), [4, 0], z(0), [4, 0])).code).toBe('bad-rank');
  });

  it('shape-mismatch when the shapes differ or a length disagrees with its shape', () => {
    expect(code(() => validatePair(z(12), [4, 3], z(12), [3, 4]))).toMatchObject({
      code: 'shape-mismatch',
      message: expect.stringContaining('z1 is (4, 3), z2 is (3, 4)'),
    });
    expect(code(() => validatePair(z(11), [4, 3], z(12), [4, 3])).code).toBe('shape-mismatch');
  });

  it('too-few-rows for n < 2', () => {
    expect(code(() => validatePair(z(3), [1, 3], z(3), [1, 3])).code).toBe('too-few-rows');
    expect(code(() => validatePair(z(0), [0, 3], z(0), [0, 3])).code).toBe('too-few-rows');
  });

  it('non-finite names the input and the first bad [row, column]', () => {
    for (const [bad, word] of [
      [NaN, 'NaN'],
      [Infinity, 'Inf'],
      [-Infinity, '-Inf'],
    ] as const) {
      const b = z(12);
      b[7] = bad;
      b[10] = NaN;
      expect(code(() => validatePair(z(12), [4, 3], b, [4, 3], ['x.npy', 'y.npy']))).toEqual({
        code: 'non-finite',
        message: `y.npy: ${word} at index [2, 1] (flat 7); inputs must be finite`,
      });
    }
    const a = z(12);
    a[0] = NaN;
    expect(code(() => validatePair(a, [4, 3], z(12), [4, 3])).message).toMatch(/^z1: NaN at index \[0, 0\]/);
  });

  it('firstNonFinite', () => {
    expect(firstNonFinite(new Float32Array([1, 2, 3]))).toBe(-1);
    expect(firstNonFinite(new Float32Array([1, 3.4e38, -Infinity]))).toBe(2);
    expect(firstNonFinite(new Float32Array([NaN]))).toBe(0);
  });
});

describe('validateOptions', () => {
  it('accepts defaults and sensible values', () => {
    validateOptions({});
    validateOptions({ convention: 'paper', form: 'gram', lambda: 0, mu: 25, nu: 1, gamma: 1, eps: 1e-4 });
  });
  it('rejects out-of-domain values with bad-option', () => {
    for (const o of [
      { lambda: -1 },
      { mu: NaN },
      { nu: Infinity },
      { gamma: -0.5 },
      { eps: 0 },
      { eps: -1e-4 },
      { convention: 'nope' },
      { form: 'dense' },
    ]) {
      expect(code(() => validateOptions(o as never)).code).toBe('bad-option');
      // The library resolves options through the same validator as the CLI.
      expect(code(() => resolveOptions(8, 4, o as never)).message).toBe(code(() => validateOptions(o as never)).message);
    }
  });
});
