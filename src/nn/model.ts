/**
 * The VICReg network: a small conv encoder (conv + BN + ReLU blocks, optional 2x2 max
 * pool, global average pooling -> representation of width R) and the expander
 * (Linear+BN+ReLU, ..., Linear) of main_vicreg.py. Widths come from a ModelConfig
 * (the preset table in src/train/config.ts); parameters are initialised with PyTorch's
 * default distributions from one seeded Rng, encoder first, so the same seed gives the
 * same encoder whether or not an expander follows.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { batchNorm, type BatchNormParams } from '../ops/batchnorm.js';
import { globalAvgPool, maxPool2d } from '../ops/pool.js';
import { conv2d } from '../ops/conv.js';
import { linear } from '../ops/linear.js';
import { Rng, initBatchNorm, initConv2d, initLinear } from './init.js';

/** One conv block: [out channels, kernel, stride, 2x2 max pool after the ReLU]. */
export type ConvBlockConfig = [number, number, number, boolean];

export interface ModelConfig {
  inChannels: number;
  conv: ConvBlockConfig[];
  /** Expander widths; the last is the embedding width (no BN/ReLU after it). */
  expander: number[];
}

interface ConvBlock {
  weight: Tensor;
  bn: BatchNormParams;
  k: number;
  stride: number;
  pad: number;
  pool: boolean;
}

interface LinearBlock {
  weight: Tensor;
  bias: Tensor;
  bn: BatchNormParams | null;
}

export interface NamedTensor {
  name: string;
  t: Tensor;
}

export class VicregModel {
  readonly convs: ConvBlock[] = [];
  readonly lins: LinearBlock[] = [];
  readonly reprDim: number;
  readonly embDim: number;

  /** `expander: false` builds the encoder alone (evaluation of the init weights). */
  constructor(
    readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    seed: number,
    expander = true,
  ) {
    const rng = new Rng(seed);
    let cin = cfg.inChannels;
    for (const [cout, k, stride, pool] of cfg.conv) {
      // No conv bias: the BN that follows removes it.
      const { weight } = initConv2d(gpu, rng, cout, cin, k, k, false);
      this.convs.push({ weight, bn: initBatchNorm(gpu, cout), k, stride, pad: (k - 1) >> 1, pool });
      cin = cout;
    }
    this.reprDim = cin;
    let fin = cin;
    if (expander) {
      cfg.expander.forEach((fout, i) => {
        const { weight, bias } = initLinear(gpu, rng, fout, fin, true);
        const last = i === cfg.expander.length - 1;
        this.lins.push({ weight, bias: bias!, bn: last ? null : initBatchNorm(gpu, fout) });
        fin = fout;
      });
    }
    this.embDim = fin;
  }

  /** Trainable parameters in a fixed order (the optimizer's and the checkpoint's). */
  parameters(): Tensor[] {
    return this.named()
      .filter((n) => !/running/.test(n.name))
      .map((n) => n.t);
  }

  /** Every tensor of the model's state, parameters and BN running statistics, by name. */
  named(): NamedTensor[] {
    const out: NamedTensor[] = [];
    const bn = (p: string, b: BatchNormParams) =>
      out.push(
        { name: `${p}.bn.weight`, t: b.weight },
        { name: `${p}.bn.bias`, t: b.bias },
        { name: `${p}.bn.running_mean`, t: b.runningMean },
        { name: `${p}.bn.running_var`, t: b.runningVar },
      );
    this.convs.forEach((c, i) => {
      out.push({ name: `encoder.${i}.conv.weight`, t: c.weight });
      bn(`encoder.${i}`, c.bn);
    });
    this.lins.forEach((l, i) => {
      out.push({ name: `expander.${i}.weight`, t: l.weight }, { name: `expander.${i}.bias`, t: l.bias });
      if (l.bn) bn(`expander.${i}`, l.bn);
    });
    return out;
  }

  /** Representation [B, R] of images [B, C, H, W]. `training`: batch statistics + running-stat update. */
  encode(tape: Tape | null, x: Tensor, training: boolean): Tensor {
    let h = x;
    for (const [i, c] of this.convs.entries()) {
      // The images need no gradient.
      const y = conv2d(tape, h, c.weight, null, { stride: c.stride, padding: c.pad, inputGrad: i > 0 });
      if (!tape && h !== x) h.release();
      h = batchNorm(tape, y, c.bn, { training, relu: true });
      if (!tape) y.release();
      if (c.pool) {
        const p = maxPool2d(tape, h, 2, 2);
        if (!tape) h.release();
        h = p;
      }
    }
    const r = globalAvgPool(tape, h);
    if (!tape) h.release();
    return r;
  }

  /** Embedding [B, E] of representations [B, R]. */
  expand(tape: Tape | null, r: Tensor, training: boolean): Tensor {
    let h = r;
    for (const l of this.lins) {
      const y = linear(tape, h, l.weight, l.bias);
      if (!tape && h !== r) h.release();
      if (l.bn) {
        h = batchNorm(tape, y, l.bn, { training, relu: true });
        if (!tape) y.release();
      } else h = y;
    }
    return h;
  }

  dispose(): void {
    for (const n of this.named()) n.t.release();
  }
}

/** Spatial sizes after each block for an S x S input (config validation and docs). */
export function featureSizes(cfg: ModelConfig, size: number): number[] {
  const out: number[] = [];
  let s = size;
  for (const [, k, stride, pool] of cfg.conv) {
    const pad = (k - 1) >> 1;
    s = Math.floor((s + 2 * pad - k) / stride) + 1;
    if (pool) s = Math.floor(s / 2);
    out.push(s);
  }
  return out;
}
