/**
 * Open MPI through koffi (FFI): the few calls data-parallel training makes. Loaded only
 * under mpirun (collective.ts imports it lazily).
 *
 * Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are not integers as in
 * MPICH but the addresses of global objects (`ompi_mpi_comm_world`, ...); koffi's
 * `lib.symbol(name)` returns such an address as a bigint, which a `void *` parameter takes.
 * MPI_IN_PLACE is `(void *) 1`: the in-place calls declare that parameter as intptr_t.
 *
 * A watchdog thread ends this rank (and so, through mpirun, the job) when one collective
 * blocks longer than `watchdogSeconds`: a peer that hangs instead of dying would otherwise
 * hang every rank. (A peer that dies is handled by mpirun itself: it kills the others.)
 */
import { Worker } from 'node:worker_threads';
import type { Collective } from './collective.js';

type Fn = (...a: unknown[]) => number;

const MPI_THREAD_FUNNELED = 1;
const MPI_IN_PLACE = 1;

/** Default watchdog: longer than anything rank 0 does alone (evaluation, checkpoints) on a slow machine. */
const DEFAULT_WATCHDOG_S = 1800;

export class MpiCollective implements Collective {
  readonly rank: number;
  readonly size: number;
  commSeconds = 0;
  calls = 0;
  private finalized = false;

  private constructor(
    private readonly f: Record<string, Fn>,
    private readonly h: { comm: bigint; float: bigint; double: bigint; sum: bigint },
    /** [0]: performance.now() when the current call started, 0 = none; [1]: timeout ms. */
    private readonly clock: Float64Array,
  ) {
    const out = [0];
    this.check(f.MPI_Comm_rank!(h.comm, out), 'MPI_Comm_rank');
    this.rank = out[0]!;
    this.check(f.MPI_Comm_size!(h.comm, out), 'MPI_Comm_size');
    this.size = out[0]!;
  }

  static async init(opts: { watchdogSeconds?: number } = {}): Promise<MpiCollective> {
    const koffi = (await import('koffi')).default;
    let lib;
    try {
      // global: Open MPI's own plugins (dlopen'ed by libmpi) resolve symbols of libmpi.
      lib = koffi.load('libmpi.so.40', { global: true });
    } catch (e) {
      throw new Error(`cannot load Open MPI's libmpi.so.40 (install openmpi-bin and libopenmpi-dev): ${(e as Error).message}`);
    }
    const decl = (s: string) => lib.func(s) as unknown as Fn;
    const f: Record<string, Fn> = {
      MPI_Init_thread: decl('int MPI_Init_thread(void *argc, void *argv, int required, _Out_ int *provided)'),
      MPI_Initialized: decl('int MPI_Initialized(_Out_ int *flag)'),
      MPI_Comm_rank: decl('int MPI_Comm_rank(void *comm, _Out_ int *rank)'),
      MPI_Comm_size: decl('int MPI_Comm_size(void *comm, _Out_ int *size)'),
      MPI_Allreduce: lib.func('MPI_Allreduce', 'int', ['intptr_t', 'void *', 'int', 'void *', 'void *', 'void *']) as unknown as Fn,
      MPI_Allgather: decl('int MPI_Allgather(void *sendbuf, int sendcount, void *sendtype, void *recvbuf, int recvcount, void *recvtype, void *comm)'),
      MPI_Bcast: decl('int MPI_Bcast(void *buf, int count, void *type, int root, void *comm)'),
      MPI_Barrier: decl('int MPI_Barrier(void *comm)'),
      MPI_Abort: decl('int MPI_Abort(void *comm, int code)'),
      MPI_Finalize: decl('int MPI_Finalize()'),
    };
    const sym = (n: string) => lib.symbol(n) as bigint;
    const h = { comm: sym('ompi_mpi_comm_world'), float: sym('ompi_mpi_float'), double: sym('ompi_mpi_double'), sum: sym('ompi_mpi_op_sum') };
    const flag = [0];
    f.MPI_Initialized!(flag);
    if (!flag[0]) {
      const provided = [0];
      const rc = f.MPI_Init_thread!(null, null, MPI_THREAD_FUNNELED, provided);
      if (rc !== 0) throw new Error(`MPI_Init_thread failed (error ${rc})`);
    }
    const clock = new Float64Array(new SharedArrayBuffer(16));
    const timeout = opts.watchdogSeconds ?? Number(process.env.VICREG_DIST_TIMEOUT ?? DEFAULT_WATCHDOG_S);
    clock[1] = timeout * 1000;
    const c = new MpiCollective(f, h, clock);
    if (timeout > 0) startWatchdog(clock, c.rank);
    return c;
  }

