/** Loads Fashion-MNIST (train + test) from its four gzipped IDX files. */
import { join } from 'node:path';
import { badFile, readIdxImages, readIdxLabels } from './idx.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
// The dataset's constants live in a browser-clean module (the augmentation imports them).
export { FASHION_MEAN, FASHION_STD, FASHION_CLASSES } from './fashion-stats.js';

export interface Split {
  /** n*height*width bytes, row-major per image. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface FashionMnist {
  train: Split;
  test: Split;
  height: number;
  width: number;
}

const SIZE = 28;

function loadSplit(dir: string, prefix: 'train' | 't10k'): Split {
  const imgPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const lblPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const img = readIdxImages(imgPath);
  if (img.rows !== SIZE || img.cols !== SIZE) throw badFile(imgPath, `images are ${img.rows}x${img.cols}, expected ${SIZE}x${SIZE}`);
  const lbl = readIdxLabels(lblPath);
  // The real set has 60000/10000; any consistent count is accepted (small test sets).
  if (lbl.n !== img.n) throw badFile(lblPath, `${lbl.n} labels but ${imgPath} has ${img.n} images`);
  return { images: img.data, labels: lbl.data, n: img.n };
}

export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): FashionMnist {
  return { train: loadSplit(dir, 'train'), test: loadSplit(dir, 't10k'), height: SIZE, width: SIZE };
}
