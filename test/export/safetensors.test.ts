/**
 * The safetensors codec: decoding a file written by the reference implementation
 * (fixtures/reference.safetensors, made by `safetensors.numpy.save_file` 0.8.0) and
 * re-encoding it byte for byte; round trips; and the validation of malformed files
 * (one-line InputError('bad-file') messages naming the file and the problem).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, toFloat32, type SafeTensor } from '../../src/export/safetensors.js';
import { InputError } from '../../src/errors.js';

const FIXTURE = join(__dirname, 'fixtures', 'reference.safetensors');

/** A file from a header object (or raw text) and a data section of `dataLen` bytes. */
function file(header: unknown, dataLen: number, headerLen?: number): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? head.length), true);
  out.set(head, 8);
  return out;
}

function badFile(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    decodeSafetensors(bytes, 'w.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.code).toBe('bad-file');
  expect(e.message).toMatch(/^w\.safetensors: /);
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toContain('\n');
}

const f32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });

describe('safetensors: the reference implementation', () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));

  it('decodes a file written by safetensors.numpy.save_file', () => {
    const st = decodeSafetensors(bytes, FIXTURE);
    expect(st.metadata).toEqual({ format: 'pt', note: 'made by safetensors 0.8.0 save_file' });
    // Tensors come back in data-offset order (the writer sorts by alignment, then name).
    expect([...st.tensors.keys()]).toEqual(['2.bn.num_batches_tracked', '10.bias', '0.conv.weight', 'empty', 'ints', 'half', 'mask']);
    const t = (n: string) => st.tensors.get(n)!;
    expect(t('0.conv.weight').shape).toEqual([2, 3, 2, 2]);
    expect([...t('0.conv.weight').data as Float32Array]).toEqual(Array.from({ length: 24 }, (_, i) => Math.fround(Math.fround(i * -0.5) + Math.fround(0.1))));
    expect(t('10.bias')).toEqual({ dtype: 'F64', shape: [3], data: Float64Array.of(1.5, -2.25, 3e-8) });
    expect(t('2.bn.num_batches_tracked')).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(42n) });
    expect(t('mask')).toEqual({ dtype: 'U8', shape: [1, 3], data: Uint8Array.of(1, 0, 255) });
    expect(t('ints')).toEqual({ dtype: 'I32', shape: [2], data: Int32Array.of(-7, 2 ** 31 - 1) });
    expect(t('empty')).toEqual({ dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
    expect(t('half').dtype).toBe('F16');
    // numpy's float16(6e-8) is the subnormal 2^-24 (5.96e-8).
    expect([...toFloat32(t('half'))!]).toEqual([1, -0.5, 65504, 2 ** -24]);
  });

  it('re-encodes it byte for byte (same tensor order and metadata)', () => {
    const st = decodeSafetensors(bytes, FIXTURE);
    const again = encodeSafetensors(st.tensors, st.metadata);
    expect(again.length).toBe(bytes.length);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('safetensors: round trip', () => {
  it('keeps names, dtypes, shapes, values and metadata; pads the header to 8 bytes', () => {
    const tensors: [string, SafeTensor][] = [
      ['10', f32([2, 2], [1, -2, 3.5, 1e-30])],
      ['0', { dtype: 'I64', shape: [], data: BigInt64Array.of(-(2n ** 40n)) }],
      ['bf', { dtype: 'BF16', shape: [3], data: Uint16Array.of(0x3f80, 0xc040, 0x0000) }],
      ['d', { dtype: 'F64', shape: [1, 1, 2], data: Float64Array.of(Math.PI, -0) }],
      ['u', { dtype: 'U16', shape: [2], data: Uint16Array.of(65535, 7) }],
    ];
    const bytes = encodeSafetensors(tensors, { preset: 'quick', commit: 'abc' });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(hlen % 8).toBe(0);
    const st = decodeSafetensors(bytes);
    expect(st.metadata).toEqual({ preset: 'quick', commit: 'abc' });
    // Integer-like names keep the written order (the header is not built from a JS object).
    expect([...st.tensors.keys()]).toEqual(['10', '0', 'bf', 'd', 'u']);
    for (const [name, t] of tensors) expect(st.tensors.get(name)).toEqual(t);
    expect([...toFloat32(st.tensors.get('bf')!)!]).toEqual([1, -3, 0]);
    // Raw little-endian float32 after the header: 1.0 is 00 00 80 3f.
    expect([...bytes.subarray(8 + hlen, 8 + hlen + 4)]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('an empty file: no tensors, no metadata', () => {
    const st = decodeSafetensors(encodeSafetensors([]));
    expect(st.tensors.size).toBe(0);
    expect(st.metadata).toEqual({});
  });

  it('the encoder refuses a value count that does not match the shape', () => {
    expect(() => encodeSafetensors([['a', f32([2, 2], [1, 2, 3])]])).toThrow(/3 values for shape \[2,2\]/);
  });
});

describe('safetensors: validation', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };

  it('accepts the well-formed file these cases start from', () => {
    expect(decodeSafetensors(file(ok, 12)).tensors.size).toBe(2);
  });

  it('truncated: fewer than 8 bytes', () => {
    badFile(new Uint8Array(5), /truncated: 5 bytes/);
  });

  it('header longer than the file', () => {
    badFile(file(ok, 12, 10_000), /header length 10000 runs past the end of the file/);
  });

  it('header not JSON', () => {
    badFile(file('{"a": {"dtype": ', 0), /header is not JSON/);
    badFile(file('[1, 2]', 0), /header is not JSON/);
  });

  it('data section truncated: offsets out of range', () => {
    badFile(file(ok, 10), /'b' data_offsets \[8, 12\] are out of range \(data section is 10 bytes\)/);
  });

  it('overlapping offsets', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    badFile(file(h, 8), /'b' data_offsets \[4, 8\] overlap 'a'/);
  });

  it('unordered offsets (end before begin)', () => {
    const h = { a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } };
    badFile(file(h, 8), /unordered data_offsets \[8, 4\]/);
  });

  it('a hole, and bytes after the last tensor', () => {
    const hole = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    badFile(file(hole, 12), /hole in the data section: bytes \[4, 8\)/);
    badFile(file(ok, 16), /4 bytes after the last tensor/);
  });

  it('unknown dtype', () => {
    badFile(file({ a: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, 4), /'a' has unknown dtype "F31"/);
  });

  it('wrong shape for the byte range', () => {
    badFile(file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /'a': shape \[3\] F32 is 12 bytes, data_offsets give 8/);
    badFile(file({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /'a' has a bad shape \[-2\]/);
  });

  it('malformed entries and metadata', () => {
    badFile(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /'a' has bad data_offsets \[0\]/);
    badFile(file({ __metadata__: { step: 3 } }, 0), /__metadata__ 'step' is not a string/);
    badFile(file({ a: 7 }, 0), /tensor 'a' is not an object/);
  });
});
