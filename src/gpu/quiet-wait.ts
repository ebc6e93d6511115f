/**
 * Waiting on a GPU promise without spinning a CPU core (Node with Dawn's bindings).
 *
 * dawn.node resolves GPU promises by polling: while any is pending it queues a native callback
 * with the global `setImmediate`, and that callback queues the next, so the main thread spins
 * through every wait. On a software adapter the spin takes a core from the adapter's own
 * threads: on a 2-core machine the quick training step ran 1.27-1.52x faster with the polls
 * deferred by a 1 ms timer (docs/gpu-notes.md). The bindings look `setImmediate` up on every
 * poll, so while a quiet wait is pending, `setImmediate` is a wrapper that sends native
 * callbacks (the bindings') to a 1 ms timer and passes every other callback through unchanged.
 * Where there is no `setImmediate` (browsers), a quiet wait is a plain await.
 */

/** Delay between polls during a quiet wait: the latency a wait can add. */
const POLL_MS = 1;

type SetImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

let pending = 0;
let original: SetImmediate | null = null;

const fnSource = Function.prototype.toString;
const isNative = (f: unknown) => typeof f === 'function' && fnSource.call(f).endsWith('{ [native code] }');

const deferred: SetImmediate = (callback, ...args) =>
  isNative(callback) ? setTimeout(callback, POLL_MS, ...args) : original!(callback, ...args);

function install(): void {
  const g = globalThis as { setImmediate?: SetImmediate };
  if (pending++ > 0 || typeof g.setImmediate !== 'function') return;
  original = g.setImmediate;
  // Keep what hangs off it (util.promisify.custom: `promisify(setImmediate)` still works meanwhile).
  for (const key of Object.getOwnPropertySymbols(original)) {
    Object.defineProperty(deferred, key, { ...Object.getOwnPropertyDescriptor(original, key)!, configurable: true });
  }
  g.setImmediate = deferred;
}

function uninstall(): void {
  const g = globalThis as { setImmediate?: SetImmediate };
  if (--pending > 0 || !original) return;
  // Someone else replaced it meanwhile: leave theirs. `original` stays set, so a replacement
  // that calls ours still reaches the real one.
  if (g.setImmediate === deferred) g.setImmediate = original;
}

/** Awaits `start()` (a GPU promise) with the bindings' polls deferred; nested and concurrent waits share one wrapper. */
export async function quietly<T>(start: () => Promise<T>): Promise<T> {
  install();
  try {
    return await start();
  } finally {
    uninstall();
  }
}
