/**
 * A data split resident on the GPU that builds training batches (two augmented views)
 * and eval batches there. Everything a batch depends on is a pure function of
 * (seed, step): the epoch's order is a permutation of (seed, epoch) and the augmentation
 * parameters are counter-based draws, so a resumed run rebuilds identical batches.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import { augmentViews, normalizeImages } from './augment.js';
import { AUG_PARAMS, resolveAugment, sampleBatchParams, type AugmentConfig } from './augment-params.js';
import { uploadImages, type GpuImages } from './gpu-images.js';
import { epochPermutation } from './rng.js';
import type { Split } from './fashion.js';

export interface GpuDatasetOptions {
  seed: number;
  batchSize: number;
  augment?: Partial<AugmentConfig>;
  /** Per-epoch permutation (default) or the file order (debugging). */
  shuffle?: boolean;
}

export interface TrainBatch {
  view1: Tensor;
  view2: Tensor;
  /** Image indices of the batch's slots. */
  indices: Uint32Array;
  epoch: number;
}

export class GpuDataset {
  readonly images: GpuImages;
  readonly labels: Uint8Array;
  readonly cfg: AugmentConfig;
  readonly seed: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Full batches per epoch (the last partial batch is dropped, as in VICReg). */
  readonly stepsPerEpoch: number;
  private perm: { epoch: number; order: Uint32Array } | null = null;

  constructor(
    readonly gpu: Gpu,
    split: Split,
    height: number,
    width: number,
    opts: GpuDatasetOptions,
  ) {
    this.cfg = resolveAugment(opts.augment);
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > split.n) {
      throw new InputError('bad-option', `batch size must be an integer in [1, ${split.n}], got ${opts.batchSize}`);
    }
    this.seed = opts.seed >>> 0;
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.stepsPerEpoch = Math.floor(split.n / opts.batchSize);
    this.labels = split.labels;
    this.images = uploadImages(gpu, split.images, split.n, height, width);
  }

  get n(): number {
    return this.images.n;
  }

  epochOf(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** Image indices of global step `step`. */
  batchIndices(step: number): Uint32Array {
    const epoch = this.epochOf(step);
    const start = (step - epoch * this.stepsPerEpoch) * this.batchSize;
    if (!this.shuffle) return Uint32Array.from({ length: this.batchSize }, (_, i) => start + i);
    if (this.perm?.epoch !== epoch) this.perm = { epoch, order: epochPermutation(this.n, this.seed, epoch) };
    return this.perm.order.slice(start, start + this.batchSize);
  }

  /**
   * Both augmented views [B,1,S,S] of global step `step` (caller releases them). Records work; no read-back.
   * With `shard`, only slots [lo, hi) of that batch: the same images and the same augmentation
   * draws as those slots of the whole batch (data-parallel ranks each take their shard).
   */
  batch(step: number, shard?: { lo: number; hi: number }): TrainBatch {
    let indices = this.batchIndices(step);
    const { height, width } = this.images;
    let params = sampleBatchParams(this.cfg, height, width, this.seed, step, this.batchSize);
    if (shard) {
      const { lo, hi } = shard;
      const B = this.batchSize;
      if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= B)) throw new RangeError(`batch shard [${lo}, ${hi}) of a batch of ${B}`);
      indices = indices.slice(lo, hi);
      // [2, B, AUG_PARAMS] -> [2, hi - lo, AUG_PARAMS]
      const view = (v: number) => params.subarray((v * B + lo) * AUG_PARAMS, (v * B + hi) * AUG_PARAMS);
      const out = new Float32Array(2 * (hi - lo) * AUG_PARAMS);
      out.set(view(0));
      out.set(view(1), (hi - lo) * AUG_PARAMS);
      params = out;
    }
    const [view1, view2] = this.augmentWith(indices, params);
    return { view1, view2, indices, epoch: this.epochOf(step) };
  }

  /** Views from explicit indices and packed parameters ([2,B,AUG_PARAMS]); for tests and tools. */
  augmentWith(indices: Uint32Array, params: Float32Array): [Tensor, Tensor] {
    this.checkIndices(indices);
    const ti = Tensor.from(this.gpu, indices, [indices.length]);
    const tp = Tensor.from(this.gpu, params, [params.length]);
    const views = augmentViews(this.gpu, this.images, ti, tp, this.cfg);
    // Safe to pool again at once: later uploads into them are ordered after this dispatch.
    ti.release();
    tp.release();
    return views;
  }

  /** Un-augmented, normalised images [count,1,S,S] for indices start..start+count-1 (or explicit ones). */
  evalBatch(start: number, count: number, size = this.cfg.size): Tensor {
    return this.evalIndices(Uint32Array.from({ length: count }, (_, i) => start + i), size);
  }

  evalIndices(indices: Uint32Array, size = this.cfg.size): Tensor {
    this.checkIndices(indices);
    const ti = Tensor.from(this.gpu, indices, [indices.length]);
    const out = normalizeImages(this.gpu, this.images, ti, size, this.cfg.mean, this.cfg.std);
    ti.release();
    return out;
  }

  release(): void {
    this.images.packed.release();
  }

  private checkIndices(indices: Uint32Array): void {
    for (const i of indices) if (i >= this.n) throw new RangeError(`image index ${i} out of range (n = ${this.n})`);
  }
}
