/**
 * Continuing a run from a checkpoint: whose run it is, whether its configuration matches, and
 * the state (parameters, running statistics, momentum buffers) it holds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import type { Tensor } from '../tensor.js';
import { InputError } from '../errors.js';
import type { VicregModel } from '../nn/model.js';
import { Lars } from '../optim/lars.js';
import { trainingIdentity, type TrainConfig } from './config.js';
import type { Checkpoint, NamedArray } from './checkpoint.js';

/** LARS with access to its momentum buffers (checkpointing). */
export class CheckpointedLars extends Lars {
  /** The momentum buffer of `p` (zeros until the first step, exactly as a fresh one). */
  momentumOf(p: Tensor): Tensor {
    return this.stateOf(p, 1)[0]!;
  }
}

/** The run id in DIR/config.json: a string, null for an older run without one, undefined without a config. */
function runIdIn(dir: string): string | null | undefined {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  try {
    const id = (JSON.parse(readFileSync(file, 'utf8')) as { run_id?: unknown }).run_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return undefined; // unreadable: it cannot tell us whose directory this is
  }
}

/** Refuses a checkpoint that belongs to another run than the directories it is resumed in. */
export function checkResumeIdentity(ck: Checkpoint, dirs: string[], force: boolean): void {
  const ckId = ck.header.runId ?? null;
  for (const dir of dirs) {
    const id = runIdIn(dir);
    if (id === undefined || id === ckId || force) continue;
    const seed = (ck.header.config as { seed?: unknown })?.seed;
    throw new InputError(
      'bad-file',
      `the checkpoint belongs to run ${ckId ?? '(unnamed, older version)'} (seed ${seed}, step ${ck.header.step}), not to the run in ${dir} (${id ?? 'unnamed'}); ` +
        'pass --force-resume to continue it there anyway',
    );
  }
}

/** First differing key between two JSON-able values (for a one-line mismatch message). */
function firstDiff(a: unknown, b: unknown, path = ''): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b as object)])) {
      const d = firstDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  return `${path || 'config'} (checkpoint ${JSON.stringify(a)}, this run ${JSON.stringify(b)})`;
}

export function checkResumeConfig(ckConfig: unknown, cfg: TrainConfig): void {
  const d = firstDiff(trainingIdentity(ckConfig as TrainConfig), trainingIdentity(cfg));
  if (d) throw new InputError('bad-file', `checkpoint does not match this run's configuration: ${d}`);
}

/** The tensors a checkpoint holds, by name: the model's, then one momentum buffer per parameter. */
function stateTensors(model: VicregModel, optim: CheckpointedLars): { name: string; t: Tensor }[] {
  return [...model.named().map((n) => ({ name: n.name, t: n.t })), ...model.parameters().map((p, i) => ({ name: `optim.${i}.momentum`, t: optim.momentumOf(p) }))];
}

/** Restores parameters, running statistics and momentum buffers from a checkpoint. */
export function restore(gpu: Gpu, model: VicregModel, optim: CheckpointedLars, ck: Checkpoint): void {
  const want = stateTensors(model, optim);
  if (ck.tensors.size !== want.length) throw new InputError('bad-file', `checkpoint holds ${ck.tensors.size} tensors, this model has ${want.length}`);
  for (const { name, t } of want) {
    const a = ck.tensors.get(name);
    if (!a) throw new InputError('bad-file', `checkpoint has no tensor '${name}'`);
    if (a.shape.join('x') !== t.shape.join('x')) throw new InputError('bad-file', `checkpoint tensor '${name}' is [${a.shape}], the model's is [${t.shape}]`);
  }
  for (const { name, t } of want) gpu.upload(t.buffer, ck.tensors.get(name)!.data);
}

/** Reads back the state a checkpoint holds. */
export async function snapshot(model: VicregModel, optim: CheckpointedLars): Promise<NamedArray[]> {
  const out: NamedArray[] = [];
  for (const { name, t } of stateTensors(model, optim)) out.push({ name, shape: [...t.shape], data: await t.read() });
  return out;
}
