import { createGpu, type Gpu } from '../../src/gpu/device.js';

let gpu: Promise<Gpu> | null = null;
/** One device per test file (vitest forks a process per file). */
export function testGpu(): Promise<Gpu> {
  return (gpu ??= createGpu());
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), for test inputs. */
export function randn(n: number, seed = 1, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** max |a - b| / max |b| */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}
