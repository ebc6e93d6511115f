/** Eval-mode batch norm folded into the preceding conv's weights and bias (evaluation only). */
import finalizeSrc from '../../kernels/nn/batchnorm_finalize.wgsl';
import wgSum2Src from '../../kernels/common/wg_sum2.wgsl';
import { Tensor } from '../tensor.js';
import type { BatchNormParams } from './batchnorm.js';

// The `fold` entry of the per-channel finishing kernels (it reads the same running statistics).
const SPEC = {
  name: 'nn/batchnorm_fold',
  parts: [{ file: 'kernels/nn/batchnorm_finalize.wgsl', code: finalizeSrc }, { file: 'kernels/common/wg_sum2.wgsl', code: wgSum2Src }],
  entryPoint: 'fold',
};

/**
 * W' [cout, ...] and b' [cout] with conv(x, W') + b' = BN(conv(x, W)) under the running
 * statistics: k = gamma / sqrt(running_var + eps), W' = W k, b' = beta - running_mean k.
 */
export function foldBatchNorm(w: Tensor, bn: BatchNormParams, eps = 1e-5): { weight: Tensor; bias: Tensor } {
  const gpu = w.gpu;
  const cout = w.shape[0]!;
  const weight = Tensor.empty(gpu, w.shape);
  const bias = Tensor.empty(gpu, [cout]);
  gpu.dispatchOver(
    gpu.kernel(SPEC),
    {
      p: { c: cout, s: w.size / cout, chunks: 0, m: 0, eps, momentum: 0, flag: 0 },
      w: w.buffer, gamma: bn.weight.buffer, beta: bn.bias.buffer, rmean_in: bn.runningMean.buffer, rvar_in: bn.runningVar.buffer,
      wout: weight.buffer, bout: bias.buffer,
    },
    w.size,
  );
  return { weight, bias };
}
