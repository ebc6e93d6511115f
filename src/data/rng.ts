/**
 * Counter-based randomness: every draw is a pure function of its coordinates
 * (seed, step, slot, stream), so a resumed run redraws exactly the same batches
 * without carrying generator state. Hash: pcg4d (Jarzynski & Olano, JCGT 2020).
 */

/** pcg4d on four u32 words; returns the first mixed word. */
export function pcg4d(a: number, b: number, c: number, d: number): number {
  let x = (Math.imul(a >>> 0, 1664525) + 1013904223) >>> 0;
  let y = (Math.imul(b >>> 0, 1664525) + 1013904223) >>> 0;
  let z = (Math.imul(c >>> 0, 1664525) + 1013904223) >>> 0;
  let w = (Math.imul(d >>> 0, 1664525) + 1013904223) >>> 0;
  x = (x + Math.imul(y, w)) >>> 0;
  y = (y + Math.imul(z, x)) >>> 0;
  z = (z + Math.imul(x, y)) >>> 0;
  w = (w + Math.imul(y, z)) >>> 0;
  x ^= x >>> 16;
  y ^= y >>> 16;
  z ^= z >>> 16;
  w ^= w >>> 16;
  x = (x + Math.imul(y, w)) >>> 0;
  y = (y + Math.imul(z, x)) >>> 0;
  z = (z + Math.imul(x, y)) >>> 0;
  return x >>> 0;
}

/** Uniform in [0, 1) at one counter position of one stream. */
export class CounterRng {
  private k = 0;
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly slot: number,
    /** Stream id (< 2^16): separates the two views and other consumers. */
    readonly stream: number,
  ) {}

  /** The draw at counter k (independent of how many draws came before). */
  at(k: number): number {
    return pcg4d(this.seed, this.step, this.slot, ((this.stream & 0xffff) << 16) | (k & 0xffff)) / 4294967296;
  }

  next(): number {
    return this.at(this.k++);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
}

/** Stream ids: views are 0 and 1; the permutation has its own. */
export const PERM_STREAM = 0xfffe;

/** A permutation of 0..n-1 for (seed, epoch): Fisher-Yates over counter draws. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // One hash per swap, keyed by position: no sequential generator state.
    const u = pcg4d(seed, epoch, i, PERM_STREAM << 16) / 4294967296;
    const j = Math.min(i, Math.floor(u * (i + 1)));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}
