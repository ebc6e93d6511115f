/**
 * The computations the browser test runs in Chromium (page.ts, through the package's browser
 * build) and, for the training steps, in Node (browser.test.ts, through src/): one source, the
 * engine passed in, so both sides run exactly the same calls. Results are plain arrays; the
 * comparisons against the float64 references happen in Node.
 */
import type * as Engine from 'vicreg-webgpu';
import type { ModelConfig } from 'vicreg-webgpu';
import { fixedVector } from '../ref/vicreg.js';
import { randn } from '../helpers/rand.js';
import type { ConvShape } from '../ref/conv.js';

type Api = typeof Engine;
type Gpu = Engine.Gpu;

/** Deterministic inputs in [-1, 1): the suite's generator (test/helpers/rand.ts). */
export const rand = randn;

/** Views with unequal column spreads (some hinge terms active), as in test/vicreg/loss.test.ts. */
export function views(n: number, d: number, seed: number): { z1: Float32Array; z2: Float32Array } {
  const z1 = rand(n * d, seed);
  const noise = rand(n * d, seed + 1000);
  const z2 = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      z1[i * d + j]! *= [0.6, 1.9, 3.1][j % 3]!;
      z2[i * d + j] = 0.8 * z1[i * d + j]! + 0.5 * noise[i * d + j]!;
    }
  return { z1, z2 };
}

export const LOSS_SHAPES: Array<[number, number]> = [[3, 5], [17, 33], [64, 96], [40, 300]];
export const MATMUL = { M: 37, N: 70, K: 45 };
export const CONV: ConvShape = { nb: 3, cin: 5, h: 11, w: 10, cout: 7, k: 3, stride: 2, pad: 1 };

const arr = (a: Float32Array): number[] => Array.from(a);

export async function lossCases(api: Api, gpu: Gpu, shapesToRun: Array<[number, number]> = LOSS_SHAPES) {
  const { a, b } = fixedVector();
  const fixed = [];
  for (const form of ['cov', 'gram'] as const) {
    const r = await api.vicregLossHost(gpu, a, b, 8, 4, { form });
    fixed.push({ form: r.form, loss: r.loss, invariance: r.invariance, variance: r.variance, covariance: r.covariance });
  }
  const shapes = [];
  for (const [n, d] of shapesToRun) {
    const { z1, z2 } = views(n, d, n * 31 + d);
    for (const form of ['cov', 'gram'] as const) {
      const r = await api.vicregLossHost(gpu, z1, z2, n, d, { form });
      shapes.push({ n, d, form: r.form, loss: r.loss, invariance: r.invariance, variance: r.variance, covariance: r.covariance, g1: arr(r.gradZ1), g2: arr(r.gradZ2) });
    }
  }
  return { fixed, shapes };
}

export async function matmulCase(api: Api, gpu: Gpu) {
  const { M, N, K } = MATMUL;
  const A = api.Tensor.from(gpu, rand(M * K, 11), [M, K]);
  const B = api.Tensor.from(gpu, rand(K * N, 12), [K, N]);
  const C = api.matmul(gpu, A, B);
  return arr(await C.read());
}

export async function convCase(api: Api, gpu: Gpu) {
  const s = CONV;
  const oh = Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1;
  const ow = Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1;
  const X = api.Tensor.from(gpu, rand(s.nb * s.cin * s.h * s.w, 21), [s.nb, s.cin, s.h, s.w]);
  const W = api.Tensor.from(gpu, rand(s.cout * s.cin * s.k * s.k, 22), [s.cout, s.cin, s.k, s.k]);
  const B = api.Tensor.from(gpu, rand(s.cout, 23), [s.cout]);
  const tape = new api.Tape(gpu);
  tape.watch(X, W, B);
  const Y = api.conv2d(tape, X, W, B, { stride: s.stride, padding: s.pad });
  tape.backward(Y, api.Tensor.from(gpu, rand(s.nb * s.cout * oh * ow, 24), Y.shape));
  return { y: arr(await Y.read()), dx: arr(await X.grad!.read()), dw: arr(await W.grad!.read()), db: arr(await B.grad!.read()) };
}

export interface SmokeConfig {
  model: ModelConfig;
  batchSize: number;
  seed: number;
  baseLr: number;
  weightDecay: number;
  larsEta: number;
  lambda: number;
  mu: number;
  nu: number;
  size: number;
}

/**
 * `steps` training steps of the smoke net as src/train/step.ts records them (encoder and
 * expander on a tape, the fused loss, backward, LARS), on fixed synthetic views instead of
 * augmented Fashion-MNIST (the data pipeline reads files). Returns each step's loss terms.
 */
export async function smokeSteps(api: Api, gpu: Gpu, cfg: SmokeConfig, steps: number): Promise<number[][]> {
  const model = new api.VicregModel(gpu, cfg.model, cfg.seed);
  const params = model.parameters();
  const optim = new api.Lars(gpu, params, { weightDecay: cfg.weightDecay, eta: cfg.larsEta });
  const seed = api.Tensor.from(gpu, new Float32Array([1, 0, 0, 0, 0]), [5]);
  const shape = [cfg.batchSize, cfg.model.inChannels, cfg.size, cfg.size];
  const n = cfg.batchSize * cfg.model.inChannels * cfg.size * cfg.size;
  const sched = { baseLr: cfg.baseLr, batchSize: cfg.batchSize, warmupSteps: 2, totalSteps: 10 };
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    const x = rand(n, 100 + s);
    const noise = rand(n, 200 + s, 0.3);
    const view1 = api.Tensor.from(gpu, x, shape);
    const view2 = api.Tensor.from(gpu, x.map((v, i) => 0.9 * v + noise[i]!), shape);
    const tape = new api.Tape(gpu);
    tape.watch(...params);
    const z1 = model.expand(tape, model.encode(tape, view1, true), true);
    const z2 = model.expand(tape, model.encode(tape, view2, true), true);
    const loss = api.vicregOp(tape, z1, z2, { lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, convention: 'official' });
    tape.backward(loss.terms, seed);
    optim.step(api.learningRate(s, sched));
    out.push(Array.from(await loss.terms.read()).slice(0, 4));
    tape.dispose();
    view1.release();
    view2.release();
    optim.zeroGrad();
  }
  return out;
}
