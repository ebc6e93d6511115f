/**
 * The pieces of a data-parallel VICReg step (docs/distributed.md), as in the official
 * main_vicreg.py with DistributedDataParallel and SyncBatchNorm:
 *   - `shardOf`: rank r's contiguous slots [r B/N, (r+1) B/N) of every global batch;
 *   - `gatherRows`: the embeddings of all ranks, concatenated (FullGatherLayer) for the loss;
 *   - `GradAllreduce`: every parameter gradient packed into one host-staged MPI_Allreduce and
 *     averaged, with the loop's stop vote riding along (so all ranks stop at the same step).
 * SyncBN is batchNormSynced (src/ops/batchnorm.ts) driven by VicregModel.encodeSynced.
 */
import type { Gpu } from '../gpu/device.js';
import { Tensor } from '../tensor.js';
import type { Tape } from '../tape.js';
import type { BnSync } from '../ops/batchnorm.js';
import type { Collective } from './collective.js';
import { InputError } from '../errors.js';

/** Rank `rank`'s slots of a global batch of `batch` (equal shards: `batch` must divide by `size`). */
export function shardOf(batch: number, rank: number, size: number): { lo: number; hi: number } {
  if (batch % size !== 0) throw new InputError('bad-option', `--batch ${batch} must be a multiple of the ${size} ranks (each rank takes an equal shard)`);
  const b = batch / size;
  if (b < 2) throw new InputError('bad-option', `--batch ${batch} over ${size} ranks leaves ${b} image per rank; batch norm needs at least 2`);
  return { lo: rank * b, hi: (rank + 1) * b };
}

/** The collective as batch norm's sync (float64 sums). */
export function bnSyncOf(c: Collective): BnSync {
  return { rank: c.rank, size: c.size, allreduce: (b) => c.allreduceSum(b) };
}

/**
 * [n, d] on every rank -> [N n, d], rank order (MPI_Allgather of a read-back). Backward: this
 * rank's rows of the gradient. The official FullGatherLayer all-reduces that gradient first,
 * because each rank's loss differs (its own invariance term); here every rank evaluates the same
 * loss, on the gathered batch, so the sum over ranks is N times its own gradient: the caller
 * seeds the backward with N instead (exact for the power-of-two N that matter) and saves the
 * all-reduce of 2 x N n x d floats.
 */
export async function gatherRows(tape: Tape, z: Tensor, c: Collective): Promise<Tensor> {
  const gpu = z.gpu;
  const [n, d] = z.shape as [number, number];
  const all = c.allgather(new Float32Array(await gpu.read(z.buffer, 0, z.bytes)));
  const g = Tensor.from(gpu, all, [n * c.size, d]);
  tape.record({
    op: 'gather_rows',
    inputs: [z],
    outputs: [g],
    backward: ([gg]) => {
      const gz = Tensor.empty(gpu, [n, d]);
      gpu.copy(gg!.buffer, c.rank * n * d * 4, gz.buffer, 0, n * d * 4);
      return [gz];
    },
  });
  return g;
}

/**
 * One packed all-reduce of every parameter gradient per step (host-staged: one read-back, one
 * MPI_Allreduce, one upload), divided by N as DDP does. The last float carries the stop vote.
 */
export class GradAllreduce {
  private readonly offsets: number[] = [];
  private readonly total: number;
  private readonly packed: Tensor;

  constructor(
    private readonly gpu: Gpu,
    private readonly params: Tensor[],
    private readonly c: Collective,
  ) {
    let o = 0;
    for (const p of params) {
      this.offsets.push(o);
      o += p.size;
    }
    this.total = o;
    this.packed = Tensor.empty(gpu, [o]);
  }

  /** Averages the gradients in place; returns whether any rank voted to stop. */
  async run(stopVote: boolean): Promise<boolean> {
    const { gpu, params, packed } = this;
    params.forEach((p, i) => {
      if (p.grad) gpu.copy(p.grad.buffer, 0, packed.buffer, this.offsets[i]! * 4, p.bytes);
      else gpu.clear(packed.buffer, this.offsets[i]! * 4, p.bytes);
    });
    const h = new Float32Array(this.total + 1);
    h.set(new Float32Array(await gpu.read(packed.buffer, 0, this.total * 4)));
    h[this.total] = stopVote ? 1 : 0;
    this.c.allreduceSum(h);
    const stop = h[this.total]! > 0;
    const n = this.c.size;
    for (let i = 0; i < this.total; i++) h[i] = h[i]! / n;
    gpu.upload(packed.buffer, h.subarray(0, this.total));
    params.forEach((p, i) => {
      if (p.grad) gpu.copy(packed.buffer, this.offsets[i]! * 4, p.grad.buffer, 0, p.bytes);
    });
    return stop;
  }

  release(): void {
    this.packed.release();
  }
}
