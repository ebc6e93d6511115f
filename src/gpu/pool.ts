/**
 * Buffer pool: GPU buffers are expensive to create and Dawn frees them lazily,
 * so released buffers are kept in power-of-two size classes and handed out again.
 */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/** Smallest size class: 256 bytes keeps tiny scalars from fragmenting classes. */
const MIN_CLASS = 256;

export function sizeClass(bytes: number): number {
  let c = MIN_CLASS;
  while (c < bytes) c *= 2;
  return c;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private sizes = new WeakMap<GPUBuffer, number>();
  /** Bytes currently handed out, for leak checks in tests. */
  liveBytes = 0;
  pooledBytes = 0;

  constructor(private device: GPUDevice, private maxBufferSize: number) {}

  acquire(bytes: number, label?: string): GPUBuffer {
    const want = Math.max(4, Math.ceil(bytes / 4) * 4);
    // Above half the device limit a power-of-two class could exceed the limit: size exactly.
    const cls = want > this.maxBufferSize / 2 ? want : sizeClass(want);
    if (cls > this.maxBufferSize) {
      throw new RangeError(`buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBufferSize})`);
    }
    const list = this.free.get(cls);
    let buf = list?.pop();
    if (buf) {
      this.pooledBytes -= cls;
    } else {
      buf = this.device.createBuffer({ size: cls, usage: STORAGE_USAGE, label });
      this.sizes.set(buf, cls);
    }
    this.liveBytes += cls;
    return buf;
  }

  release(buf: GPUBuffer): void {
    const cls = this.sizes.get(buf);
    if (cls === undefined) return; // not ours (a caller's buffer): never pool it
    this.liveBytes -= cls;
    this.pooledBytes += cls;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(buf);
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}
