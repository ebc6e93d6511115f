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
import { batchNorm, batchNormSynced, foldBatchNorm, type BatchNormOptions, type BatchNormParams, type BnSync } from '../ops/batchnorm.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../ops/pool.js';
import { conv2d, conv2dForward } from '../ops/conv.js';
import { linear } from '../ops/linear.js';
import { Rng, initBatchNorm, initConv2d, initLinear } from './init.js';

/** One conv block: [out channels, kernel, stride, 2x2 max pool after the ReLU]. */
export type ConvBlockConfig = [number, number, number, boolean];

export interface ModelConfig {
  inChannels: number;
  conv: ConvBlockConfig[];
  /** Expander widths; the last is the embedding width (no BN/ReLU after it). */
  expander: number[];
  /**
   * Representation pooling: 1 (default) = global average pool (R = channels); g > 1 = average
   * pool to a g x g grid, flattened (R = channels x g²), which keeps coarse layout.
   */
  reprGrid?: number;
  /** Grid pooling (reprGrid > 1): 'avg' (default) or 'max' over each window. */
  reprPool?: 'avg' | 'max';
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
    this.reprDim = cin * (cfg.reprGrid ?? 1) ** 2;
    let fin = this.reprDim;
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
    return drive(this.encodeSteps(tape, x, training, true), (c) => batchNorm(tape, c.x, c.bn, c.opts));
  }

  /** encode() with batch norm synchronised over processes (SyncBN, data-parallel training). */
  encodeSynced(tape: Tape | null, x: Tensor, training: boolean, sync: BnSync): Promise<Tensor> {
    return driveAsync(this.encodeSteps(tape, x, training, false), (c) => batchNormSynced(tape, c.x, c.bn, c.opts, sync));
  }

  /** Embedding [B, E] of representations [B, R]. */
  expand(tape: Tape | null, r: Tensor, training: boolean): Tensor {
    return drive(this.expandSteps(tape, r, training), (c) => batchNorm(tape, c.x, c.bn, c.opts));
  }

  expandSynced(tape: Tape | null, r: Tensor, training: boolean, sync: BnSync): Promise<Tensor> {
    return driveAsync(this.expandSteps(tape, r, training), (c) => batchNormSynced(tape, c.x, c.bn, c.opts, sync));
  }

  /**
   * The encoder for evaluation under the running statistics, with each block's batch norm
   * folded into its conv (W' = W s, b' = beta - mean s): one conv with bias and ReLU per block,
   * no normalisation pass over the activations. Weights are folded once; release() frees them.
   * Same function as encode(null, x, false) up to float rounding.
   */
  inferenceEncoder(): { encode(x: Tensor): Tensor; release(): void } {
    const folded = this.convs.map((c) => foldBatchNorm(c.weight, c.bn));
    return {
      encode: (x) => {
        let h = x;
        for (const [i, c] of this.convs.entries()) {
          const y = conv2dForward(this.gpu, h, folded[i]!.weight, folded[i]!.bias, { stride: c.stride, padding: c.pad, relu: true });
          if (h !== x) h.release();
          h = y;
          if (c.pool) {
            h = maxPool2d(null, y, 2, 2);
            y.release();
          }
        }
        return this.pool(null, h, true);
      },
      release: () => folded.forEach((f) => [f.weight, f.bias].forEach((t) => t.release())),
    };
  }

  /** Representation pooling (grid or global average) of the last block's map; `release` frees h. */
  private pool(tape: Tape | null, h: Tensor, release: boolean): Tensor {
    const g = this.cfg.reprGrid ?? 1;
    if (g > 1) {
      const { k, s } = gridWindow(h.shape[2]!, g);
      const p = this.cfg.reprPool === 'max' ? maxPool2d(tape, h, k, s) : avgPool2d(tape, h, k, s);
      if (release) h.release();
      return flatten(tape, p);
    }
    const r = globalAvgPool(tape, h);
    if (release) h.release();
    return r;
  }

  // The layers, written once: each batch norm is yielded to the driver (plain or synchronised).
  // fuseStats: the plain batch norm takes its statistics from the conv's epilogue (batch-stats.ts);
  // the synchronised one reduces and all-reduces its own.
  private *encodeSteps(tape: Tape | null, x: Tensor, training: boolean, fuseStats: boolean): Generator<BnCall, Tensor, Tensor> {
    let h = x;
    for (const [i, c] of this.convs.entries()) {
      // The images need no gradient.
      const y = conv2d(tape, h, c.weight, null, { stride: c.stride, padding: c.pad, inputGrad: i > 0, batchStats: training && fuseStats });
      if (!tape && h !== x) h.release();
      h = yield { x: y, bn: c.bn, opts: { training, relu: true } };
      if (!tape) y.release();
      if (c.pool) {
        const p = maxPool2d(tape, h, 2, 2);
        if (!tape) h.release();
        h = p;
      }
    }
    return this.pool(tape, h, !tape);
  }

  private *expandSteps(tape: Tape | null, r: Tensor, training: boolean): Generator<BnCall, Tensor, Tensor> {
    let h = r;
    for (const l of this.lins) {
      const y = linear(tape, h, l.weight, l.bias);
      if (!tape && h !== r) h.release();
      if (l.bn) {
        h = yield { x: y, bn: l.bn, opts: { training, relu: true } };
        if (!tape) y.release();
      } else h = y;
    }
    return h;
  }

  dispose(): void {
    for (const n of this.named()) n.t.release();
  }
}

/** A batch norm the layer code asks its driver for. */
interface BnCall {
  x: Tensor;
  bn: BatchNormParams;
  opts: BatchNormOptions;
}

function drive(g: Generator<BnCall, Tensor, Tensor>, bn: (c: BnCall) => Tensor): Tensor {
  for (let r = g.next(); ; ) {
    if (r.done) return r.value;
    r = g.next(bn(r.value));
  }
}

async function driveAsync(g: Generator<BnCall, Tensor, Tensor>, bn: (c: BnCall) => Promise<Tensor>): Promise<Tensor> {
  for (let r = g.next(); ; ) {
    if (r.done) return r.value;
    r = g.next(await bn(r.value));
  }
}

/** Average-pool window and stride that tile an H x H map with a g x g grid (overlapping when needed). */
export function gridWindow(h: number, g: number): { k: number; s: number } {
  const k = Math.ceil(h / g);
  return { k, s: g > 1 ? Math.max(1, Math.floor((h - k) / (g - 1))) : k };
}

/** [N, C, H, W] -> [N, C*H*W] as its own tensor (the tape tracks tensors by identity; backward copies). */
function flatten(tape: Tape | null, x: Tensor): Tensor {
  const gpu = x.gpu;
  const y = Tensor.empty(gpu, [x.shape[0]!, x.size / x.shape[0]!]);
  gpu.copy(x.buffer, 0, y.buffer, 0, x.bytes);
  if (!tape) {
    x.release();
    return y;
  }
  tape.record({
    op: 'flatten',
    inputs: [x],
    outputs: [y],
    backward: ([gy]) => {
      const gx = Tensor.empty(gpu, x.shape);
      gpu.copy(gy!.buffer, 0, gx.buffer, 0, x.bytes);
      return [gx];
    },
  });
  return y;
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
