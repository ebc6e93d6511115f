import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy, parsePyLiteral, readNpy, writeNpy } from '../../src/io/npy.js';
import { InputError, type InputErrorCode } from '../../src/errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Builds .npy bytes by hand: magic, version, header length, header text (padded as given), data. */
function npy(header: string, data: Uint8Array, version = 1, opts: { pad?: boolean } = {}): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let h = header;
  if (opts.pad !== false) {
    const total = Math.ceil((prefix + h.length + 1) / 64) * 64;
    h = h + ' '.repeat(total - prefix - h.length - 1) + '\n';
  }
  const hb = version === 3 ? Buffer.from(h, 'utf8') : Buffer.from(h, 'latin1');
  const out = new Uint8Array(prefix + hb.length + data.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, hb.length, true);
  else v.setUint32(8, hb.length, true);
  out.set(hb, prefix);
  out.set(data, prefix + hb.length);
  return out;
}

function f32le(xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, k) => v.setFloat32(k * 4, x, true));
  return b;
}
function f32be(xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, k) => v.setFloat32(k * 4, x, false));
  return b;
}
function f64(xs: number[], little = true): Uint8Array {
  const b = new Uint8Array(xs.length * 8);
  const v = new DataView(b.buffer);
  xs.forEach((x, k) => v.setFloat64(k * 8, x, little));
  return b;
}

const hdr = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

function expectInputError(fn: () => unknown, code: InputErrorCode, includes?: string | RegExp): InputError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an InputError').toBeInstanceOf(InputError);
  const ie = err as InputError;
  expect(ie.code).toBe(code);
  expect(ie.message).not.toContain('\n');
  if (includes !== undefined) expect(ie.message).toMatch(includes);
  return ie;
}

const six = [1, -2.5, 3.25, 0.1, 1e-30, -7];

describe('npy: writing', () => {
  it('writes the exact bytes numpy writes for a (2, 3) float32 array', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    // Reference built by hand (numpy >= 1.23 layout): magic, v1.0, header length 118 (u16 LE),
    // the dict with 20 spaces of growth room for the first axis, padded with spaces to 127, '\n'.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const headerText = dict + ' '.repeat(118 - dict.length - 1) + '\n';
    const ref = new Uint8Array(128 + 24);
    ref.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00], 0);
    ref.set(Buffer.from(headerText, 'latin1'), 10);
    // 1.0f .. 6.0f little-endian
    ref.set([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40], 128);
    ref.set([0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40], 140);
    expect(Buffer.from(bytes).equals(Buffer.from(ref))).toBe(true);
  });

  it('aligns the data to 64 bytes for every shape and ends the header with a newline', () => {
    for (const shape of [[8, 4], [5], [], [0, 3], [123456789012, 0], [1, 2, 3, 4], [7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(new Float32Array(count), shape);
      const hlen = bytes[8]! | (bytes[9]! << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + hlen + count * 4);
      expect(parseNpy(bytes).shape).toEqual(shape);
    }
  });

  it('writes 1-D and 0-D shapes as Python tuples', () => {
    const h1 = Buffer.from(encodeNpy(new Float32Array(5), [5])).toString('latin1');
    expect(h1).toContain("'shape': (5,), }");
    const h0 = Buffer.from(encodeNpy(new Float32Array(1), [])).toString('latin1');
    expect(h0).toContain("'shape': (), }");
  });

  it('rejects data that does not match the shape', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(RangeError);
  });

  it('round-trips through a file, bit for bit (NaN, -0, subnormals included)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
    const data = new Float32Array([1, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, Math.PI, -1.5, 0.1, 2, 3]);
    for (const shape of [[3, 4], [12], [2, 3, 2]]) {
      const p = join(dir, `a${shape.length}.npy`);
      writeNpy(p, data, shape);
      const r = readNpy(p);
      expect(r.shape).toEqual(shape);
      expect(r.descr).toBe('<f4');
      expect(r.fortranOrder).toBe(false);
      expect(r.version).toEqual([1, 0]);
      expect(Buffer.from(r.data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    }
  });
});

