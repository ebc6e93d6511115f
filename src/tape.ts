/**
 * A thin autograd tape (micrograd's idea on GPU tensors). Each op records its
 * inputs, outputs and a backward closure that maps output gradients to input
 * gradients. backward() runs the records in reverse, accumulating gradients;
 * dispose() returns every intermediate to the buffer pool.
 */
import type { Gpu } from './gpu/device.js';
import { Tensor } from './tensor.js';
import { axpy } from './ops/elementwise.js';
import { withdrawChannelMajor } from './ops/channel-major.js';

export interface TapeRecord {
  op: string;
  inputs: Tensor[];
  outputs: Tensor[];
  /**
   * Gradients of the inputs (null where an input needs none) given those of the outputs.
   * `accumulate[i]`, when set, is a gradient of inputs[i] that the tape already holds and owns
   * (a parameter read by an earlier op, e.g. the other view's pass): the backward may add its
   * gradient into it and return that same tensor, which saves the tape a separate sum.
   */
  backward: (gradOutputs: Array<Tensor | null>, accumulate: Array<Tensor | null>) => Array<Tensor | null> | Promise<Array<Tensor | null>>;
  /** Tensors kept alive only for backward; released by dispose(). */
  saved?: Tensor[];
}

export class Tape {
  private records: TapeRecord[] = [];
  private params = new Set<Tensor>();
  private read = new Set<Tensor>();

  constructor(readonly gpu: Gpu) {}

  /** Marks leaf tensors (parameters) whose gradients backward() should keep. */
  watch(...ts: Tensor[]): void {
    for (const t of ts) this.params.add(t);
  }

  record(r: TapeRecord): void {
    // A tensor read by two records gets its gradient summed from both: only in its own layout.
    for (const t of r.inputs) {
      if (this.read.has(t)) withdrawChannelMajor(t);
      this.read.add(t);
    }
    this.records.push(r);
  }

  get length(): number {
    return this.records.length;
  }

  /**
   * Backpropagates from `root` with gradient `seed` (default: ones of root's shape
   * must be supplied by the caller for non-scalar roots). Leaf gradients land in
   * `param.grad` (accumulated when already set); intermediate gradients are released.
   */
  backward(root: Tensor, seed: Tensor): void {
    const walk = this.walk(root, seed);
    if (!walk.next().done) throw new Error('tape.backward: a record has an asynchronous backward (use backwardAsync)');
  }

  /**
   * backward() for tapes whose records may return a Promise (ops that wait for other
   * processes, e.g. synchronised batch norm); the same order of work otherwise.
   */
  async backwardAsync(root: Tensor, seed: Tensor): Promise<void> {
    const walk = this.walk(root, seed);
    for (let r = walk.next(); !r.done; r = walk.next(await r.value));
  }

  /** The backward pass; yields each asynchronous record's Promise and resumes with its result. */
  private *walk(root: Tensor, seed: Tensor): Generator<Promise<Array<Tensor | null>>, void, Array<Tensor | null>> {
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    const ownedGrads = new Set<Tensor>();
    const addGrad = (t: Tensor, g: Tensor): void => {
      const prev = grads.get(t);
      if (!prev) {
        grads.set(t, g);
        return;
      }
      if (prev.size !== g.size) throw new Error(`tape: gradients of one tensor in different layouts ([${prev.shape}], [${g.shape}])`);
      // Accumulate into a gradient we own; copy-on-write one we do not.
      let acc = prev;
      if (!ownedGrads.has(prev)) {
        acc = Tensor.zeros(this.gpu, prev.shape);
        axpy(this.gpu, 1, prev, acc);
        grads.set(t, acc);
        ownedGrads.add(acc);
      }
      axpy(this.gpu, 1, g, acc);
      // Summed in: free it unless another tensor's gradient is this same tensor.
      if (ownedGrads.has(g) && ![...grads.values()].includes(g)) {
        ownedGrads.delete(g);
        g.release();
      }
    };
    for (let r = this.records.length - 1; r >= 0; r--) {
      const rec = this.records[r]!;
      const gOut = rec.outputs.map((o) => grads.get(o) ?? null);
      if (gOut.every((g) => g === null)) continue;
      const into = rec.inputs.map((inp, i) => {
        const g = grads.get(inp);
        return g && ownedGrads.has(g) && !gOut.includes(g) && rec.inputs.indexOf(inp) === i ? g : null;
      });
      const res = rec.backward(gOut, into);
      const gIn = res instanceof Promise ? yield res : res;
      // A gradient the backward made (not an output gradient passed through) is the tape's to free.
      for (const g of gIn) if (g && !gOut.includes(g)) ownedGrads.add(g);
      rec.inputs.forEach((inp, i) => {
        const g = gIn[i];
        if (g && g !== into[i]) addGrad(inp, g); // else summed in place by the backward
      });
      // Output gradients are no longer needed once consumed (unless passed straight through).
      const passed = new Set(gIn);
      for (const o of rec.outputs) {
        const g = grads.get(o);
        if (g && ownedGrads.has(g) && !this.params.has(o) && !passed.has(g)) {
          g.release();
          ownedGrads.delete(g);
          grads.delete(o);
        } else if (g && passed.has(g)) {
          grads.delete(o);
        }
      }
    }
    for (const p of this.params) {
      const g = grads.get(p);
      if (!g) continue;
      if (p.grad) {
        axpy(this.gpu, 1, g, p.grad);
        if (ownedGrads.has(g)) g.release();
      } else if (ownedGrads.has(g)) {
        p.grad = g;
      } else {
        p.grad = Tensor.zeros(this.gpu, g.shape);
        axpy(this.gpu, 1, g, p.grad);
      }
      ownedGrads.delete(g);
    }
    for (const g of ownedGrads) g.release();
  }

  /** Releases every recorded output and saved tensor except those in `keep` and watched params. */
  dispose(keep: Tensor[] = []): void {
    const spare = new Set<Tensor>([...keep, ...this.params]);
    for (const rec of this.records) {
      for (const t of [...rec.outputs, ...(rec.saved ?? [])]) if (!spare.has(t)) t.release();
    }
    this.records = [];
    this.read.clear();
  }
}
