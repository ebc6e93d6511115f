/**
 * numpy .npy files (format versions 1.0, 2.0 and 3.0), float arrays only.
 *
 * Read: '<f4', '>f4', '<f8', '>f8' (and '<f2'/'>f2'; '=' and '|' byte orders mean little-endian
 * here), always returned as a C-order Float32Array (float64 and float16 are converted; float64
 * values beyond the float32 range become ±Inf, which the VICReg validation then rejects).
 * `fortran_order: True` files are accepted and transposed to C order (the natural reading of
 * what numpy would hand back from `np.load`). The header (a Python dict literal) is parsed by a
 * small literal parser, never evaluated. Everything is validated: magic string, version, header
 * length and syntax, the three required keys, the dtype, the shape, and the data length
 * (truncated files and files with trailing garbage are rejected).
 *
 * Write: '<f4' C-order, version 1.0 (2.0 only if the header would not fit), header laid out
 * byte-for-byte as numpy >= 1.23 writes it, so data starts at a multiple of 64 bytes.
 *
 * Byte arrays only (no Node built-ins: this module is part of the browser build); the Node
 * file reader and writer are readNpy/writeNpy in ./npy.ts.
 *
 * Every failure is an InputError ('bad-file' or 'bad-dtype') with a one-line message that
 * starts with the file name.
 */
import { InputError } from '../errors.js';

export interface NpyArray {
  /** The elements in C (row-major) order, converted to float32. */
  data: Float32Array;
  shape: number[];
  /** The dtype descriptor as stored in the file, e.g. '<f4' or '>f8'. */
  descr: string;
  /** Whether the file stored the data in Fortran order (already transposed to C order in `data`). */
  fortranOrder: boolean;
  /** The format version, e.g. [1, 0]. */
  version: [number, number];
  /**
   * For float64 files: the C-order index of the first finite value that overflowed to ±Inf in
   * float32, with that value; null when none did (and always for float32/float16 files).
   */
  overflow: { index: number; value: number } | null;
}

export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy pads the header so the first axis can grow in place

// ------------------------------------------------------------------ Python literal parser

type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<PyValue, PyValue>;
/** A Python tuple (distinguished from a list). */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail(`unexpected ${JSON.stringify(this.s[this.i])}`);
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at column ${this.i + 1}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /[ \t\r\n]/.test(this.s[this.i]!)) this.i++;
  }

  private value(depth: number): PyValue {
    if (depth > 32) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail('unexpected end of header');
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.seq(')', depth);
    if (c === '[') return this.seq(']', depth);
    if (c === "'" || c === '"') return this.str();
    if (/[-+0-9]/.test(c)) return this.num();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (m) {
      const word = m[0];
      this.i += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      this.i -= word.length;
      this.fail(`unsupported name '${word}'`);
    }
    this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  private dict(depth: number): Map<PyValue, PyValue> {
    this.i++; // {
    const out = new Map<PyValue, PyValue>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value(depth + 1);
      if (typeof k !== 'string') this.fail('dict keys must be strings');
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      const v = this.value(depth + 1);
      if (out.has(k)) this.fail(`duplicate key '${k}'`);
      out.set(k, v);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private seq(close: ')' | ']', depth: number): PyValue {
    this.i++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        break;
      }
      items.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        sawComma = true;
      } else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
    if (close === ']') return items;
    // '(x)' without a comma is just a parenthesised value in Python.
    if (items.length === 1 && !sawComma) return items[0]!;
    return new PyTuple(items);
  }

  private str(): string {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      this.i++;
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.i];
        this.i++;
        if (e === undefined) this.fail('unterminated string');
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
        if (e in simple) out += simple[e];
        else this.fail(`unsupported escape '\\${e}'`);
      } else out += c;
    }
  }

  private num(): number {
    const m = /^[-+]?[0-9]+L?/.exec(this.s.slice(this.i)); // integers only ('3L': Python 2 longs)
    if (!m) this.fail('bad number');
    const next = this.s[this.i + m[0].length];
    if (next !== undefined && /[.eEjJxX_0-9A-Za-z]/.test(next)) this.fail('only integer literals are supported');
    this.i += m[0].length;
    return Number(m[0].replace(/L$/, ''));
  }
}

/** Parses a Python literal (dict/tuple/list/str/int/True/False/None) safely; exported for tests. */
export function parsePyLiteral(s: string): unknown {
  const conv = (v: PyValue): unknown => {
    if (v instanceof PyTuple) return { tuple: v.items.map(conv) };
    if (Array.isArray(v)) return v.map(conv);
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k as string, conv(x)]));
    return v;
  };
  return conv(new LiteralParser(s).parseAll());
}

// ------------------------------------------------------------------ dtypes

interface FloatDtype {
  size: 2 | 4 | 8;
  little: boolean;
}