  private check(rc: number, what: string): void {
    // Open MPI's default error handler (MPI_ERRORS_ARE_FATAL) aborts before this; kept for others.
    if (rc !== 0) this.abortWith(`${what} failed (MPI error ${rc})`);
  }

  private abortWith(msg: string): never {
    process.stderr.write(`vicreg: error: rank ${this.rank}: ${msg}\n`);
    return this.abort(1);
  }

  /** Runs one blocking MPI call under the watchdog's clock and the communication timer. */
  private timed(what: string, call: () => number): void {
    const t = performance.now();
    this.clock[0] = t || 1e-9;
    try {
      this.check(call(), what);
    } finally {
      this.clock[0] = 0;
      this.commSeconds += (performance.now() - t) / 1000;
      this.calls++;
    }
  }

  private type(buf: Float32Array | Float64Array): bigint {
    return buf instanceof Float64Array ? this.h.double : this.h.float;
  }

  allreduceSum<T extends Float32Array | Float64Array>(buf: T): T {
    if (buf.length === 0) return buf;
    this.timed('MPI_Allreduce', () => this.f.MPI_Allreduce!(MPI_IN_PLACE, buf, buf.length, this.type(buf), this.h.sum, this.h.comm));
    return buf;
  }

  allgather<T extends Float32Array | Float64Array>(buf: T): T {
    const out = new (buf.constructor as { new (n: number): T })(buf.length * this.size);
    const t = this.type(buf);
    this.timed('MPI_Allgather', () => this.f.MPI_Allgather!(buf, buf.length, t, out, buf.length, t, this.h.comm));
    return out;
  }

  bcast<T extends Float32Array | Float64Array>(buf: T, root = 0): T {
    this.timed('MPI_Bcast', () => this.f.MPI_Bcast!(buf, buf.length, this.type(buf), root, this.h.comm));
    return buf;
  }

  barrier(): void {
    this.timed('MPI_Barrier', () => this.f.MPI_Barrier!(this.h.comm));
  }

  abort(code: number): never {
    this.f.MPI_Abort!(this.h.comm, code);
    process.exit(code); // not reached: MPI_Abort ends the process
  }

  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.f.MPI_Finalize!();
  }
}

/**
 * A thread that watches the main thread's current MPI call: past the timeout it prints one
 * line and SIGKILLs this process; mpirun then ends every rank. (The main thread cannot do it:
 * it is the one blocked inside MPI.)
 */
function startWatchdog(clock: Float64Array, rank: number): void {
  const code = `
    const { workerData } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    const clock = new Float64Array(workerData.sab);
    setInterval(() => {
      const since = clock[0];
      if (since > 0 && performance.timeOrigin - workerData.origin + performance.now() - since > clock[1]) {
        writeSync(2, 'vicreg: error: rank ' + workerData.rank + ': a collective blocked for more than ' + (clock[1] / 1000) +
          ' s (a peer rank hangs); ending the job (VICREG_DIST_TIMEOUT sets the limit)\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }, 500);
  `;
  // The worker's performance.now() counts from its own time origin: convert to ours.
  const w = new Worker(code, { eval: true, workerData: { sab: clock.buffer, rank, origin: performance.timeOrigin } });
  w.unref();
}
