/** Eval-mode batch norm folded into the preceding conv's weights and bias (evaluation only). */
import foldSrc from '../../kernels/nn/batchnorm_fold.wgsl';
import { Tensor } from '../tensor.js';
import type { BatchNormParams } from './batchnorm.js';
import { ELEMENTWISE } from './grid.js';

const SPEC = { name: 'nn/batchnorm_fold', parts: [{ file: 'kernels/nn/batchnorm_fold.wgsl', code: foldSrc }, ELEMENTWISE] };

/**
 * W' [cout, ...] and b' [cout] with conv(x, W') + b' = BN(conv(x, W)) under the running
 * statistics: s = gamma / sqrt(running_var + eps), W' = W s, b' = beta - running_mean s.
 */
export function foldBatchNorm(w: Tensor, bn: BatchNormParams, eps = 1e-5): { weight: Tensor; bias: Tensor } {
  const gpu = w.gpu;
  const cout = w.shape[0]!;
  const weight = Tensor.empty(gpu, w.shape);
  const bias = Tensor.empty(gpu, [cout]);
  gpu.dispatchOver(
    gpu.kernel(SPEC),
    {
      p: { cout, per: w.size / cout, eps },
      w: w.buffer, gamma: bn.weight.buffer, beta: bn.bias.buffer, rmean: bn.runningMean.buffer, rvar: bn.runningVar.buffer,
      wout: weight.buffer, bout: bias.buffer,
    },
    w.size,
  );
  return { weight, bias };
}