function describeDtype(descr: string): string {
  const m = /^([<>=|]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) return '';
  const kind = m[2]!;
  const bytes = Number(m[3] || '0');
  const names: Record<string, string> = {
    i: 'int',
    u: 'uint',
    b: 'bool',
    c: 'complex',
    f: 'float',
    O: 'object',
    U: 'unicode string',
    S: 'byte string',
    a: 'byte string',
    V: 'void/raw',
    M: 'datetime',
    m: 'timedelta',
  };
  const name = names[kind];
  if (!name) return '';
  if (kind === 'b' || kind === 'O' || kind === 'U' || kind === 'S' || kind === 'a' || kind === 'V' || kind === 'M' || kind === 'm')
    return ` (${name})`;
  return bytes ? ` (${name}${bytes * 8})` : ` (${name})`;
}

function floatDtype(descr: string, file: string): FloatDtype {
  const m = /^([<>=|]?)f([248])$/.exec(descr);
  if (!m) {
    throw new InputError(
      'bad-dtype',
      `${file}: unsupported dtype '${descr}'${describeDtype(descr)}; only float arrays ('<f4', '<f8', '>f4', '>f8', '<f2') can be read`,
    );
  }
  return { size: Number(m[2]) as 2 | 4 | 8, little: m[1] !== '>' };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

// ------------------------------------------------------------------ read

function fmtShape(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

interface NpyHeader {
  shape: number[];
  descr: string;
  dtype: FloatDtype;
  fortran: boolean;
  major: number;
  minor: number;
  dataStart: number;
  count: number;
}

/** Longest header accepted (numpy itself refuses headers over 10000 bytes by default). */
export const MAX_HEADER_BYTES = 1 << 20;

/**
 * Parses magic, version and header dict from the first bytes of a .npy file and checks that
 * the file's size (`fileSize`, default the bytes given) is exactly what the header describes,
 * so a reader can refuse a bad file before reading its data.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string, fileSize = bytes.byteLength): NpyHeader {
  const bad = (msg: string): never => {
    throw new InputError('bad-file', `${file}: ${msg}`);
  };
  if (fileSize === 0) bad('empty file (0 bytes), expected a numpy .npy file');
  if (bytes.byteLength < 10 || !MAGIC.every((b, k) => bytes[k] === b)) {
    bad(`not a numpy .npy file (missing the '\\x93NUMPY' magic string)`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) bad(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else {
    if (bytes.byteLength < 12) bad('truncated header');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > fileSize) bad(`truncated header (needs ${headerLen} bytes, file has ${fileSize - headerStart})`);
  if (headerLen > MAX_HEADER_BYTES) bad(`header of ${headerLen} bytes is too long (at most ${MAX_HEADER_BYTES})`);
  if (dataStart > bytes.byteLength) throw new RangeError('parseNpyHeader: the header was not read whole');
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let header: string;
  if (major === 3) {
    try {
      header = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      return bad('header is not valid UTF-8');
    }
  } else {
    header = latin1Decode(headerBytes);
  }

  let dict: Map<PyValue, PyValue>;
  try {
    const v = new LiteralParser(header).parseAll();
    if (!(v instanceof Map)) return bad('header is not a Python dict literal');
    dict = v;
  } catch (e) {
    if (e instanceof InputError) throw e;
    return bad(`malformed header (${(e as Error).message}): ${JSON.stringify(header.trim().slice(0, 80))}`);
  }
  for (const k of ['descr', 'fortran_order', 'shape']) if (!dict.has(k)) bad(`header lacks the '${k}' key`);
  const extra = [...dict.keys()].filter((k) => !['descr', 'fortran_order', 'shape'].includes(k as string));
  if (extra.length) bad(`header has unexpected key(s) ${extra.map((k) => `'${String(k)}'`).join(', ')}`);

  const descrV = dict.get('descr');
  if (typeof descrV !== 'string') {
    throw new InputError('bad-dtype', `${file}: unsupported dtype (structured or non-string descr); only plain float arrays can be read`);
  }
  const dtype = floatDtype(descrV, file);

  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') bad(`header 'fortran_order' must be True or False`);

  const shapeV = dict.get('shape');
  if (!(shapeV instanceof PyTuple)) return bad(`header 'shape' must be a tuple of integers`);
  const shape: number[] = [];
  for (const s of shapeV.items) {
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) bad(`header 'shape' must be a tuple of non-negative integers`);
    shape.push(s as number);
  }
  let count = 1;
  for (const s of shape) count *= s;
  if (!Number.isSafeInteger(count)) bad(`shape ${fmtShape(shape)} is too large`);

  const need = count * dtype.size;
  const have = fileSize - dataStart;
  if (have < need) {
    bad(`truncated data: shape ${fmtShape(shape)} of '${descrV}' needs ${need} bytes, file has ${have}`);
  }
  if (have > need) bad(`${have - need} unexpected trailing bytes after the data of shape ${fmtShape(shape)}`);
  if (count > 2 ** 31) bad(`shape ${fmtShape(shape)} is too large to load`);

  return { shape, descr: descrV, dtype, fortran: fortran as boolean, major, minor, dataStart, count };
}

/** Decodes .npy bytes; `file` names the source in error messages. */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const { shape, descr: descrV, dtype, fortran, major, minor, dataStart, count } = parseNpyHeader(bytes, file);
  let data = decode(bytes, dataStart, count, dtype);
  if (fortran && shape.length > 1) data = fortranToC(data, shape);
  let overflow: NpyArray['overflow'] = null;
  if (dtype.size === 8) {
    for (let k = 0; k < data.length; k++) {
      const v = data[k]!;
      if (v === Infinity || v === -Infinity) {
        // find the float64 source of this element (C index k) to tell overflow from a stored Inf
        const src = new DataView(bytes.buffer, bytes.byteOffset + dataStart, count * 8);
        const at = fortran && shape.length > 1 ? fortranIndex(k, shape) : k;
        const orig = src.getFloat64(at * 8, dtype.little);
        if (Number.isFinite(orig)) overflow = { index: k, value: orig };
        break;
      }
      if (v !== v) break; // a NaN comes first: validation reports it
    }
  }
  return { data, shape, descr: descrV, fortranOrder: fortran, version: [major, minor], overflow };
}

function decode(bytes: Uint8Array, start: number, count: number, dt: FloatDtype): Float32Array {
  const nativeLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const raw = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count * dt.size); // aligned copy
  if (dt.little === nativeLittle && dt.size === 4) return new Float32Array(raw);
  if (dt.little === nativeLittle && dt.size === 8) return Float32Array.from(new Float64Array(raw));
  const view = new DataView(raw);
  const out = new Float32Array(count);
  if (dt.size === 4) for (let k = 0; k < count; k++) out[k] = view.getFloat32(k * 4, dt.little);
  else if (dt.size === 8) for (let k = 0; k < count; k++) out[k] = view.getFloat64(k * 8, dt.little);
  else for (let k = 0; k < count; k++) out[k] = halfToFloat(view.getUint16(k * 2, dt.little));
  return out;
}

