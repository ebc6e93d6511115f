/** The identity collective of one process (src/dist/collective.ts re-exports it); browser-clean. */
import type { Collective } from './collective.js';

/** One process: the identity collective (size 1). */
export const singleProcess: Collective = {
  rank: 0,
  size: 1,
  allreduceSum: (b) => b,
  allgather: (b) => b,
  bcast: (b) => b,
  barrier: () => {},
  abort: (code) => process.exit(code),
  finalize: () => {},
  commSeconds: 0,
  calls: 0,
};
