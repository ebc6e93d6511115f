/**
 * The fused VICReg loss (Bardes, Ponce, LeCun 2022) and its gradients in four dispatches:
 * stats (column means/variances/squared differences) -> product (C or Gram K, upper
 * triangle, fused square-and-sum) -> finalize (scalar terms) -> grad (one tiled product
 * per view with the invariance and variance terms in its epilogue). See DESIGN in docs/vicreg.md.
 */
import statsSrc from '../../kernels/vicreg/stats.wgsl';
import commonSrc from '../../kernels/vicreg/common.wgsl';
import productSrc from '../../kernels/vicreg/product.wgsl';
import finalizeSrc from '../../kernels/vicreg/finalize.wgsl';
import gradSrc from '../../kernels/vicreg/grad.wgsl';
import type { Gpu } from '../gpu/device.js';
import { wgslSections, type KernelSpec, type WgslPart } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import { InputError } from '../errors.js';
import { MATMUL_SCALAR_HOOKS, matmulCore, matmulGrid, matmulTileCols, matmulTiles, matmulVec, tileConsts, pickVec4, type MatmulTiles } from '../ops/matmul-core.js';
import { validateOptions, validatePair } from './validate.js';

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
  /** 5 floats on the GPU: total, invariance, variance, covariance, bad-input flag. */
  terms: Tensor;
  gradZ1: Tensor;
  gradZ2: Tensor;
  form: 'cov' | 'gram';
  /** Reads the four scalars back (throws InputError('non-finite') if the inputs held NaN/Inf). */
  read(): Promise<VicregTerms>;
  release(): void;
}

const part = (file: string, code: string) => ({ file: `kernels/vicreg/${file}`, code });
const STATS: KernelSpec = { name: 'vicreg/stats', parts: [part('stats.wgsl', statsSrc)] };
const FINALIZE: KernelSpec = { name: 'vicreg/finalize', parts: [part('finalize.wgsl', finalizeSrc)] };

// Both products run on the shared matmul core, with the adapter's tiles (CPU loop on lavapipe).
// The CPU loop also gets vec4 views (A along K, B along N) where the lengths allow: the files'
// vec4 sections.
const COMMON = wgslSections('kernels/vicreg/common.wgsl', commonSrc, ['vec4']);
const PRODUCT = wgslSections('kernels/vicreg/product.wgsl', productSrc, ['vec4']);
const GRAD = wgslSections('kernels/vicreg/grad.wgsl', gradSrc, ['vec4']);
function prelude(vec: boolean, own: { main: WgslPart; vec4: WgslPart }): WgslPart[] {
  return [own.main, COMMON.main, ...(vec ? [COMMON.vec4, own.vec4] : [MATMUL_SCALAR_HOOKS])];
}
function productSpec(gpu: Gpu, gram: boolean, n: number, d: number): KernelSpec {
  const tiles = matmulTiles(gpu);
  const lead = gram ? n : d; // B's row length (N)
  const inner = gram ? d : n; // A's row length (K)
  const spec = (vec: boolean): KernelSpec => ({
    name: vec ? 'vicreg/product+vec4' : 'vicreg/product',
    parts: [...prelude(vec, PRODUCT), ...matmulCore(gpu)],
    consts: { ...tileConsts(tiles), GRAM: gram, MM_REDUCE: true, A_ROW_FAST: true, ...vecConsts(vec, inner, lead, tiles) },
  });
  return pickVec4(gpu, tiles, spec).spec;
}
function gradSpec(gpu: Gpu, gram: boolean, n: number, d: number): KernelSpec {
  const tiles = matmulTiles(gpu);
  const spec = (vec: boolean): KernelSpec => ({
    name: vec ? 'vicreg/grad+vec4' : 'vicreg/grad',
    parts: [...prelude(vec, GRAD), ...matmulCore(gpu)],
    consts: { ...tileConsts(tiles), GRAM: gram, A_ROW_FAST: true, ...vecConsts(vec, gram ? n : d, d, tiles) },
  });
  return pickVec4(gpu, tiles, spec).spec;
}
function vecConsts(vec: boolean, aLead: number, bLead: number, tiles: MatmulTiles): { VEC_A: number; VEC_B: number } {
  return vec ? matmulVec(aLead, 1, bLead, 1, tiles) : { VEC_A: 0, VEC_B: 0 };
}

interface Resolved {
  convention: Convention;
  form: 'cov' | 'gram';
  lambda: number;
  mu: number;
  nu: number;
  gamma: number;
  eps: number;
}

/** Picks the cheaper covariance form: the Gram form costs O(n² d), the d x d one O(n d²). */
export function chooseForm(n: number, d: number, form: Form = 'auto'): 'cov' | 'gram' {
  if (form === 'cov' || form === 'gram') return form;
  return n < d ? 'gram' : 'cov';
}

