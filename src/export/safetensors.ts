/**
 * The safetensors format (https://github.com/huggingface/safetensors), on byte arrays only
 * (no node:fs: this file is browser-clean; src/export/files.ts reads and writes files):
 *
 *   0      u64 little-endian N: header length
 *   8      header: N bytes of UTF-8 JSON, optionally space-padded:
 *            { "__metadata__": { "key": "string value", ... },
 *              "name": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ... }
 *   8+N    data section: each tensor's raw little-endian row-major bytes at [begin, end)
 *
 * Decoding validates as the reference implementation does: the tensors must tile the data
 * section exactly (sorted by offset: no overlap, no hole, nothing after the last), and every
 * tensor's byte range must equal its shape times its dtype's size. Any failure is an
 * InputError('bad-file') with a one-line message naming the file.
 */
import { InputError } from '../errors.js';

export type SafetensorsDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

/**
 * Element storage per dtype. F16/BF16 are their raw 16-bit patterns (Uint16Array), BOOL and
 * the 8-bit floats raw bytes (see toFloat32 for the float conversions).
 */
export type TensorData =
  | Float64Array | Float32Array
  | BigInt64Array | Int32Array | Int16Array | Int8Array
  | BigUint64Array | Uint32Array | Uint16Array | Uint8Array;

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface Safetensors {
  /** Tensors in data-offset order. */
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  bytes: number;
  make: (n: number) => TensorData;
  get: (dv: DataView, o: number) => number | bigint;
  set: (dv: DataView, o: number, v: number | bigint) => void;
}

const n = (v: number | bigint) => Number(v);
const b = (v: number | bigint) => BigInt(v);
const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F64: { bytes: 8, make: (k) => new Float64Array(k), get: (d, o) => d.getFloat64(o, true), set: (d, o, v) => d.setFloat64(o, n(v), true) },
  F32: { bytes: 4, make: (k) => new Float32Array(k), get: (d, o) => d.getFloat32(o, true), set: (d, o, v) => d.setFloat32(o, n(v), true) },
  F16: { bytes: 2, make: (k) => new Uint16Array(k), get: (d, o) => d.getUint16(o, true), set: (d, o, v) => d.setUint16(o, n(v), true) },
  BF16: { bytes: 2, make: (k) => new Uint16Array(k), get: (d, o) => d.getUint16(o, true), set: (d, o, v) => d.setUint16(o, n(v), true) },
  I64: { bytes: 8, make: (k) => new BigInt64Array(k), get: (d, o) => d.getBigInt64(o, true), set: (d, o, v) => d.setBigInt64(o, b(v), true) },
  I32: { bytes: 4, make: (k) => new Int32Array(k), get: (d, o) => d.getInt32(o, true), set: (d, o, v) => d.setInt32(o, n(v), true) },
  I16: { bytes: 2, make: (k) => new Int16Array(k), get: (d, o) => d.getInt16(o, true), set: (d, o, v) => d.setInt16(o, n(v), true) },
  I8: { bytes: 1, make: (k) => new Int8Array(k), get: (d, o) => d.getInt8(o), set: (d, o, v) => d.setInt8(o, n(v)) },
  U64: { bytes: 8, make: (k) => new BigUint64Array(k), get: (d, o) => d.getBigUint64(o, true), set: (d, o, v) => d.setBigUint64(o, b(v), true) },
  U32: { bytes: 4, make: (k) => new Uint32Array(k), get: (d, o) => d.getUint32(o, true), set: (d, o, v) => d.setUint32(o, n(v), true) },
  U16: { bytes: 2, make: (k) => new Uint16Array(k), get: (d, o) => d.getUint16(o, true), set: (d, o, v) => d.setUint16(o, n(v), true) },
  U8: { bytes: 1, make: (k) => new Uint8Array(k), get: (d, o) => d.getUint8(o), set: (d, o, v) => d.setUint8(o, n(v)) },
  BOOL: { bytes: 1, make: (k) => new Uint8Array(k), get: (d, o) => d.getUint8(o), set: (d, o, v) => d.setUint8(o, n(v)) },
  F8_E4M3: { bytes: 1, make: (k) => new Uint8Array(k), get: (d, o) => d.getUint8(o), set: (d, o, v) => d.setUint8(o, n(v)) },
  F8_E5M2: { bytes: 1, make: (k) => new Uint8Array(k), get: (d, o) => d.getUint8(o), set: (d, o, v) => d.setUint8(o, n(v)) },
};

/** The reference implementation's cap (100 MB): a larger header is a corrupt length field. */
const MAX_HEADER = 100_000_000;
const METADATA = '__metadata__';

const elements = (shape: readonly number[]) => shape.reduce((a, c) => a * c, 1);
const isDtype = (s: unknown): s is SafetensorsDtype => typeof s === 'string' && Object.hasOwn(DTYPES, s);

