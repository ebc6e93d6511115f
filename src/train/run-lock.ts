/**
 * One process at a time per run directory: DIR/.lock is created exclusively (O_EXCL) and holds
 * the owner's pid, host and process start time. A lock whose owner is gone (killed with -9,
 * machine rebooted) is stale and taken over; a live owner makes the second run refuse with
 * one line. The start time guards against a recycled pid.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux /proc/PID/stat field 22), or null elsewhere. */
  started: string | null;
  since: string;
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // cannot tell from here: assume it runs
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (killed, not yet reaped: e.g. an MPI rank whose mpirun exited, in a container whose
  // init does not reap) answers kill(0) but holds nothing.
  if (isZombie(info.pid)) return false;
  const now = startTimeOf(info.pid);
  return info.started === null || now === null || now === info.started;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string) {
    process.on('exit', this.onExit);
  }

  /** Takes DIR's lock or throws InputError('locked') naming the owner. */
  static acquire(dir: string): RunLock {
    const file = join(dir, LOCK_FILE);
    const me: LockInfo = { pid: process.pid, host: hostname(), started: startTimeOf(process.pid), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new InputError('bad-option', `cannot lock the run directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        let owner: LockInfo | null = null;
        try {
          owner = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
        } catch {
          // empty or torn: the owner died between create and write, or is writing right now
        }
        if (owner && typeof owner.pid === 'number' && alive(owner)) {
          if (owner.pid === process.pid && owner.host === me.host) {
            throw new InputError('locked', `run directory ${dir} is already in use by this process`);
          }
          throw new InputError(
            'locked',
            `run directory ${dir} is in use by process ${owner.pid} on ${owner.host} (since ${owner.since}); wait for it to finish or use another --out`,
          );
        }
        if (!owner && attempt === 0) {
          // Give a writer that just created the file a moment to fill it in.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
          continue;
        }
        try {
          unlinkSync(file); // stale: its owner is gone
        } catch {
          // someone else removed it first; try again
        }
        continue;
      }
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
      } finally {
        closeSync(fd);
      }
      return new RunLock(file);
    }
    throw new InputError('locked', `run directory ${dir}: could not take its lock (another run keeps taking it)`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      const owner = JSON.parse(readFileSync(this.file, 'utf8')) as LockInfo;
      if (owner.pid === process.pid) unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
