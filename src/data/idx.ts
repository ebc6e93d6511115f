/**
 * Reader for gzipped IDX files (the MNIST / Fashion-MNIST container) in Node: reads and gunzips
 * the file, then parses its bytes with src/data/idx-parse.ts (browser-clean, re-exported here).
 * Every failure is an InputError('bad-file') naming the file and how to get the data.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { badFile, parseIdxImages, parseIdxLabels, type IdxImages, type IdxLabels } from './idx-parse.js';

export * from './idx-parse.js';

/** Reads and gunzips a file; raises bad-file for missing, empty or non-gzip input. */
function readGz(path: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badFile(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (e as Error).message})`);
  }
  if (raw.length === 0) throw badFile(path, 'file is empty');
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) throw badFile(path, 'not a gzip file');
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw badFile(path, `corrupt gzip data (${(e as Error).message.split('\n')[0]})`);
  }
}

export function readIdxImages(path: string): IdxImages {
  return parseIdxImages(readGz(path), path);
}

export function readIdxLabels(path: string, classes = 10): IdxLabels {
  return parseIdxLabels(readGz(path), path, classes);
}
