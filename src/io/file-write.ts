/**
 * The one way the engine writes files (checkpoints, config, summary, features, report,
 * gradients, metrics). Node only.
 *
 * - `writeFileAtomic`: a temp file in the same directory is written in a loop until every
 *   byte is down (a short write on a full disk is not an error to `write()`), fsynced, and
 *   only then renamed over the old file; the directory is fsynced so the rename is durable.
 *   Any failure removes the temp file and leaves the old file as it was.
 * - `appendLines`: whole lines or nothing: a failed append is cut back to the old length, so
 *   a torn line is never left behind.
 *
 * Failures are a WriteError (an InputError, exit 2): one line naming the file, the cause and,
 * on a full disk, the bytes needed against the bytes free.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

export class WriteError extends InputError {
  override name = 'WriteError';
  constructor(
    readonly file: string,
    readonly errno: string,
    message: string,
  ) {
    super('write-failed', message);
  }
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'I/O error from the device',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
};

function writeError(file: string, e: unknown, needed: number, keptOld: boolean): WriteError {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  let msg = `cannot write ${file}: ${CAUSES[code] ?? code}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const free = freeBytes(dirname(file));
    msg += ` (needs ${human(needed)}${free === null ? '' : `, ${human(free)} free`})`;
  }
  if (keptOld) msg += '; the previous file is intact';
  return new WriteError(file, code, msg);
}

/** write() until every byte is down; a write that makes no progress is a full disk. */
function writeAll(fd: number, bytes: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position === null ? null : position + done);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    done += n;
  }
}

function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some file systems cannot open a directory; the rename is still atomic
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL on file systems without directory fsync (tmpfs on some kernels): nothing to make durable
  } finally {
    closeSync(fd);
  }
}

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
}

/** Writes `file` completely or not at all (see the module comment). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const tmp = tempPathFor(file);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    writeAll(fd, bytes, 0);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the write error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw writeError(file, e, bytes.length, true);
  }
  fsyncDir(dirname(file));
}

/** Appends whole lines: on any failure the file is cut back to its old length. */
export function appendLines(file: string, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let fd: number;
  try {
    fd = openSync(file, 'a');
  } catch (e) {
    throw writeError(file, e, bytes.length, false);
  }
  let size = 0;
  try {
    size = fstatSync(fd).size;
    writeAll(fd, bytes, null);
  } catch (e) {
    try {
      ftruncateSync(fd, size);
    } catch {
      // the write error is the one to report
    }
    closeSync(fd);
    throw writeError(file, e, bytes.length, false);
  }
  closeSync(fd);
}

/**
 * mkdir -p one level at a time, refusing /proc and /sys (Node 20's recursive mkdirSync can
 * spin forever under /proc). Throws InputError('bad-option') naming `what` (e.g. '--out').
 */
export function makeDirs(dir: string, what: string): void {
  const norm = dir.replace(/\/+$/, '') || '/';
  const refuse = (why: string): never => {
    throw new InputError('bad-option', `cannot write to ${what} ${dir}: ${why}`);
  };
  if (/^\/(proc|sys)(\/|$)/.test(norm)) refuse('/proc and /sys hold no files of ours');
  const missing: string[] = [];
  let d = norm;
  for (;;) {
    try {
      if (statSync(d).isDirectory()) break;
      refuse(`${d} exists and is not a directory`);
    } catch (e) {
      if (e instanceof InputError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') refuse('a path component is not a directory');
      if (code !== 'ENOENT') refuse(CAUSES[code ?? ''] ?? code ?? (e as Error).message);
    }
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      refuse(CAUSES[code ?? ''] ?? code ?? (e as Error).message);
    }
  }
}
