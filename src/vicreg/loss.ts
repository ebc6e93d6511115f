// STUB: the real implementation is being written; the signatures below are the contract.
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../tensor.js';

export type Convention = 'official' | 'paper';
export type Form = 'auto' | 'cov' | 'gram';

export interface VicregOptions {
  convention?: Convention; // default 'official'
  form?: Form; // default 'auto'
  lambda?: number; // invariance weight, default 25
  mu?: number; // variance weight, default 25
  nu?: number; // covariance weight, default 1
  gamma?: number; // std target, default 1
  eps?: number; // default 1e-4
}

export interface VicregTerms {
  loss: number;
  invariance: number;
  variance: number;
  covariance: number;
}

export interface VicregResult {
  /** 4 floats on the GPU: total, invariance, variance, covariance. */
  terms: Tensor;
  gradZ1: Tensor;
  gradZ2: Tensor;
  form: 'cov' | 'gram';
  /** Reads the four scalars back (throws InputError('non-finite') if the inputs held NaN/Inf). */
  read(): Promise<VicregTerms>;
  release(): void;
}

/** Loss, terms and both gradients on the GPU; no read-back. Throws InputError for bad shapes/options. */
export function vicregLoss(gpu: Gpu, z1: Tensor, z2: Tensor, opts: VicregOptions = {}): VicregResult {
  void gpu; void z1; void z2; void opts;
  throw new Error('not implemented yet');
}

/** Host convenience: validates (InputError), uploads, computes, reads back terms and gradients. */
export async function vicregLossHost(
  gpu: Gpu,
  z1: Float32Array,
  z2: Float32Array,
  n: number,
  d: number,
  opts: VicregOptions = {},
): Promise<VicregTerms & { gradZ1: Float32Array; gradZ2: Float32Array; form: 'cov' | 'gram' }> {
  void gpu; void z1; void z2; void n; void d; void opts;
  throw new Error('not implemented yet');
}
