/**
 * The IDX container (MNIST / Fashion-MNIST) parsed from bytes, with no Node built-ins (the
 * browser example uses it on DecompressionStream output; src/data/idx.ts reads and gunzips files
 * in Node and parses them here): a big-endian header (magic = 0x0000 0x08 ndim for unsigned
 * bytes, then ndim u32 sizes) and raw bytes. Every failure is an InputError('bad-file') naming
 * the file and how to get the data.
 */
import { InputError } from '../errors.js';

/** Magic numbers of the two IDX kinds we read (type 0x08 = ubyte). */
export const IDX_IMAGES_MAGIC = 2051; // 3 dims: n, rows, cols
export const IDX_LABELS_MAGIC = 2049; // 1 dim: n

export interface IdxImages {
  n: number;
  rows: number;
  cols: number;
  /** n*rows*cols bytes, row-major. */
  data: Uint8Array;
}

export interface IdxLabels {
  n: number;
  data: Uint8Array;
}

export const DATA_HINT = "install the Debian package 'dataset-fashion-mnist' (apt-get install dataset-fashion-mnist) or pass --data DIR";

export function badFile(path: string, why: string): InputError {
  return new InputError('bad-file', `${path}: ${why}; ${DATA_HINT}`);
}

/** Parses an (already gunzipped) IDX buffer with the given magic; returns its dims and payload. */
export function parseIdx(buf: Uint8Array, path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const ndim = magic & 0xff;
  const header = 4 + 4 * ndim;
  if (buf.length < 4) throw badFile(path, `too short for an IDX header (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) throw badFile(path, `wrong IDX magic number ${got} (expected ${magic})`);
  if (buf.length < header) throw badFile(path, `truncated IDX header (${buf.length} of ${header} bytes)`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (dims.some((d) => d === 0)) throw badFile(path, `empty dimension in [${dims.join(', ')}]`);
  const want = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - header;
  if (have < want) throw badFile(path, `truncated: ${have} data bytes, header [${dims.join(', ')}] needs ${want}`);
  if (have > want) throw badFile(path, `${have - want} unexpected bytes after the data for [${dims.join(', ')}]`);
  return { dims, data: buf.subarray(header) };
}

/** An IDX image file's (already gunzipped) bytes; `name` is used in error messages. */
export function parseIdxImages(buf: Uint8Array, name: string): IdxImages {
  const { dims, data } = parseIdx(buf, name, IDX_IMAGES_MAGIC);
  return { n: dims[0]!, rows: dims[1]!, cols: dims[2]!, data };
}

/** An IDX label file's (already gunzipped) bytes; every label must be below `classes`. */
export function parseIdxLabels(buf: Uint8Array, name: string, classes = 10): IdxLabels {
  const { dims, data } = parseIdx(buf, name, IDX_LABELS_MAGIC);
  for (let i = 0; i < data.length; i++) {
    if (data[i]! >= classes) throw badFile(name, `label ${data[i]} at ${i} is not below ${classes}`);
  }
  return { n: dims[0]!, data };
}
