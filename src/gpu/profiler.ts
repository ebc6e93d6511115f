/**
 * Per-dispatch GPU times through timestamp queries: while a profiler is attached to a Gpu,
 * every dispatch runs in its own compute pass whose begin/end timestamps land in a query
 * set; `flush()` resolves them and `collect()` reads them back with each dispatch's kernel
 * name, bytes bound and FLOPs (when the op declared them). One pass per dispatch costs a
 * little, so profiled steps are for the table, not for the step's wall time.
 */

export interface DispatchTiming {
  kernel: string;
  ns: number;
  /** Bytes of the storage buffers bound (an upper bound on the traffic the dispatch needs). */
  bytes: number;
  /** Useful floating-point operations, when the op declared them; else 0. */
  flops: number;
}

const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

export class DispatchProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private pending: { kernel: string; bytes: number; flops: number }[] = [];
  private unsubmitted: { read: GPUBuffer; meta: { kernel: string; bytes: number; flops: number }[] }[] = [];
  private batches: Promise<DispatchTiming[]>[] = [];
  /** Dispatches beyond the query set's capacity in one submit (not timed). */
  dropped = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly capacity = 2048,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    this.resolveBuf = device.createBuffer({ size: 16 * capacity, usage: QUERY_RESOLVE | COPY_SRC });
  }

  /** Begins a pass that timestamps one dispatch; the caller dispatches and ends it. */
  beginPass(encoder: GPUCommandEncoder, kernel: string, bytes: number, flops: number): GPUComputePassEncoder {
    const i = this.pending.length;
    if (i >= this.capacity) {
      this.dropped++;
      return encoder.beginComputePass();
    }
    this.pending.push({ kernel, bytes, flops });
    return encoder.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
  }

  /** Resolves this submit's timestamps into a read-back buffer (called by Gpu.flush). */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.pending.length;
    if (!n) return;
    const meta = this.pending;
    this.pending = [];
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const read = this.device.createBuffer({ size: 16 * n, usage: MAP_READ | COPY_DST });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, read, 0, 16 * n);
    this.unsubmitted.push({ read, meta });
  }

  /** Starts reading what `resolve` recorded, once its command buffer is submitted. */
  submitted(): void {
    for (const { read, meta } of this.unsubmitted.splice(0)) {
      this.batches.push(
        read.mapAsync(MAP_READ).then(() => {
          const t = new BigUint64Array(read.getMappedRange().slice(0));
          read.destroy();
          return meta.map((m, k) => ({ ...m, ns: Number(t[2 * k + 1]! - t[2 * k]!) }));
        }),
      );
    }
  }

  /** Every timing resolved since the last collect, in dispatch order. */
  async collect(): Promise<DispatchTiming[]> {
    const all = await Promise.all(this.batches.splice(0));
    return all.flat();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
}
