/** Node file wrappers around the byte-array safetensors codec (src/export/safetensors.ts). */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/file-write.js';
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

/** Written completely or not at all (src/io/file-write.ts); a failure is a one-line WriteError. */
export function writeSafetensorsFile(file: string, tensors: Iterable<[string, SafeTensor]>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
