import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { testGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { matmul } from '../../src/ops/matmul.js';
import { quietly } from '../../src/gpu/quiet-wait.js';

type Scheduler = (cb: (...a: unknown[]) => void, ...a: unknown[]) => unknown;
const g = globalThis as unknown as { setImmediate: Scheduler };
const real = g.setImmediate;
const nativeSource = (f: unknown) => typeof f === 'function' && Function.prototype.toString.call(f).endsWith('{ [native code] }');

/** Counts the native callbacks that reach setImmediate itself (dawn.node's polls), then schedules them. */
function spyOnPolls(): { polls: () => number } {
  let polls = 0;
  g.setImmediate = (cb, ...a) => {
    if (nativeSource(cb)) polls++;
    return real(cb, ...a);
  };
  return { polls: () => polls };
}

afterEach(() => {
  g.setImmediate = real;
});

describe('quiet waits (dawn.node polls through a timer)', () => {
  it('sends native callbacks to a timer, passes others through, and restores setImmediate', async () => {
    const order: string[] = [];
    await quietly(async () => {
      expect(g.setImmediate).not.toBe(real);
      const native = (() => order.push('native')).bind(null); // a bound function prints as native code
      const handle = g.setImmediate(native) as { constructor: { name: string } };
      expect(handle.constructor.name).toBe('Timeout');
      const plain = g.setImmediate(() => order.push('plain')) as { constructor: { name: string } };
      expect(plain.constructor.name).toBe('Immediate');
      // Nested waits share one wrapper; the outer one still holds it afterwards.
      await quietly(async () => {});
      expect(g.setImmediate).not.toBe(real);
      await new Promise((r) => setTimeout(r, 20));
      // promisify(setImmediate) is Node's own promise form, not a callback wrapper around ours.
      expect(await promisify(g.setImmediate as unknown as typeof setImmediate)('v')).toBe('v');
    });
    expect(order).toEqual(['plain', 'native']);
    expect(g.setImmediate).toBe(real);
  });

  it('a quiet Gpu.sync() waits without the bindings polling through setImmediate; a plain one polls', async () => {
    const gpu = await testGpu();
    const n = 384;
    const a = Tensor.from(gpu, Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) - 6), [n, n]);
    const c = Tensor.empty(gpu, [n, n]);
    const job = () => {
      for (let r = 0; r < 8; r++) matmul(gpu, a, a, { out: c });
    };
    const waitFor = async (quiet: boolean) => {
      const spy = spyOnPolls();
      job();
      gpu.flush();
      const done = () => gpu.device.queue.onSubmittedWorkDone();
      await (quiet ? quietly(done) : done());
      g.setImmediate = real;
      return spy.polls();
    };
    job();
    await gpu.sync(); // compiled and warm
    // At most the poll queued before the wrapper went in; the plain wait polls through it
    // (if a dawn.node release stops polling this way, this says so).
    expect(await waitFor(true)).toBeLessThanOrEqual(1);
    expect(await waitFor(false)).toBeGreaterThan(1);
    // The engine's own wait on this (software) adapter is the quiet one, and still correct.
    expect(gpu.quietWait).toBe(gpu.isSoftware);
    // Row 0 of A A against float64 (integer entries: exact in f32 too).
    const got = await c.read();
    const at = (i: number) => ((i * 7) % 13) - 6;
    for (let j = 0; j < n; j++) {
      let want = 0;
      for (let k = 0; k < n; k++) want += at(k) * at(k * n + j);
      expect(got[j]).toBe(want);
    }
    a.release();
    c.release();
  });
});