export function resolveOptions(n: number, d: number, o: VicregOptions = {}): Resolved {
  // The one validator, shared with the CLI: weights >= 0, eps > 0, known convention and form.
  validateOptions(o);
  const convention = o.convention ?? 'official';
  const form = o.form ?? 'auto';
  const r = {
    convention,
    form: chooseForm(n, d, form),
    lambda: o.lambda ?? 25,
    mu: o.mu ?? 25,
    nu: o.nu ?? 1,
    gamma: o.gamma ?? 1,
    eps: o.eps ?? 1e-4,
  };
  return r;
}

function checkShapes(gpu: Gpu, z1: Tensor, z2: Tensor, form: 'cov' | 'gram'): { n: number; d: number } {
  if (z1.shape.length !== 2) throw new InputError('bad-rank', `Z1 must be 2-D (n, d), got shape [${z1.shape}]`);
  if (z2.shape.length !== 2) throw new InputError('bad-rank', `Z2 must be 2-D (n, d), got shape [${z2.shape}]`);
  const [n, d] = z1.shape as [number, number];
  if (z2.shape[0] !== n || z2.shape[1] !== d) throw new InputError('shape-mismatch', `Z1 is (${n}, ${d}) but Z2 is (${z2.shape.join(', ')})`);
  if (n < 2) throw new InputError('too-few-rows', `need at least 2 rows (samples) for the unbiased variance, got n=${n}`);
  if (d < 1) throw new InputError('bad-rank', `need at least 1 column, got d=${d}`);
  const dim = form === 'gram' ? n : d;
  const matBytes = 2 * dim * dim * 4;
  if (matBytes > gpu.maxBinding || n * d * 4 > gpu.maxBinding) {
    throw new InputError('too-large', `the ${form} form needs a ${dim}x${dim} matrix per view (${(matBytes / 2 ** 20).toFixed(0)} MiB), over this device's ${(gpu.maxBinding / 2 ** 20).toFixed(0)} MiB binding limit; try --form ${form === 'gram' ? 'cov' : 'gram'}`);
  }
  return { n, d };
}

/** Internal state between the forward passes and the gradient pass. */
interface Forward {
  n: number;
  d: number;
  r: Resolved;
  colstats: Tensor;
  zc: Tensor;
  zct: Tensor;
  mat: Tensor;
  partials: Tensor;
  terms: Tensor;
}

function forward(gpu: Gpu, z1: Tensor, z2: Tensor, opts: VicregOptions): Forward {
  const r = resolveOptions(z1.shape[0] ?? 0, z1.shape[1] ?? 0, opts);
  const { n, d } = checkShapes(gpu, z1, z2, r.form);
  const gram = r.form === 'gram';
  const dim = gram ? n : d;
  const colstats = Tensor.empty(gpu, [5, d]);
  const zc = Tensor.empty(gpu, [2, n, d]);
  const zct = Tensor.empty(gpu, [2, d, n]);
  gpu.dispatch(
    gpu.kernel(STATS),
    { p: { n, d }, z1: z1.buffer, z2: z2.buffer, colstats: colstats.buffer, zc: zc.buffer, zct: zct.buffer },
    [Math.ceil(d / 32)],
  );

  const grid = matmulGrid(dim, dim, 2, matmulTiles(gpu));
  const tilesPerView = grid[0] * grid[1];
  const tilesX = matmulTileCols(dim, matmulTiles(gpu));
  const mat = Tensor.empty(gpu, [2, dim, dim]);
  const partials = Tensor.empty(gpu, [2, tilesPerView]);
  gpu.dispatch(
    gpu.kernel(productSpec(gpu, gram, n, d)),
    { p: { n, d, inv_nm1: 1 / (n - 1), tiles_x: tilesX, tiles_per_view: tilesPerView }, colstats: colstats.buffer, mat: mat.buffer, partials: partials.buffer, zcb: zc.buffer, zcbt: zct.buffer, zcb4: zc.buffer, zcbt4: zct.buffer },
    grid,
    // Useful work: the upper triangle of a symmetric product, both views.
    { flops: 2 * dim * (dim + 1) * (gram ? d : n) },
  );

  const official = r.convention === 'official';
  const terms = Tensor.empty(gpu, [5]);
  gpu.dispatch(
    gpu.kernel(FINALIZE),
    {
      p: { n, d, tiles_per_view: tilesPerView, gram, inv_scale: official ? 1 / (n * d) : 1 / n, var_scale: official ? 0.5 : 1, lambda: r.lambda, mu: r.mu, nu: r.nu, gamma: r.gamma, eps: r.eps },
      colstats: colstats.buffer,
      partials: partials.buffer,
      terms: terms.buffer,
    },
    [1],
  );
  return { n, d, r, colstats, zc, zct, mat, partials, terms };
}

