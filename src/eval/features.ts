/**
 * Feature sets for evaluation. A set is one [N, R] tensor or several row shards
 * (a device binds at most `gpu.maxBinding` bytes, 128 MiB on lavapipe, and 60000 x 784
 * f32 pixels are 188 MB), all with the same R.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';

export type FeatureSet = Tensor | readonly Tensor[];

export interface Shard {
  t: Tensor;
  /** Global index of the shard's first row. */
  row0: number;
  rows: number;
}

export interface Features {
  shards: Shard[];
  rows: number;
  dim: number;
}

export function describeFeatures(set: FeatureSet, what: string): Features {
  const list = Array.isArray(set) ? (set as readonly Tensor[]) : [set as Tensor];
  if (list.length === 0) throw new InputError('bad-rank', `${what}: no feature tensors`);
  const dim = list[0]!.shape[1];
  const shards: Shard[] = [];
  let rows = 0;
  for (const t of list) {
    if (t.shape.length !== 2 || t.dtype !== 'f32') throw new InputError('bad-rank', `${what}: want f32 [N, R] tensors, got [${t.shape}] ${t.dtype}`);
    if (t.shape[1] !== dim) throw new InputError('shape-mismatch', `${what}: shards differ in R (${dim} vs ${t.shape[1]})`);
    shards.push({ t, row0: rows, rows: t.shape[0]! });
    rows += t.shape[0]!;
  }
  if (!dim || rows === 0) throw new InputError('too-few-rows', `${what}: empty feature set`);
  return { shards, rows, dim };
}

/** Uploads host rows [N, R] as as few shards as the device's binding limit allows. */
export function uploadFeatures(gpu: Gpu, data: Float32Array, rows: number, dim: number): Tensor[] {
  if (data.length !== rows * dim) throw new RangeError(`uploadFeatures: ${data.length} values for [${rows}, ${dim}]`);
  const maxRows = Math.max(1, Math.floor(gpu.maxBinding / (4 * dim)));
  const n = Math.ceil(rows / maxRows);
  const per = Math.ceil(rows / n);
  const out: Tensor[] = [];
  for (let r = 0; r < rows; r += per) {
    const m = Math.min(per, rows - r);
    out.push(Tensor.from(gpu, data.subarray(r * dim, (r + m) * dim), [m, dim]));
  }
  return out;
}

export function releaseFeatures(set: FeatureSet): void {
  for (const t of Array.isArray(set) ? (set as readonly Tensor[]) : [set as Tensor]) t.release();
}

export function checkLabels(labels: ArrayLike<number>, rows: number, what: string): void {
  if (labels.length !== rows) throw new InputError('shape-mismatch', `${what}: ${labels.length} labels for ${rows} rows`);
}

export function numClasses(...sets: ArrayLike<number>[]): number {
  let m = 0;
  for (const s of sets) for (let i = 0; i < s.length; i++) m = Math.max(m, s[i]!);
  return m + 1;
}

/** Labels given on the host or as a u32 tensor on the GPU (read back once: Nte + Ntr u32 are small). */
export type Labels = ArrayLike<number> | Tensor;

export async function hostLabels(labels: Labels, what: string): Promise<ArrayLike<number>> {
  if (!(labels instanceof Tensor)) return labels;
  if (labels.dtype !== 'u32') throw new InputError('bad-dtype', `${what}: label tensor must be u32, got ${labels.dtype}`);
  return labels.readU32();
}
