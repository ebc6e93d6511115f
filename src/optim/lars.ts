/**
 * LARS as in facebookresearch/vicreg main_vicreg.py, with its
 * exclude_bias_and_norm filters: parameters with ndim == 1 (biases, BN weights)
 * get neither weight decay nor the trust ratio.
 * Dispatches per weight: one norm reduction (partials) + one update that finishes
 * the norms in each workgroup; per 1-D parameter: one update.
 */
import larsSrc from '../../kernels/optim/lars.wgsl';
import wgSum2Src from '../../kernels/common/wg_sum2.wgsl';
import { ELEMENTWISE } from '../ops/grid.js';
import { UPDATE } from './optimizer.js';
import type { Gpu } from '../gpu/device.js';
import type { KernelSpec } from '../gpu/kernel.js';
import { Tensor } from '../tensor.js';
import { Optimizer, type LearningRate } from './optimizer.js';

export interface LarsOptions {
  weightDecay?: number; // default 1e-6
  momentum?: number; // default 0.9
  eta?: number; // default 0.001
  /** Parameters excluded from weight decay and adaptation (default: ndim == 1). */
  exclude?: (p: Tensor) => boolean;
}

const WG_SUM2 = { file: 'kernels/common/wg_sum2.wgsl', code: wgSum2Src };
/**
 * Workgroup shape per kernel family: 256 wide on GPUs; on CPU adapters 64 wide and at most 8
 * workgroups per pass, so the per-workgroup trees (llvmpipe: a barrier per level over every
 * SIMD fibre) are few; each invocation loops instead.
 */
const shape = (gpu: Gpu) => (gpu.tuning === 'cpu' ? { wg: 64, maxWorkgroups: 8 } : { wg: 256, maxWorkgroups: Infinity });
// One source for the three passes: 'norms' keeps its own kernel name (bench step groups by name).
const spec = (entryPoint: 'norms' | 'update_adapted' | 'main', wg: number): KernelSpec => ({
  name: entryPoint === 'norms' ? 'optim/lars_norms' : 'optim/lars',
  parts: [{ file: 'kernels/optim/lars.wgsl', code: larsSrc }, UPDATE, ELEMENTWISE, WG_SUM2],
  entryPoint,
  consts: { WG: wg },
});

/** Most norm partials; each update workgroup sums them, so keep this modest. */
const MAX_PARTIALS = 1024;
/** Cap on update workgroups (grid-stride beyond): amortises the partial sum. */
const MAX_UPDATE_WG = 4096;

export const excludeBiasAndNorm = (p: Tensor): boolean => p.shape.length === 1;

export class Lars extends Optimizer {
  readonly weightDecay: number;
  readonly momentum: number;
  readonly eta: number;
  private exclude: (p: Tensor) => boolean;
  private part: Tensor;

  constructor(gpu: Gpu, params: Tensor[], opts: LarsOptions = {}) {
    super(gpu, params);
    this.weightDecay = opts.weightDecay ?? 1e-6;
    this.momentum = opts.momentum ?? 0.9;
    this.eta = opts.eta ?? 0.001;
    this.exclude = opts.exclude ?? excludeBiasAndNorm;
    // Shared by all parameters: dispatches are stream-ordered.
    this.part = Tensor.empty(gpu, [MAX_PARTIALS, 2]);
  }

  step(lr: LearningRate): void {
    const gpu = this.gpu;
    const { wg, maxWorkgroups } = shape(gpu);
    this.writeHyper(lr);
    for (const p of this.params) {
      if (!p.grad) continue;
      const [mu] = this.stateOf(p, 1) as [Tensor];
      const n = p.size;
      if (this.exclude(p)) {
        gpu.dispatchOver(
          gpu.kernel(spec('main', wg)),
          { p: { n, np: 0, wd: 0, momentum: this.momentum, eta: 0 }, w: p.buffer, g: p.grad.buffer, mu: mu.buffer, hyp: this.hyp.buffer },
          n,
        );
        continue;
      }
      const np = Math.min(MAX_PARTIALS, maxWorkgroups, Math.ceil(n / (wg * 8)));
      gpu.dispatch(
        gpu.kernel(spec('norms', wg)),
        { p: { n, np: 0, wd: this.weightDecay, momentum: 0, eta: 0 }, w: p.buffer, g: p.grad.buffer, part: this.part.buffer },
        [np],
      );
      gpu.dispatch(
        gpu.kernel(spec('update_adapted', wg)),
        {
          p: { n, np, wd: this.weightDecay, momentum: this.momentum, eta: this.eta },
          w: p.buffer,
          g: p.grad.buffer,
          mu: mu.buffer,
          part: this.part.buffer,
          hyp: this.hyp.buffer,
        },
        [Math.min(MAX_UPDATE_WG, maxWorkgroups, Math.ceil(n / wg))],
      );
    }
    this.steps++;
  }

  override dispose(): void {
    super.dispose();
    this.part.release();
  }
}