/** Dispatches the gradient product; `seed` holds dLoss/dTotal in its first float. */
function gradients(gpu: Gpu, z1: Tensor, z2: Tensor, f: Forward, seed: GPUBuffer): [Tensor, Tensor] {
  const { n, d, r } = f;
  const gram = r.form === 'gram';
  const official = r.convention === 'official';
  const g1 = Tensor.empty(gpu, [n, d]);
  const g2 = Tensor.empty(gpu, [n, d]);
  const aInv = r.lambda * (official ? 2 / (n * d) : 2 / n);
  const aVar = (r.mu * (official ? 0.5 : 1)) / d / (n - 1);
  const aCov = (r.nu * 4) / (d * (n - 1));
  gpu.dispatch(
    gpu.kernel(gradSpec(gpu, gram, n, d)),
    {
      p: { n, d, a_inv: aInv, a_var: aVar, a_cov: aCov, gamma: r.gamma, eps: r.eps },
      colstats: f.colstats.buffer,
      zcb: f.zc.buffer,
      zcbt: f.zct.buffer,
      mat: f.mat.buffer,
      zcb4: f.zc.buffer,
      zcbt4: f.zct.buffer,
      mat4: f.mat.buffer,
      seed,
      g1: g1.buffer,
      g2: g2.buffer,
    },
    matmulGrid(n, d, 2, matmulTiles(gpu)),
    { flops: 2 * 2 * n * d * (gram ? n : d) },
  );
  return [g1, g2];
}

async function readTerms(terms: Tensor): Promise<VicregTerms> {
  const t = await terms.read();
  if (t[4] !== 0 || !t.slice(0, 4).every(Number.isFinite)) {
    throw new InputError('non-finite', 'the embeddings contain NaN or Inf (or overflow float32)');
  }
  return { loss: t[0]!, invariance: t[1]!, variance: t[2]!, covariance: t[3]! };
}

// dLoss/dTotal = 1 for the standalone loss: one constant buffer per device, uploaded once
// (not a staging upload on every call).

/** Loss, terms and both gradients on the GPU, one encoder, no read-back. Throws InputError for bad shapes/options. */
export function vicregLoss(gpu: Gpu, z1: Tensor, z2: Tensor, opts: VicregOptions = {}): VicregResult {
  const f = forward(gpu, z1, z2, opts);
  const [gradZ1, gradZ2] = gradients(gpu, z1, z2, f, gpu.constantBuffer([1]));
  for (const t of [f.colstats, f.zc, f.zct, f.mat, f.partials]) t.release();
  return {
    terms: f.terms,
    gradZ1,
    gradZ2,
    form: f.r.form,
    read: () => readTerms(f.terms),
    release() {
      for (const t of [f.terms, gradZ1, gradZ2]) t.release();
    },
  };
}

/**
 * The loss as a tape op: forward now (terms tensor [5]: its first float is the
 * total to backpropagate from), gradients when the tape runs backward.
 */
export function vicregOp(tape: Tape, z1: Tensor, z2: Tensor, opts: VicregOptions = {}): { terms: Tensor; form: 'cov' | 'gram'; read: () => Promise<VicregTerms> } {
  const gpu = tape.gpu;
  const f = forward(gpu, z1, z2, opts);
  f.partials.release();
  tape.record({
    op: 'vicreg',
    inputs: [z1, z2],
    outputs: [f.terms],
    saved: [f.colstats, f.zc, f.zct, f.mat],
    backward: ([gTerms]) => gradients(gpu, z1, z2, f, gTerms!.buffer),
  });
  return { terms: f.terms, form: f.r.form, read: () => readTerms(f.terms) };
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
  validatePair(z1, [n, d], z2, [n, d]);
  if (n * d * 4 > gpu.maxBinding) {
    const mib = (b: number) => (b < 2 ** 20 ? `${(b / 1024).toFixed(0)} KiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);
    throw new InputError('too-large', `an (${n}, ${d}) float32 view is ${mib(n * d * 4)}, over this device's ${mib(gpu.maxBinding)} limit for one buffer binding`);
  }
  const t1 = Tensor.from(gpu, z1, [n, d]);
  const t2 = Tensor.from(gpu, z2, [n, d]);
  try {
    const res = vicregLoss(gpu, t1, t2, opts);
    try {
      const terms = await res.read();
      const [gradZ1, gradZ2] = [await res.gradZ1.read(), await res.gradZ2.read()];
      return { ...terms, gradZ1, gradZ2, form: res.form };
    } finally {
      res.release();
    }
  } finally {
    t1.release();
    t2.release();
  }
}