/** The Fortran-order storage index of the element at C-order index `c`. */
function fortranIndex(c: number, shape: number[]): number {
  let off = 0;
  let stride = 1;
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = c % shape[a]!;
    c = Math.floor(c / shape[a]!);
  }
  for (let a = 0; a < shape.length; a++) {
    off += idx[a]! * stride;
    stride *= shape[a]!;
  }
  return off;
}

/** Reorders Fortran-order (column-major) data to C order. */
function fortranToC(src: Float32Array, shape: number[]): Float32Array {
  const out = new Float32Array(src.length);
  if (shape.length === 2) {
    const [n, d] = shape as [number, number];
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = src[j * n + i]!;
    return out;
  }
  const r = shape.length;
  const fStride: number[] = [];
  let s = 1;
  for (let a = 0; a < r; a++) {
    fStride.push(s);
    s *= shape[a]!;
  }
  const idx = new Array<number>(r).fill(0);
  for (let c = 0; c < out.length; c++) {
    let off = 0;
    for (let a = 0; a < r; a++) off += idx[a]! * fStride[a]!;
    out[c] = src[off]!;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

// ------------------------------------------------------------------ write

/** The header dict exactly as numpy writes it (keys sorted, trailing ', }'). */
function headerDict(shape: number[]): string {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': ${fmtShape(shape)}, }`;
  if (shape.length > 0) h += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  return h;
}

/** Encodes a float32 C-order array as .npy bytes ('<f4', version 1.0; data 64-byte aligned). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const dims = [...shape];
  for (const s of dims) if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`encodeNpy: bad shape (${dims.join(', ')})`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(`encodeNpy: shape ${fmtShape(dims)} holds ${count} values, data has ${data.length}`);
  }
  const header = headerDict(dims);
  let version = 1;
  let prefix = 10;
  // +1 for the terminating newline; padlen in 1..64, as numpy computes it.
  let padlen = ARRAY_ALIGN - ((prefix + header.length + 1) % ARRAY_ALIGN);
  if (header.length + 1 + padlen > 0xffff) {
    version = 2;
    prefix = 12;
    padlen = ARRAY_ALIGN - ((prefix + header.length + 1) % ARRAY_ALIGN);
  }
  const hlen = header.length + padlen + 1;
  const out = new Uint8Array(prefix + hlen + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  out.set(latin1Encode(header + ' '.repeat(padlen) + '\n'), prefix);
  const body = new DataView(out.buffer, prefix + hlen);
  for (let k = 0; k < data.length; k++) body.setFloat32(k * 4, data[k]!, true);
  return out;
}

// Latin-1 by hand (no Node Buffer): TextDecoder('latin1') is windows-1252 in browsers.
function latin1Decode(bytes: Uint8Array): string {
  let s = '';
  for (let k = 0; k < bytes.length; k++) s += String.fromCharCode(bytes[k]!);
  return s;
}

function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k) & 0xff;
  return out;
}