describe('npy: reading', () => {
  it('reads little-endian float32', () => {
    const r = parseNpy(npy(hdr('<f4', '(2, 3)'), f32le(six)));
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual(six.map(Math.fround));
  });

  it('converts float64 to float32 (little- and big-endian)', () => {
    const xs = [0.1, -1 / 3, 1e10, 5e-324, 123456789.123, -0.0];
    for (const [descr, little] of [['<f8', true], ['>f8', false]] as const) {
      const r = parseNpy(npy(hdr(descr, '(3, 2)'), f64(xs, little)));
      expect(r.data).toBeInstanceOf(Float32Array);
      expect(r.shape).toEqual([3, 2]);
      expect(r.descr).toBe(descr);
      expect(Array.from(r.data)).toEqual(xs.map(Math.fround));
    }
  });

  it('float64 beyond the float32 range becomes Inf (caught later by validation)', () => {
    const r = parseNpy(npy(hdr('<f8', '(2,)'), f64([1e300, -1e300])));
    expect(Array.from(r.data)).toEqual([Infinity, -Infinity]);
    expect(r.overflow).toEqual({ index: 0, value: 1e300 });
    // a stored Inf is not an overflow; nor is anything in a float32 file
    expect(parseNpy(npy(hdr('<f8', '(3,)'), f64([1, Infinity, 1e300]))).overflow).toBeNull();
    expect(parseNpy(npy(hdr('<f8', '(3,)'), f64([1, 2, 3]))).overflow).toBeNull();
    expect(parseNpy(npy(hdr('<f4', '(2,)'), f32le([1, Infinity]))).overflow).toBeNull();
    // Fortran order: reported at the C-order index, with the original value
    const fo = parseNpy(npy(hdr('>f8', '(2, 2)', 'True'), f64([1, 2, -5e300, 4], false)));
    expect(Array.from(fo.data)).toEqual([1, -Infinity, 2, 4]);
    expect(fo.overflow).toEqual({ index: 1, value: -5e300 });
  });

  it('reads big-endian float32', () => {
    const r = parseNpy(npy(hdr('>f4', '(6,)'), f32be(six)));
    expect(Array.from(r.data)).toEqual(six.map(Math.fround));
  });

  it("treats '=' and '|' byte orders as native little-endian", () => {
    expect(Array.from(parseNpy(npy(hdr('=f4', '(6,)'), f32le(six))).data)).toEqual(six.map(Math.fround));
  });

  it('reads float16', () => {
    // 1.0, -2.0, 0.5, 65504, +inf, smallest subnormal
    const h = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001]).buffer);
    const r = parseNpy(npy(hdr('<f2', '(6,)'), h));
    expect(Array.from(r.data)).toEqual([1, -2, 0.5, 65504, Infinity, Math.fround(2 ** -24)]);
  });

  it('reads format versions 1.0, 2.0 and 3.0', () => {
    for (const v of [1, 2, 3]) {
      const r = parseNpy(npy(hdr('<f4', '(3, 2)'), f32le(six), v));
      expect(r.version).toEqual([v, 0]);
      expect(r.shape).toEqual([3, 2]);
      expect(Array.from(r.data)).toEqual(six.map(Math.fround));
    }
  });

  it('accepts header variants: key order, double quotes, no trailing comma, unpadded, Python 2 longs', () => {
    const variants = [
      `{'shape': (3, 2), 'fortran_order': False, 'descr': '<f4'}`,
      `{"descr": "<f4", "fortran_order": False, "shape": (3, 2)}`,
      `{ 'descr' : '<f4' ,'fortran_order':False,'shape':(3,2,) }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }`,
    ];
    for (const h of variants) {
      expect(parseNpy(npy(h, f32le(six))).shape).toEqual([3, 2]);
      expect(parseNpy(npy(h + '\n', f32le(six), 1, { pad: false })).shape).toEqual([3, 2]);
    }
  });

  it('reads 0-D, 1-D and empty arrays', () => {
    expect(parseNpy(npy(hdr('<f4', '()'), f32le([4.5]))).shape).toEqual([]);
    expect(Array.from(parseNpy(npy(hdr('<f4', '()'), f32le([4.5]))).data)).toEqual([4.5]);
    expect(parseNpy(npy(hdr('<f4', '(6,)'), f32le(six))).shape).toEqual([6]);
    const e = parseNpy(npy(hdr('<f4', '(0, 5)'), new Uint8Array(0)));
    expect(e.shape).toEqual([0, 5]);
    expect(e.data.length).toBe(0);
  });

  it('transposes fortran_order=True arrays to C order (2-D and 3-D)', () => {
    // C-order (2, 3): [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6
    const r = parseNpy(npy(hdr('<f4', '(2, 3)', 'True'), f32le([1, 4, 2, 5, 3, 6])));
    expect(r.fortranOrder).toBe(true);
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2, 3, 4, 5, 6]);
    // (2, 2, 2): element [i][j][k] = 100i + 10j + k; Fortran order: i fastest
    const f: number[] = [];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) f.push(100 * i + 10 * j + k);
    const r3 = parseNpy(npy(hdr('<f4', '(2, 2, 2)', 'True'), f32le(f)));
    expect(Array.from(r3.data)).toEqual([0, 1, 10, 11, 100, 101, 110, 111]);
  });

  it('reads data that is not 4-byte aligned in memory', () => {
    const bytes = npy(hdr('<f4', '(6,)'), f32le(six));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(parseNpy(shifted.subarray(1)).data)).toEqual(six.map(Math.fround));
  });
});

