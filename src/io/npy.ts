/**
 * .npy files on disk (Node only): readNpy/writeNpy around the byte-array codec in
 * ./npy-codec.ts, which is re-exported here so existing importers keep one path.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './file-write.js';
import { InputError } from '../errors.js';
import { MAGIC, MAX_HEADER_BYTES, encodeNpy, parseNpy, parseNpyHeader, type NpyArray } from './npy-codec.js';

export { encodeNpy, parseNpy, parsePyLiteral, type NpyArray } from './npy-codec.js';

/**
 * Reads a .npy file. Only regular files are read (a FIFO, a device or a directory is refused
 * at once, without blocking), and the header is checked against the file's size before the
 * data is read, so no input can make this read without end. Throws InputError('bad-file').
 */
export function readNpy(path: string): NpyArray {
  const fail = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, expected a .npy file'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read (${code ?? (e as Error).message})`;
    throw new InputError('bad-file', `${path}: ${why}`);
  };
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat below refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return fail(e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError('bad-file', `${path}: is a directory, expected a .npy file`);
    if (!st.isFile()) {
      const kind = st.isFIFO() ? 'a pipe (FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new InputError('bad-file', `${path}: is ${kind}; only regular .npy files are read`);
    }
    const size = st.size;
    const readAt = (start: number, len: number): Uint8Array => {
      const buf = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, start + got);
        if (n === 0) throw new InputError('bad-file', `${path}: the file shrank while being read`);
        got += n;
      }
      return buf;
    };
    // The header first (at most 12 bytes of prefix, then its stated length), then the data.
    const prefix = readAt(0, Math.min(size, 12));
    let headerEnd = prefix.byteLength;
    if (prefix.byteLength >= 10 && MAGIC.every((b, k) => prefix[k] === b)) {
      const dv = new DataView(prefix.buffer);
      const hl = prefix[6] === 1 ? dv.getUint16(8, true) + 10 : prefix.byteLength >= 12 ? dv.getUint32(8, true) + 12 : 12;
      headerEnd = Math.min(size, hl, MAX_HEADER_BYTES + 12);
    }
    const head = headerEnd > prefix.byteLength ? readAt(0, headerEnd) : prefix;
    parseNpyHeader(head, path, size); // throws on any header/size mismatch before the data is read
    const bytes = new Uint8Array(size);
    bytes.set(head, 0);
    if (size > head.byteLength) bytes.set(readAt(head.byteLength, size - head.byteLength), head.byteLength);
    return parseNpy(bytes, path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    return fail(e);
  } finally {
    closeSync(fd);
  }
}

/** Writes a float32 C-order array as a .npy file, completely or not at all (file-write.ts). */
export function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}