/** Serialises tensors (in the given order) and string metadata. Throws RangeError on bad input. */
export function encodeSafetensors(tensors: Iterable<[string, SafeTensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const list = [...tensors];
  const parts: string[] = [];
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new RangeError(`safetensors: metadata '${k}' must be a string`);
    parts.push(`${JSON.stringify(METADATA)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === METADATA || seen.has(name)) throw new RangeError(`safetensors: tensor name '${name}' is reserved or repeated`);
    seen.add(name);
    const info = DTYPES[t.dtype];
    if (!info) throw new RangeError(`safetensors: '${name}' has unknown dtype ${t.dtype}`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`safetensors: '${name}' has bad shape [${t.shape}]`);
    const count = elements(t.shape);
    if (t.data.length !== count) throw new RangeError(`safetensors: '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const end = offset + count * info.bytes;
    // Written by hand, not as an object: JSON.stringify would move integer-like names first.
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  let head = new TextEncoder().encode(`{${parts.join(',')}}`);
  // Space padding to a multiple of 8 keeps every tensor 8-byte aligned in the file (as the Python writer does).
  const pad = (8 - (head.length % 8)) % 8;
  if (pad) {
    const h = new Uint8Array(head.length + pad).fill(0x20);
    h.set(head);
    head = h;
  }
  const out = new Uint8Array(8 + head.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const [, t] of list) {
    const info = DTYPES[t.dtype];
    for (let i = 0; i < t.data.length; i++, o += info.bytes) info.set(dv, o, t.data[i]!);
  }
  return out;
}

/** Parses and validates safetensors bytes; `file` names the source in error messages. */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors'): Safetensors {
  const fail = (why: string): never => {
    throw new InputError('bad-file', `${file}: ${why}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, not even the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen64 = dv.getBigUint64(0, true);
  if (hlen64 > BigInt(bytes.length - 8)) fail(`header length ${hlen64} runs past the end of the file (${bytes.length} bytes): truncated or not safetensors`);
  const hlen = Number(hlen64);
  if (hlen > MAX_HEADER) fail(`header length ${hlen} exceeds ${MAX_HEADER} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen));
  } catch {
    return fail('header is not UTF-8');
  }
  let header: unknown;
  try {
    if (!text.startsWith('{')) throw new SyntaxError();
    header = JSON.parse(text);
  } catch {
    return fail('header is not JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataLen = bytes.length - 8 - hlen;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail('__metadata__ is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`__metadata__ '${k}' is not a string`);
        metadata[k] = s as string;
      }
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!t || typeof t !== 'object' || Array.isArray(t)) return fail(`tensor '${name}' is not an object`);
    if (!isDtype(t.dtype)) return fail(`tensor '${name}' has unknown dtype ${JSON.stringify(t.dtype)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}`);
    }
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) fail(`tensor '${name}' has unordered data_offsets [${begin}, ${end}] (end before begin)`);
    if (end > dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] are out of range (data section is ${dataLen} bytes): truncated?`);
    const want = elements(shape as number[]) * DTYPES[t.dtype].bytes;
    if (want !== end - begin) fail(`tensor '${name}': shape [${shape}] ${t.dtype} is ${want} bytes, data_offsets give ${end - begin}`);
    entries.push({ name, dtype: t.dtype, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data section exactly, in offset order.
  entries.sort((p, q) => p.begin - q.begin || p.end - q.end);
  let at = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin < at) fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap '${prev}' (ends at ${at})`);
    if (e.begin > at) fail(`hole in the data section: bytes [${at}, ${e.begin}) belong to no tensor (before '${e.name}')`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataLen) fail(`${dataLen - at} bytes after the last tensor's data (the header describes ${at})`);
  const tensors = new Map<string, SafeTensor>();
  const base = 8 + hlen;
  for (const e of entries) {
    const info = DTYPES[e.dtype];
    const count = elements(e.shape);
    const data = info.make(count);
    for (let i = 0, o = base + e.begin; i < count; i++, o += info.bytes) (data as { [i: number]: number | bigint })[i] = info.get(dv, o);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** IEEE half (F16) or bfloat16 bit pattern -> float. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** A floating-point tensor's values as float32 (F64/F16/BF16 converted); null for other dtypes. */
export function toFloat32(t: SafeTensor): Float32Array | null {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F64':
      return Float32Array.from(t.data as Float64Array);
    case 'F16':
      return Float32Array.from(t.data as Uint16Array, halfToFloat);
    case 'BF16': {
      const u = new Uint32Array((t.data as Uint16Array).length);
      (t.data as Uint16Array).forEach((h, i) => (u[i] = h << 16));
      return new Float32Array(u.buffer);
    }
    default:
      return null;
  }
}
