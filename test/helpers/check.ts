/**
 * The shared op-test harness: GPU results against float64 references, and finite differences
 * of a reference function (to check the reference's own gradients). Every op test uses these,
 * so each op and kernel variant is checked the same way in both kernel families
 * (`npm test` runs the suite with VICREG_TUNING=cpu and =gpu).
 */
import { assert } from 'vitest';

/** max |a - b| / max |b| (max |a - b| when b is all zeros). */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

/** Relative error of one number against a reference (|b| floored at 1e-12). */
export const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

export interface Tol {
  /** Passes when max |got - want| / max |want| < rel (relMaxErr). */
  rel?: number;
  /** Or when max |got - want| <= abs (for references that are 0 or nearly so). */
  abs?: number;
  /** Relative to max(max |want|, floor) instead of max |want| (e.g. exact-zero gradients). */
  floor?: number;
}

/**
 * Asserts that `got` matches `want` element by element: max |got - want| < rel * max |want|
 * (or <= abs). `tol` as a number is `rel`; 0 means exactly equal. Lengths must match and a NaN
 * anywhere fails. The message names the worst element, both values and the scale.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number | Tol, what = 'result'): void {
  const t: Tol = typeof tol === 'number' ? { rel: tol } : tol;
  const rel = t.rel ?? 0;
  const abs = t.abs ?? 0;
  if (got.length !== want.length) assert.fail(`${what}: ${got.length} values, reference has ${want.length}`);
  let worst = -1;
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= num)) {
      // also taken for NaN, so a NaN is reported as the worst element
      num = e;
      worst = i;
      if (Number.isNaN(e)) break;
    }
    den = Math.max(den, Math.abs(want[i]!));
  }
  const scale = Math.max(den, t.floor ?? 0);
  const err = scale === 0 ? num : num / scale;
  if (num <= abs || err < rel) return;
  const at = worst >= 0 ? ` at [${worst}] (got ${got[worst]}, want ${want[worst]})` : '';
  assert.fail(`${what}: max |got - want| = ${num.toExponential(3)}${at}; relative ${err.toExponential(3)}, allowed < ${rel}` +
    `${abs ? ` or absolute <= ${abs}` : ''} (scale ${scale.toPrecision(4)}, ${want.length} values)`);
}

/** Asserts |got - want| < rel * |want| for one number (relErr). */
export function expectRel(got: number, want: number, rel: number, what = 'value'): void {
  const e = relErr(got, want);
  if (!(e < rel)) assert.fail(`${what}: got ${got}, want ${want}; relative error ${e.toExponential(3)}, allowed < ${rel}`);
}

/** Central difference of `f` in `arr[i]` (arr is perturbed in place and restored). */
export function centralDiff(arr: number[] | Float64Array, i: number, f: () => number, h = 1e-6): number {
  const v = arr[i]!;
  arr[i] = v + h;
  const up = f();
  arr[i] = v - h;
  const dn = f();
  arr[i] = v;
  return (up - dn) / (2 * h);
}

/** Central differences of `f` in each of `arr[idx]` (default: every element). */
export function fdGrad(arr: number[] | Float64Array, f: () => number, h = 1e-6, idx?: readonly number[]): number[] {
  return (idx ?? Array.from(arr, (_, i) => i)).map((i) => centralDiff(arr, i, f, h));
}

/** Σ a_i b_i: the scalar whose gradient is a backward pass seeded with `b`. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** The values at `idx` (to compare a few finite differences with the analytic gradient). */
export const pick = (a: ArrayLike<number>, idx: readonly number[]): number[] => idx.map((i) => a[i]!);
