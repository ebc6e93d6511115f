/** Node file wrappers around the byte-array safetensors codec (src/export/safetensors.ts). */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor, type Safetensors } from './safetensors.js';

export function readSafetensorsFile(file: string): Safetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError('bad-file', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, file);
}

/**
 * Writes `file` atomically: a temp file in the same directory, fsynced, renamed over it, so a
 * reader (or a process killed mid-write) never sees half a file. Errors are one-line InputErrors.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (let o = 0; o < bytes.length; ) o += writeSync(fd, bytes, o);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw new InputError('bad-file', `${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function writeSafetensorsFile(file: string, tensors: Iterable<[string, SafeTensor]>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
