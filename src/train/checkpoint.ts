/**
 * Checkpoints: one binary file, written atomically and completely (src/io/file-write.ts), so a
 * process killed at any moment, or a full disk, leaves the previous checkpoint intact.
 *
 *   0   "VICREGCK"            magic (8 bytes)
 *   8   u32 version
 *   12  u32 header length H
 *   16  header JSON (UTF-8), space-padded to a multiple of 4
 *   ..  float32 little-endian tensor data, in header order
 *   end u32 CRC-32 of every preceding byte
 *
 * Loading checks all of it and throws InputError('bad-file') with a one-line message.
 */
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { InputError } from '../errors.js';
import { makeDirs, writeFileAtomic } from '../io/file-write.js';

// Older callers import the writer from here.
export { writeFileAtomic };

export const CHECKPOINT_MAGIC = 'VICREGCK';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILE = 'model.ckpt';
export const CHECKPOINT_DIR = 'checkpoint';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Byte offset from the start of the data section. */
  offset: number;
}

export interface CheckpointHeader {
  /** Completed optimizer steps: the next step to run. */
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** Training seconds so far (for the metrics' time axis). */
  elapsed: number;
  /** The resolved TrainConfig. */
  config: unknown;
  /** Data order and augmentation are counter-based draws of (seed, step): the seed is the whole RNG state. */
  rng: { seed: number; kind: string };
  optimizer: { kind: string; steps: number };
  /** The run this checkpoint belongs to (config.json's run_id); absent in older checkpoints. */
  runId?: string;
  /** Anything else the trainer wants back (e.g. the init-encoder evaluation). */
  extra?: Record<string, unknown>;
  tensors?: TensorEntry[];
}

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, NamedArray>;
}

let crcTable: Uint32Array | null = null;
/** CRC-32 (zlib's polynomial); zlib.crc32 where Node has it. */
export function crc32(bytes: Uint8Array, prev = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(bytes, prev) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~prev >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Serialises a checkpoint to bytes. */
export function encodeCheckpoint(header: CheckpointHeader, tensors: NamedArray[]): Uint8Array {
  let offset = 0;
  const entries: TensorEntry[] = tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`checkpoint: ${t.name} has ${t.data.length} values for [${t.shape}]`);
    const e = { name: t.name, shape: [...t.shape], offset };
    offset += n * 4;
    return e;
  });
  let json = JSON.stringify({ ...header, tensors: entries });
  json += ' '.repeat((4 - (Buffer.byteLength(json) % 4)) % 4);
  const head = Buffer.from(json, 'utf8');
  const total = 16 + head.length + offset + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(Buffer.from(CHECKPOINT_MAGIC, 'latin1'), 0);
  dv.setUint32(8, CHECKPOINT_VERSION, true);
  dv.setUint32(12, head.length, true);
  out.set(head, 16);
  const base = 16 + head.length;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    const o = base + entries[i]!.offset;
    for (let j = 0; j < t.data.length; j++) dv.setFloat32(o + 4 * j, t.data[j]!, true);
  }
  dv.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/** Parses and validates checkpoint bytes; `file` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const fail = (why: string): never => {
    throw new InputError('bad-file', `checkpoint ${file}: ${why}`);
  };
  if (bytes.length < 20) fail(`too short (${bytes.length} bytes): not a checkpoint or truncated`);
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== CHECKPOINT_MAGIC) fail('bad magic: not a vicreg-webgpu checkpoint');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) fail(`version ${version}, this build reads version ${CHECKPOINT_VERSION}`);
  const hlen = dv.getUint32(12, true);
  if (16 + hlen + 4 > bytes.length) fail('truncated (header runs past the end of the file)');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + hlen)).toString('utf8')) as CheckpointHeader;
  } catch {
    return fail('corrupt header (not JSON)');
  }
  const entries = header.tensors;
  if (!Array.isArray(entries)) fail('corrupt header (no tensor table)');
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(header.step)) fail(`corrupt header (step ${JSON.stringify(header.step)}: not a count)`);
  if (!count(header.epoch)) fail(`corrupt header (epoch ${JSON.stringify(header.epoch)}: not a count)`);
  if (typeof header.elapsed !== 'number' || !(header.elapsed >= 0) || !Number.isFinite(header.elapsed)) fail('corrupt header (elapsed: not a duration)');
  if (!header.optimizer || typeof header.optimizer !== 'object' || !count(header.optimizer.steps)) fail('corrupt header (no optimizer state)');
  if (!header.rng || typeof header.rng !== 'object' || !count(header.rng.seed)) fail('corrupt header (no RNG state)');
  if (!header.config || typeof header.config !== 'object') fail('corrupt header (no configuration)');
  if (header.runId !== undefined && typeof header.runId !== 'string') fail('corrupt header (run id)');
  const base = 16 + hlen;
  let dataBytes = 0;
  for (const e of entries!) {
    if (!e || typeof e.name !== 'string' || !Array.isArray(e.shape) || !e.shape.every(count) || e.offset !== dataBytes) fail(`corrupt header (tensor table at '${e?.name}')`);
    dataBytes += e.shape.reduce((a, b) => a * b, 1) * 4;
  }
  const want = base + dataBytes + 4;
  if (bytes.length !== want) fail(`${bytes.length < want ? 'truncated' : 'has trailing bytes'}: ${bytes.length} bytes, header describes ${want}`);
  const stored = dv.getUint32(want - 4, true);
  if (crc32(bytes.subarray(0, want - 4)) !== stored) fail('checksum mismatch (corrupt file)');
  const tensors = new Map<string, NamedArray>();
  for (const e of entries!) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const o = base + e.offset;
    for (let j = 0; j < n; j++) data[j] = dv.getFloat32(o + 4 * j, true);
    tensors.set(e.name, { name: e.name, shape: e.shape, data });
  }
  delete header.tensors;
  return { header, tensors };
}

/** Resolves --resume: a run directory, its checkpoint/ directory, or the file itself. */
export function findCheckpoint(path: string): string {
  const candidates = [join(path, CHECKPOINT_DIR, CHECKPOINT_FILE), join(path, CHECKPOINT_FILE), path];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // try the next spelling
    }
  }
  if (!existsSync(path)) throw new InputError('bad-file', `--resume: ${path} does not exist`);
  throw new InputError('bad-file', `--resume: no checkpoint in ${path} (looked for ${CHECKPOINT_DIR}/${CHECKPOINT_FILE})`);
}

export function loadCheckpoint(file: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError('bad-file', `checkpoint ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeCheckpoint(bytes, file);
}

/** Removes temp files left by a process killed mid-write (never the checkpoint itself). */
export function removeStaleTemps(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`.${CHECKPOINT_FILE}.tmp-`)) {
      try {
        unlinkSync(join(dir, n));
      } catch {
        // another process may own it; harmless
      }
    }
  }
}

export async function saveCheckpoint(runDir: string, header: CheckpointHeader, tensors: NamedArray[]): Promise<string> {
  const dir = join(runDir, CHECKPOINT_DIR);
  const file = join(dir, CHECKPOINT_FILE);
  makeDirs(dir, 'the checkpoint directory');
  writeFileAtomic(file, encodeCheckpoint(header, tensors));
  return file;
}
