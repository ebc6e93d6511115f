/**
 * The collectives data-parallel training needs, behind one interface, so the training code
 * never branches on MPI: `singleProcess` (size 1, every call an identity) or Open MPI
 * (src/dist/mpi.ts), loaded only when the process was started by mpirun.
 *
 * All calls are blocking and work on host arrays (host-staged: the GPU data is read back
 * first). Every rank must make the same calls in the same order with the same lengths.
 */
export interface Collective {
  readonly rank: number;
  readonly size: number;
  /** Element-wise sum over all ranks, in place; every rank gets the same result. */
  allreduceSum<T extends Float32Array | Float64Array>(buf: T): T;
  /** Concatenation of every rank's `buf` (equal lengths), in rank order. */
  allgather<T extends Float32Array | Float64Array>(buf: T): T;
  /** Rank `root`'s `buf`, copied into every rank's `buf` (in place). */
  bcast<T extends Float32Array | Float64Array>(buf: T, root?: number): T;
  barrier(): void;
  /** Ends the whole job now (all ranks) with exit code `code`; does not return. */
  abort(code: number): never;
  /** Leaves MPI cleanly (call once, at the end, on every rank). */
  finalize(): void;
  /** Seconds spent in collectives so far (communication time, for the measurements). */
  readonly commSeconds: number;
  /** Number of collective calls so far. */
  readonly calls: number;
}

// One process (size 1): in its own module, which TrainStep imports, so that the browser build
// does not pull in the MPI loader below.
import { singleProcess } from './single-process.js';
export { singleProcess };

/** True when this process is a rank of an Open MPI job (mpirun sets these). */
export function underMpi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined;
}

/**
 * The collective of this process: MPI under mpirun (initialised here), else `singleProcess`.
 * koffi and libmpi are imported only in the MPI case, so nothing else needs them installed.
 */
export async function openCollective(opts: { watchdogSeconds?: number } = {}): Promise<Collective> {
  if (!underMpi()) return singleProcess;
  const { MpiCollective } = await import('./mpi.js');
  return MpiCollective.init(opts);
}