describe('npy: malformed input', () => {
  const good = () => npy(hdr('<f4', '(2, 3)'), f32le(six));

  it('empty file -> bad-file', () => {
    expectInputError(() => parseNpy(new Uint8Array(0), 'e.npy'), 'bad-file', /^e\.npy: empty file/);
  });

  it('not an npy file -> bad-file', () => {
    expectInputError(() => parseNpy(Buffer.from('hello, world, this is text\n'), 'x.npy'), 'bad-file', /x\.npy: not a numpy \.npy file/);
    expectInputError(() => parseNpy(Buffer.from('\x93NUM', 'latin1'), 'x.npy'), 'bad-file', /not a numpy/);
    const b = good();
    b[1] = 0x6e; // '\x93nUMPY'
    expectInputError(() => parseNpy(b, 'x.npy'), 'bad-file', /magic/);
  });

  it('unknown format version -> bad-file', () => {
    const b = good();
    b[6] = 4;
    expectInputError(() => parseNpy(b, 'v.npy'), 'bad-file', /version 4\.0/);
    const c = good();
    c[7] = 1;
    expectInputError(() => parseNpy(c, 'v.npy'), 'bad-file', /version 1\.1/);
  });

  it('header length beyond the end of the file -> bad-file', () => {
    const b = good();
    expectInputError(() => parseNpy(b.subarray(0, 40), 'h.npy'), 'bad-file', /truncated header/);
    const v2 = npy(hdr('<f4', '(2, 3)'), f32le(six), 2);
    expectInputError(() => parseNpy(v2.subarray(0, 11), 'h.npy'), 'bad-file', /truncated header/);
  });

  it('truncated data -> bad-file', () => {
    const b = good();
    expectInputError(() => parseNpy(b.subarray(0, b.length - 1), 't.npy'), 'bad-file', /t\.npy: truncated data.*needs 24 bytes, file has 23/);
    expectInputError(() => parseNpy(b.subarray(0, 128), 't.npy'), 'bad-file', /truncated data.*file has 0/);
  });

  it('trailing bytes after the data -> bad-file', () => {
    const b = good();
    const c = new Uint8Array(b.length + 3);
    c.set(b);
    expectInputError(() => parseNpy(c, 't.npy'), 'bad-file', /3 unexpected trailing bytes/);
  });

  it('malformed headers -> bad-file, never evaluated', () => {
    const cases: Array<[string, RegExp]> = [
      [`not a dict`, /malformed header/],
      [`['descr', '<f4']`, /not a Python dict/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)`, /malformed header/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os').system('echo pwned')}`, /malformed header.*unsupported name/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}`, /unexpected key/],
      [`{'descr': '<f4', 'fortran_order': False}`, /lacks the 'shape' key/],
      [`{'fortran_order': False, 'shape': (2, 3)}`, /lacks the 'descr' key/],
      [`{'descr': '<f4', 'shape': (2, 3)}`, /lacks the 'fortran_order' key/],
      [`{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}`, /duplicate key/],
      [`{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}`, /fortran_order/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}`, /'shape' must be a tuple/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': 6}`, /'shape' must be a tuple/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}`, /non-negative integers/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3)}`, /malformed header.*integer/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': ('2', 3)}`, /non-negative integers/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999)}`, /too large/],
      [`{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}`, /malformed header/],
    ];
    for (const [h, re] of cases) expectInputError(() => parseNpy(npy(h, f32le(six)), 'm.npy'), 'bad-file', re);
  });

  it('invalid UTF-8 in a version 3.0 header -> bad-file', () => {
    const b = npy(hdr('<f4', '(2, 3)'), f32le(six), 3);
    b[13] = 0xff;
    expectInputError(() => parseNpy(b, 'u.npy'), 'bad-file', /UTF-8/);
  });

  it('unsupported dtypes -> bad-dtype naming the dtype', () => {
    const cases: Array<[string, RegExp]> = [
      ['<i4', /'<i4' \(int32\)/],
      ['<i8', /int64/],
      ['|u1', /uint8/],
      ['|b1', /bool/],
      ['<c8', /complex64/],
      ['<c16', /complex128/],
      ['|O', /object/],
      ['<U3', /unicode/],
      ['<f16', /'<f16'/],
      ['float32', /'float32'/],
    ];
    for (const [descr, re] of cases) {
      const e = expectInputError(() => parseNpy(npy(hdr(descr, '(2, 3)'), new Uint8Array(48)), 'd.npy'), 'bad-dtype', re);
      expect(e.message).toMatch(/^d\.npy: unsupported dtype/);
    }
    const structured = `{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }`;
    expectInputError(() => parseNpy(npy(structured, new Uint8Array(24)), 's.npy'), 'bad-dtype', /structured/);
  });

  it('missing file or directory -> bad-file naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
    expectInputError(() => readNpy(join(dir, 'nope.npy')), 'bad-file', /nope\.npy: no such file/);
    mkdirSync(join(dir, 'sub.npy'));
    expectInputError(() => readNpy(join(dir, 'sub.npy')), 'bad-file', /sub\.npy: is a directory/);
    writeFileSync(join(dir, 'empty.npy'), '');
    expectInputError(() => readNpy(join(dir, 'empty.npy')), 'bad-file', /empty\.npy: empty file/);
    writeFileSync(join(dir, 'good.npy'), good());
    const bytes = readFileSync(join(dir, 'good.npy'));
    writeFileSync(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 4));
    expectInputError(() => readNpy(join(dir, 'cut.npy')), 'bad-file', /cut\.npy: truncated data/);
  });
});

describe('parsePyLiteral', () => {
  it('parses the literal subset numpy headers use', () => {
    expect(parsePyLiteral(`{'a': (1, 2), "b": [True, False, None], 'c': (3,), 'd': (), 'e': 'x\\'y'}`)).toEqual({
      a: { tuple: [1, 2] },
      b: [true, false, null],
      c: { tuple: [3] },
      d: { tuple: [] },
      e: "x'y",
    });
    expect(parsePyLiteral('(7)')).toBe(7);
  });
  it('rejects anything else', () => {
    for (const s of ['eval("1")', '1 + 2', '{1: 2}', '{"a" 1}', '0x10', '1.5', "'abc", '[' .repeat(100) + ']'.repeat(100)]) {
      expect(() => parsePyLiteral(s), s).toThrow(SyntaxError);
    }
  });
});
