import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdxImages, readIdxLabels } from '../../src/data/idx.js';
import { loadFashionMnist, FASHION_MNIST_DIR, FASHION_MEAN, FASHION_STD } from '../../src/data/fashion.js';
import { InputError } from '../../src/errors.js';

/** An IDX file: big-endian magic and dims, then bytes. */
function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

function bytes(n: number, seed: number, mod = 256): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 17 + ((i * i) >> 3)) % mod;
  return out;
}

let dir: string;
const p = (name: string) => join(dir, name);

/** Writes a consistent small data set (28x28 images) into `d`. */
function writeSet(d: string, nTrain: number, nTest: number): void {
  writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idx(2051, [nTrain, 28, 28], bytes(nTrain * 784, 1))));
  writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(2049, [nTrain], bytes(nTrain, 2, 10))));
  writeFileSync(join(d, 't10k-images-idx3-ubyte.gz'), gzipSync(idx(2051, [nTest, 28, 28], bytes(nTest * 784, 3))));
  writeFileSync(join(d, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(2049, [nTest], bytes(nTest, 4, 10))));
}

/** Expects an InputError('bad-file') whose single-line message names the file and the fix. */
function expectBadFile(fn: () => unknown, path: string, why: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.code).toBe('bad-file');
  expect(e.message).toContain(path);
  expect(e.message).toMatch(why);
  expect(e.message).toContain('apt-get install dataset-fashion-mnist');
  expect(e.message).toContain('--data DIR');
  expect(e.message).not.toContain('\n');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idx-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IDX reader', () => {
  it('reads images and labels', () => {
    const img = bytes(3 * 5 * 4, 7);
    writeFileSync(p('img.gz'), gzipSync(idx(2051, [3, 5, 4], img)));
    writeFileSync(p('lbl.gz'), gzipSync(idx(2049, [3], new Uint8Array([9, 0, 4]))));
    const r = readIdxImages(p('img.gz'));
    expect([r.n, r.rows, r.cols]).toEqual([3, 5, 4]);
    expect([...r.data]).toEqual([...img]);
    const l = readIdxLabels(p('lbl.gz'));
    expect(l.n).toBe(3);
    expect([...l.data]).toEqual([9, 0, 4]);
  });

  it('rejects a missing file', () => {
    expectBadFile(() => readIdxImages(p('nope.gz')), p('nope.gz'), /not found/);
  });
  it('rejects an empty file', () => {
    writeFileSync(p('empty.gz'), Buffer.alloc(0));
    expectBadFile(() => readIdxImages(p('empty.gz')), p('empty.gz'), /empty/);
  });
  it('rejects a file that is not gzip', () => {
    writeFileSync(p('plain.gz'), idx(2051, [1, 2, 2], bytes(4, 1)));
    expectBadFile(() => readIdxImages(p('plain.gz')), p('plain.gz'), /not a gzip/);
  });
  it('rejects corrupt gzip data', () => {
    const gz = gzipSync(idx(2051, [2, 28, 28], bytes(2 * 784, 1)));
    writeFileSync(p('cut.gz'), gz.subarray(0, gz.length >> 1));
    expectBadFile(() => readIdxImages(p('cut.gz')), p('cut.gz'), /corrupt gzip/);
  });
  it('rejects a wrong magic number (labels file read as images)', () => {
    writeFileSync(p('magic.gz'), gzipSync(idx(2049, [4], bytes(4, 1, 10))));
    expectBadFile(() => readIdxImages(p('magic.gz')), p('magic.gz'), /magic number 2049.*2051/);
  });
  it('rejects truncated data and a truncated header', () => {
    writeFileSync(p('short.gz'), gzipSync(idx(2051, [3, 28, 28], bytes(3 * 784 - 10, 1))));
    expectBadFile(() => readIdxImages(p('short.gz')), p('short.gz'), /truncated: 2342 data bytes/);
    writeFileSync(p('head.gz'), gzipSync(idx(2051, [3, 28, 28], new Uint8Array(0)).subarray(0, 9)));
    expectBadFile(() => readIdxImages(p('head.gz')), p('head.gz'), /truncated IDX header/);
  });
  it('rejects trailing bytes and zero dimensions', () => {
    writeFileSync(p('long.gz'), gzipSync(idx(2049, [3], bytes(5, 1, 10))));
    expectBadFile(() => readIdxLabels(p('long.gz')), p('long.gz'), /2 unexpected bytes/);
    writeFileSync(p('zero.gz'), gzipSync(idx(2051, [0, 28, 28], new Uint8Array(0))));
    expectBadFile(() => readIdxImages(p('zero.gz')), p('zero.gz'), /empty dimension/);
  });
  it('rejects labels outside 0..9', () => {
    writeFileSync(p('lbl10.gz'), gzipSync(idx(2049, [3], new Uint8Array([1, 10, 2]))));
    expectBadFile(() => readIdxLabels(p('lbl10.gz')), p('lbl10.gz'), /label 10 at 1/);
  });
});

describe('loadFashionMnist', () => {
  it('loads a small consistent set from a directory', () => {
    const d = mkdtempSync(join(dir, 'set-'));
    writeSet(d, 5, 3);
    const ds = loadFashionMnist(d);
    expect([ds.height, ds.width, ds.train.n, ds.test.n]).toEqual([28, 28, 5, 3]);
    expect(ds.train.images.length).toBe(5 * 784);
    expect([...ds.test.images]).toEqual([...bytes(3 * 784, 3)]);
    expect([...ds.train.labels]).toEqual([...bytes(5, 2, 10)]);
  });

  it('rejects an image/label count mismatch, naming the labels file', () => {
    const d = mkdtempSync(join(dir, 'mismatch-'));
    writeSet(d, 5, 3);
    writeFileSync(join(d, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(2049, [4], bytes(4, 4, 10))));
    expectBadFile(() => loadFashionMnist(d), join(d, 't10k-labels-idx1-ubyte.gz'), /4 labels but .*t10k-images.* 3 images/);
  });

  it('rejects images that are not 28x28', () => {
    const d = mkdtempSync(join(dir, 'dims-'));
    writeSet(d, 5, 3);
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idx(2051, [5, 28, 27], bytes(5 * 28 * 27, 1))));
    expectBadFile(() => loadFashionMnist(d), join(d, 'train-images-idx3-ubyte.gz'), /28x27, expected 28x28/);
  });

  it('names the missing file in an empty directory', () => {
    const d = mkdtempSync(join(dir, 'none-'));
    expectBadFile(() => loadFashionMnist(d), join(d, 'train-images-idx3-ubyte.gz'), /not found/);
  });

  const real = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
  if (!real) console.warn(`skipping the real Fashion-MNIST test: ${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`);
  it.skipIf(!real)('loads the real data set with its known statistics', () => {
    const ds = loadFashionMnist();
    expect([ds.train.n, ds.test.n]).toEqual([60000, 10000]);
    expect(ds.train.images.length).toBe(60000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of ds.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(6000));
    let s = 0;
    let s2 = 0;
    for (const v of ds.train.images) {
      s += v;
      s2 += v * v;
    }
    const n = ds.train.images.length;
    const mean = s / n / 255;
    const std = Math.sqrt(s2 / n / 65025 - mean * mean);
    expect(Math.abs(mean - FASHION_MEAN)).toBeLessThan(5e-4);
    expect(Math.abs(std - FASHION_STD)).toBeLessThan(5e-4);
  });
});
